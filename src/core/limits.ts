/**
 * The failure budget: how many wrong codes an account and an IP may send.
 * The README's security section shows the guessing odds these give.
 */

/** Options of the per-user failure budget and the per-IP limit. */
export interface LimitOptions {
  /** Failures allowed per user within `failureWindowMs` before a lockout. */
  maxFailures?: number | undefined;
  /** Length of the window the failures are counted in. */
  failureWindowMs?: number | undefined;
  /** First lockout; each further lockout before a success doubles it. */
  lockoutMs?: number | undefined;
  /** Longest single lockout. */
  maxLockoutMs?: number | undefined;
  /** Consecutive failures after which TOTP is refused until a backup code or an admin reset. */
  hardCap?: number | undefined;
  /** How long failure history is kept after the last failure (the hard cap's memory). */
  failureMemoryMs?: number | undefined;
  /**
   * Wrong codes or passwords allowed per client IP within `ipWindowMs`, across
   * all users. Each attempt is counted before it is judged (so a parallel
   * burst cannot overshoot) and a right one is taken back. 0 turns it off.
   */
  ipMaxFailures?: number | undefined;
  /** Window of the per-IP limit. */
  ipWindowMs?: number | undefined;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** 5 per 15 minutes: the product contract's default budget. */
export const DEFAULT_MAX_FAILURES = 5;
export const DEFAULT_FAILURE_WINDOW_MS = 15 * MINUTE;
/** The first lockout lasts as long as the window, then doubles: 15 min, 30 min, 1 h… */
export const DEFAULT_LOCKOUT_MS = 15 * MINUTE;
export const DEFAULT_MAX_LOCKOUT_MS = DAY;
/** NIST SP 800-63B §5.2.2: no more than 100 consecutive failed attempts. */
export const DEFAULT_HARD_CAP = 100;
/** Long enough that reaching the hard cap takes an attacker weeks, not a key expiry. */
export const DEFAULT_FAILURE_MEMORY_MS = 90 * DAY;
/** Enough for a shared office NAT; stops one IP spraying one guess at each of many accounts. */
export const DEFAULT_IP_MAX_FAILURES = 50;
export const DEFAULT_IP_WINDOW_MS = 15 * MINUTE;

export type ResolvedLimits = Required<{ [K in keyof LimitOptions]: number }>;

export function resolveLimits(o: LimitOptions = {}): ResolvedLimits {
  const r: ResolvedLimits = {
    maxFailures: o.maxFailures ?? DEFAULT_MAX_FAILURES,
    failureWindowMs: o.failureWindowMs ?? DEFAULT_FAILURE_WINDOW_MS,
    lockoutMs: o.lockoutMs ?? DEFAULT_LOCKOUT_MS,
    maxLockoutMs: o.maxLockoutMs ?? DEFAULT_MAX_LOCKOUT_MS,
    hardCap: o.hardCap ?? DEFAULT_HARD_CAP,
    failureMemoryMs: o.failureMemoryMs ?? DEFAULT_FAILURE_MEMORY_MS,
    ipMaxFailures: o.ipMaxFailures ?? DEFAULT_IP_MAX_FAILURES,
    ipWindowMs: o.ipWindowMs ?? DEFAULT_IP_WINDOW_MS,
  };
  for (const [k, v] of Object.entries(r)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`limits.${k} must be a non-negative integer`);
  }
  if (r.maxFailures < 1 || r.hardCap < r.maxFailures) throw new RangeError('limits: need 1 <= maxFailures <= hardCap');
  return r;
}

/** Length of the k-th lockout (k = 1, 2, …) since the last success. */
export function lockoutLength(k: number, l: ResolvedLimits): number {
  return Math.min(l.lockoutMs * 2 ** Math.max(0, k - 1), l.maxLockoutMs);
}

/** Clock skew between app servers (ms) the replay memory allows for: used time steps are kept this much longer than the window they are valid in. */
export const STEP_TTL_SKEW_MS = 30_000;
