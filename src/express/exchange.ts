/**
 * The Express side of a request: `req`/`res` in the core's terms, and the
 * core's answer written back. Nothing is decided here.
 */
import type { Request, Response } from 'express';
import type { Answer, HttpRequest, SessionLike } from '../core/http/types.ts';
import { readBody } from './body.ts';
import { cookieFromHeader } from '../core/http/cookies.ts';

/** What express-session puts on `req.session` (its `regenerate()` starts an empty session). */
type ExpressSession = SessionLike & { regenerate?: (done: (err?: unknown) => void) => void };

function sessionOf(req: Request): ExpressSession | null {
  return (req as unknown as { session?: ExpressSession | null }).session ?? null;
}

/**
 * A new session id with the same data (passport's login included) and the
 * same cookie (its lifetime: an app's "remember me" `cookie.maxAge`), as
 * koa-session's `regenerate()` keeps them: session fixation.
 */
async function regenerateKeepingData(req: Request): Promise<boolean> {
  const session = sessionOf(req);
  if (typeof session?.regenerate !== 'function') return false;
  const data = Object.entries(session).filter(([, value]) => typeof value !== 'function');
  await new Promise<void>((resolve, reject) => session.regenerate!((err) => (err ? reject(err) : resolve())));
  const fresh = sessionOf(req);
  if (fresh) for (const [key, value] of data) fresh[key] = value;
  return true;
}

/**
 * This server's host as the browser sees it: a trusted proxy's
 * X-Forwarded-Host (as Express 5's `req.host` and Koa's `ctx.host` read it,
 * and as `req.protocol` already reads X-Forwarded-Proto), else Host.
 * Express 4's `req.host` has no port, so it is read here for both.
 */
function hostOf(req: Request): string {
  const forwarded = req.get('x-forwarded-host');
  const trust = req.app.get('trust proxy fn') as ((address: string | undefined, hop: number) => boolean) | undefined;
  if (forwarded && trust?.(req.socket.remoteAddress, 0)) return forwarded.split(',')[0]!.trim();
  return req.get('host') ?? '';
}

/** The full path whatever the mount point: the prefix and the app's paths are absolute. */
export function pathOf(req: Request): string {
  const url = req.originalUrl;
  const queryAt = url.indexOf('?');
  return queryAt === -1 ? url : url.slice(0, queryAt);
}

/** Getters, so that what the core does not ask for is never computed (the gate runs on every request). */
class ExpressRequest implements HttpRequest<Request> {
  constructor(readonly native: Request, private readonly res: Response, private readonly getUser: (req: Request) => unknown) {}

  get method(): string { return this.native.method; }
  get path(): string { return pathOf(this.native); }
  get url(): string { return this.native.originalUrl; }
  get query(): Record<string, unknown> { return this.native.query as Record<string, unknown>; }
  get ip(): string { return this.native.ip ?? ''; }
  get ownOrigin(): string { return `${this.native.protocol}://${hostOf(this.native)}`; }

  header(name: string): string { return this.native.get(name) ?? ''; }
  readBody(): Promise<unknown> { return readBody(this.native, this.res); }
  session(): ExpressSession | null { return sessionOf(this.native); }
  regenerateSession(): Promise<boolean> { return regenerateKeepingData(this.native); }
  user(): unknown { return this.getUser(this.native); }
  // No cookie-parser needed: read from the header.
  cookie(name: string): string | undefined { return cookieFromHeader(this.native.get('cookie') ?? '', name); }

  setCookie(name: string, value: string, maxAgeMs: number): void {
    const options = { httpOnly: true, sameSite: 'lax' as const, secure: this.native.secure, path: '/' };
    if (maxAgeMs > 0) this.res.cookie(name, value, { ...options, maxAge: maxAgeMs });
    else this.res.clearCookie(name, options);
  }
}

export function toHttpRequest(req: Request, res: Response, getUser: (req: Request) => unknown): HttpRequest<Request> {
  return new ExpressRequest(req, res, getUser);
}

export function send(res: Response, answer: Answer): void {
  // The app answered already (its own timeout, say) while the core waited for a store: this answer is too late.
  if (res.headersSent) return;
  res.set(answer.headers);
  if (answer.kind === 'redirect') res.redirect(answer.status, answer.location);
  else if (answer.kind === 'html') res.status(answer.status).type('text/html; charset=utf-8').send(answer.html);
  else if (answer.kind === 'asset') res.status(answer.status).type(answer.contentType).send(answer.body);
  else res.status(answer.status).json(answer.body);
}

/**
 * Runs `task` when the app ends the response, before the session middleware
 * saves the session (express-session also saves from `res.end`, and the gate
 * wraps it later, so this runs first).
 *
 * While `task` runs, the response must already count as sent, as it does
 * when express-session defers its own end: the head goes out at once, so a
 * second answer (a missing `return` after `res.status(403).json(…)`) throws
 * as Express always does instead of replacing the first; the body follows.
 */
export function beforeResponseEnds(res: Response, task: () => Promise<void>): void {
  const end = res.end as (...a: unknown[]) => Response;
  let ended = false;
  res.end = function (this: Response, ...args: unknown[]) {
    // A second end is a no-op, as Node's own is once a response has ended.
    if (ended) return this;
    ended = true;
    if (!this.headersSent) this.writeHead(this.statusCode);
    task().catch(() => {}).then(() => end.apply(this, args));
    return this;
  } as Response['end'];
}
