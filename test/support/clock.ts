/**
 * Time for the tests: a wall clock they can move forward, and TOTP codes
 * used with enough of their time step left.
 *
 * `advanceClock(ms)` moves `Date.now()` forward for everything that reads it
 * at call time: the Koa adapter (verifiedAt, requireStepUp's maxAge,
 * recentVerificationMs, the gate's stateCacheMs cache), koa-session and the
 * error handler's log interval. The 2FA service and the in-memory guard
 * store took `Date.now` itself when they were built, so TOTP steps, replay
 * state and lockouts keep real time: codes are computed with `realNow()`.
 * Only for in-memory apps: the Redis guard store reads `Date.now()` to turn
 * expiry times into TTLs. Call `resetClock()` in `after`/`afterEach`.
 */
import { generateCode } from '../../src/index.ts';

const systemDateNow = Date.now;
let offsetMs = 0;

/** The real time, whatever `advanceClock` did. */
export function realNow(): number {
  return systemDateNow.call(Date);
}

/** Moves `Date.now()` forward by `ms` (cumulative) until `resetClock()`. */
export function advanceClock(ms: number): void {
  if (ms < 0) throw new RangeError('advanceClock: the clock only moves forward');
  offsetMs += ms;
  Date.now = () => systemDateNow.call(Date) + offsetMs;
}

/** Gives `Date.now` back to the system. */
export function resetClock(): void {
  offsetMs = 0;
  Date.now = systemDateNow;
}

const STEP_MS = 30_000;
/** What a helper waits for at least before the step ends: longer than any request sequence that uses one code. */
export const DEFAULT_CODE_TIME_LEFT_MS = 3_000;

/**
 * Returns at once when at least `minMs` are left in the current time step,
 * else sleeps into the next step. For code sets computed together (codes of
 * several secrets fired at once): wait once, then compute them all.
 */
export async function waitForTimeLeft(minMs = DEFAULT_CODE_TIME_LEFT_MS): Promise<void> {
  if (minMs >= STEP_MS) throw new RangeError('waitForTimeLeft: minMs must be shorter than a time step');
  for (;;) {
    const left = STEP_MS - (realNow() % STEP_MS);
    if (left >= minMs) return;
    // A few ms into the next step (a timer may fire a millisecond early).
    await new Promise((resolve) => setTimeout(resolve, left + 5));
  }
}

/**
 * The code of `secret` `offsetSteps` steps from now (-1, 0, 1 are inside the
 * default window), at a moment with at least `minMs` left in the current
 * step: when less is left it first sleeps into the next step. A code of
 * step -1 sent 2 ms before a boundary would arrive as step -2 (refused); a
 * code of step 0 used after one of step +1 would be an earlier step.
 */
export async function codeWithTimeLeft(secret: string, offsetSteps = 0, minMs = DEFAULT_CODE_TIME_LEFT_MS): Promise<string> {
  await waitForTimeLeft(minMs);
  return generateCode(secret, realNow() + offsetSteps * STEP_MS);
}
