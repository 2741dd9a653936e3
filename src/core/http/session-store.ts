/** The app's session, reached through the adapter; plain records only. */
import type { HttpRequest, SessionLike } from './types.ts';

/** The session, or an error naming the missing middleware (an integration bug, not a client's). */
export function sessionOf(req: HttpRequest): SessionLike {
  const session = req.session();
  if (!session) throw new Error('koa-two-factor needs a session middleware (koa-session, express-session) mounted before it');
  return session;
}

/** Reads and removes a one-time notice kept in the session for the next page. */
export function takeNotice(req: HttpRequest, key: string): string | undefined {
  const session = sessionOf(req);
  const notice = session[key];
  if (notice === undefined) return undefined;
  delete session[key];
  return typeof notice === 'string' ? notice : undefined;
}
