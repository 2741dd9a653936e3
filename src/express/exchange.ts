/**
 * The Express side of a request: `req`/`res` in the core's terms, and the
 * core's answer written back. Nothing is decided here.
 */
import type { Request, Response } from 'express';
import type { Answer, HttpRequest, SessionLike } from '../core/http/types.ts';
import { readBody } from './body.ts';

/** What express-session puts on `req.session` (its `regenerate()` starts an empty session). */
type ExpressSession = SessionLike & { regenerate?: (done: (err?: unknown) => void) => void };

function sessionOf(req: Request): ExpressSession | null {
  return (req as unknown as { session?: ExpressSession | null }).session ?? null;
}

/** A new session id with the same data (passport's login included): session fixation. */
async function regenerateKeepingData(req: Request): Promise<void> {
  const session = sessionOf(req);
  if (typeof session?.regenerate !== 'function') return;
  const data = Object.entries(session).filter(([key, value]) => key !== 'cookie' && typeof value !== 'function');
  await new Promise<void>((resolve, reject) => session.regenerate!((err) => (err ? reject(err) : resolve())));
  const fresh = sessionOf(req);
  if (fresh) for (const [key, value] of data) fresh[key] = value;
}

export function toHttpRequest(req: Request, res: Response, getUser: (req: Request) => unknown): HttpRequest<Request> {
  const url = req.originalUrl;
  const queryAt = url.indexOf('?');
  return {
    method: req.method,
    // The full path whatever the mount point: the prefix and the app's paths are absolute.
    path: queryAt === -1 ? url : url.slice(0, queryAt),
    url,
    query: req.query as Record<string, unknown>,
    header: (name) => req.get(name) ?? '',
    ip: req.ip ?? '',
    ownOrigin: `${req.protocol}://${req.get('host') ?? ''}`,
    readBody: () => readBody(req, res),
    session: () => sessionOf(req),
    regenerateSession: () => regenerateKeepingData(req),
    user: () => getUser(req),
    native: req,
  };
}

export function send(res: Response, answer: Answer): void {
  res.set(answer.headers);
  if (answer.kind === 'redirect') res.redirect(answer.status, answer.location);
  else if (answer.kind === 'html') res.status(answer.status).type('text/html; charset=utf-8').send(answer.html);
  else res.status(answer.status).json(answer.body);
}

/**
 * Runs `task` when the app ends the response, before the session middleware
 * saves the session (express-session also saves from `res.end`, and the gate
 * wraps it later, so this runs first).
 */
export function beforeResponseEnds(res: Response, task: () => Promise<void>): void {
  const end = res.end;
  let ran = false;
  res.end = function (this: Response, ...args: unknown[]) {
    if (ran) return (end as (...a: unknown[]) => Response).apply(this, args);
    ran = true;
    task().catch(() => {}).then(() => (end as (...a: unknown[]) => Response).apply(this, args));
    return this;
  } as Response['end'];
}
