/**
 * The 2FA namespace inside the app's session. It is bound to a user id: a
 * session whose user changed starts from nothing, so a verified flag never
 * carries over to another account.
 */
import type { Context } from 'koa';
import type { TwoFactorState } from '../core/state.ts';

export interface TwoFactorSession {
  /** The user this state belongs to. */
  uid: string;
  /** When the second factor was passed (ms), absent until then. */
  verifiedAt?: number;
  method?: 'totp' | 'backup';
  /** The user's generation when verified; a bump elsewhere unverifies. */
  generation?: number;
  /** Cached 2FA state and when it was read (ms). */
  state?: TwoFactorState;
  checkedAt?: number;
}

/** What koa-session (or a compatible middleware) puts on `ctx.session`. */
export interface SessionLike {
  [key: string]: unknown;
  regenerate?: () => Promise<void>;
}

export function sessionOf(ctx: Context): SessionLike {
  const session = (ctx as unknown as { session?: SessionLike | null }).session;
  if (!session) throw new Error('koa-two-factor needs a session middleware (koa-session) mounted before it');
  return session;
}

export function readState(ctx: Context, key: string, uid: string): TwoFactorSession {
  const session = sessionOf(ctx);
  const current = session[key] as TwoFactorSession | undefined;
  if (current && typeof current === 'object' && current.uid === uid) return current;
  const fresh: TwoFactorSession = { uid };
  session[key] = fresh;
  return fresh;
}

export function writeState(ctx: Context, key: string, state: TwoFactorSession): void {
  sessionOf(ctx)[key] = state;
}

export function isVerified(s: TwoFactorSession): boolean {
  return typeof s.verifiedAt === 'number';
}

/**
 * Marks the session as having passed the second factor, rotating its id first
 * (session fixation). koa-session keeps the data across `regenerate()`, so the
 * namespace is rewritten afterwards.
 */
export async function markVerified(ctx: Context, key: string, uid: string, method: 'totp' | 'backup', generation: number, now: number): Promise<void> {
  const session = sessionOf(ctx);
  if (typeof session.regenerate === 'function') await session.regenerate();
  const s: TwoFactorSession = { uid, verifiedAt: now, method, generation, state: 'active', checkedAt: now };
  writeState(ctx, key, s);
}
