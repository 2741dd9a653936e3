/**
 * The Koa side of a request: a Koa context in the core's terms, and the
 * core's answer written back. Nothing is decided here.
 *
 * A class with getters: the gate runs on every request of the app, and most
 * of them need only the path, the session and the user, so nothing else is
 * computed (or allocated) until the core asks for it.
 */
import type { Context } from 'koa';
import type { Answer, HttpRequest, SessionLike } from '../core/http/types.ts';
import { readBody } from './body.ts';

/** What koa-session puts on `ctx.session` (its `regenerate()` keeps the data). */
type KoaSession = SessionLike & { regenerate?: () => Promise<void> };

class KoaRequest implements HttpRequest<Context> {
  constructor(readonly native: Context, private readonly getUser: (ctx: Context) => unknown) {}

  get method(): string { return this.native.method; }
  get path(): string { return this.native.path; }
  get url(): string { return this.native.originalUrl; }
  get query(): Record<string, unknown> { return this.native.query; }
  get ip(): string { return this.native.ip; }
  // Not `ctx.origin`: in Koa 3 that is the request's Origin header, not this server's origin.
  get ownOrigin(): string { return `${this.native.protocol}://${this.native.host}`; }

  header(name: string): string { return this.native.get(name); }
  readBody(): Promise<unknown> { return readBody(this.native); }
  session(): KoaSession | null { return (this.native as unknown as { session?: KoaSession | null }).session ?? null; }
  user(): unknown { return this.getUser(this.native); }
  cookie(name: string): string | undefined { return this.native.cookies.get(name, { signed: false }) ?? undefined; }

  setCookie(name: string, value: string, maxAgeMs: number): void {
    this.native.cookies.set(name, maxAgeMs > 0 ? value : '', {
      httpOnly: true, sameSite: 'lax', secure: this.native.secure, path: '/', signed: false, overwrite: true,
      ...(maxAgeMs > 0 ? { maxAge: maxAgeMs } : { expires: new Date(0) }),
    });
  }

  async regenerateSession(): Promise<boolean> {
    const session = this.session();
    if (typeof session?.regenerate !== 'function') return false;
    await session.regenerate();
    return true;
  }
}

export function toHttpRequest(ctx: Context, getUser: (ctx: Context) => unknown): HttpRequest<Context> {
  return new KoaRequest(ctx, getUser);
}

export function send(ctx: Context, answer: Answer): void {
  ctx.set(answer.headers);
  if (answer.kind === 'redirect') {
    ctx.redirect(answer.location);
  } else if (answer.kind === 'html') {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = answer.html;
  } else if (answer.kind === 'asset') {
    ctx.type = answer.contentType;
    ctx.body = answer.body;
  } else {
    ctx.body = answer.body;
  }
  ctx.status = answer.status;
}
