/**
 * The Koa side of a request: a Koa context in the core's terms, and the
 * core's answer written back. Nothing is decided here.
 */
import type { Context } from 'koa';
import type { Answer, HttpRequest, SessionLike } from '../core/http/types.ts';
import { readBody } from './body.ts';

/** What koa-session puts on `ctx.session` (its `regenerate()` keeps the data). */
type KoaSession = SessionLike & { regenerate?: () => Promise<void> };

function sessionOf(ctx: Context): KoaSession | null {
  return (ctx as unknown as { session?: KoaSession | null }).session ?? null;
}

export function toHttpRequest(ctx: Context, getUser: (ctx: Context) => unknown): HttpRequest<Context> {
  return {
    method: ctx.method,
    path: ctx.path,
    url: ctx.originalUrl,
    query: ctx.query,
    header: (name) => ctx.get(name),
    ip: ctx.ip,
    // Not `ctx.origin`: in Koa 3 that is the request's Origin header, not this server's origin.
    ownOrigin: `${ctx.protocol}://${ctx.host}`,
    readBody: () => readBody(ctx),
    session: () => sessionOf(ctx),
    async regenerateSession() {
      const session = sessionOf(ctx);
      if (typeof session?.regenerate === 'function') await session.regenerate();
    },
    user: () => getUser(ctx),
    native: ctx,
  };
}

export function send(ctx: Context, answer: Answer): void {
  ctx.set(answer.headers);
  if (answer.kind === 'redirect') {
    ctx.redirect(answer.location);
  } else if (answer.kind === 'html') {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = answer.html;
  } else {
    ctx.body = answer.body;
  }
  ctx.status = answer.status;
}
