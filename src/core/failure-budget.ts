/**
 * The failure-budget rules as pure functions over a small state. The
 * in-memory guard store runs these; the Redis guard store runs the same rules
 * in Lua (src/stores/redis-scripts.ts), so both stores behave alike.
 */
import { lockoutLength, type ResolvedLimits } from './limits.ts';

export interface FailureState {
  /** Start of the current counting window (ms). */
  windowStart: number;
  /** Failures in the current window. */
  inWindow: number;
  /** Failures since the last success (hard cap). */
  consecutive: number;
  /** Lockouts since the last success (backoff exponent). */
  lockouts: number;
  /** Locked until this time (ms); 0 when not locked. */
  lockedUntil: number;
}

export function emptyFailureState(): FailureState {
  return { windowStart: 0, inWindow: 0, consecutive: 0, lockouts: 0, lockedUntil: 0 };
}

/** Why a code may not even be judged now, or null when it may. */
export function refusal(s: FailureState, l: ResolvedLimits, now: number, totp: boolean):
  { kind: 'locked'; retryAfterMs: number } | { kind: 'capped' } | null {
  if (s.lockedUntil > now) return { kind: 'locked', retryAfterMs: s.lockedUntil - now };
  if (totp && s.consecutive >= l.hardCap) return { kind: 'capped' };
  return null;
}

/** Counts one failure; returns the lockout it started (ms), 0 when none. */
export function addFailure(s: FailureState, l: ResolvedLimits, now: number): number {
  if (now - s.windowStart >= l.failureWindowMs) {
    s.windowStart = now;
    s.inWindow = 0;
  }
  s.inWindow += 1;
  s.consecutive += 1;
  if (s.inWindow < l.maxFailures) return 0;
  s.lockouts += 1;
  const lock = lockoutLength(s.lockouts, l);
  s.lockedUntil = now + lock;
  // The budget after a lockout starts afresh once it ends.
  s.windowStart = now + lock;
  s.inWindow = 0;
  return lock;
}

/**
 * The state after a successful second factor, or null when nothing is left
 * to remember. The window and the consecutive count (hard cap) start over;
 * the lockout count is kept (for `failureMemoryMs` after the last success
 * or failure), so an attacker cannot get a short lockout again each time the
 * real user logs in: the next lockout still doubles.
 */
export function afterSuccess(s: FailureState): FailureState | null {
  return s.lockouts > 0 ? { ...emptyFailureState(), lockouts: s.lockouts } : null;
}

/**
 * Takes back one counted failure (it was judged and passed). When that
 * failure started the lockout still in force (`startedLock`), the lockout
 * goes too: the backoff level steps back and the window restarts at the
 * attempt's time one failure short of the limit. The old window start is
 * gone, so restarting it then is the closest state that is never more
 * lenient than before the attempt.
 */
export function refund(s: FailureState, startedLock?: { now: number; lockedForMs: number; limits: ResolvedLimits }): void {
  s.consecutive = Math.max(0, s.consecutive - 1);
  if (startedLock && startedLock.lockedForMs > 0 && s.lockedUntil === startedLock.now + startedLock.lockedForMs) {
    s.lockouts = Math.max(0, s.lockouts - 1);
    s.lockedUntil = 0;
    s.windowStart = startedLock.now;
    s.inWindow = startedLock.limits.maxFailures - 1;
    return;
  }
  s.inWindow = Math.max(0, s.inWindow - 1);
}
