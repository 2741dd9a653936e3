import { expect } from 'chai';
import { addFailure, afterSuccess, emptyFailureState, refusal, type FailureState } from '../../src/core/failure-budget.ts';
import { lockoutLength, resolveLimits, type ResolvedLimits } from '../../src/core/limits.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

/** Adds `n` failures one millisecond apart from `start`; returns the lockouts they started. */
function failMany(s: FailureState, l: ResolvedLimits, n: number, start: number): number[] {
  return Array.from({ length: n }, (_, i) => addFailure(s, l, start + i));
}

describe('core/failure-budget', () => {
  const defaults = resolveLimits();

  it('allows 4 failures, and the 5th in the window starts a 15-minute lockout', () => {
    const s = emptyFailureState();
    const locks = failMany(s, defaults, 5, T0);
    expect(locks).to.deep.equal([0, 0, 0, 0, 15 * MIN]);
    expect(s.lockedUntil).to.equal(T0 + 4 + 15 * MIN);
    expect(s.lockouts).to.equal(1);
    expect(s.consecutive).to.equal(5);
  });

  it('does not refuse before the lockout', () => {
    const s = emptyFailureState();
    failMany(s, defaults, 4, T0);
    expect(refusal(s, defaults, T0 + 10, true)).to.equal(null);
    expect(refusal(s, defaults, T0 + 10, false)).to.equal(null);
  });

  it('refuses TOTP and other checks while locked, with the remaining time', () => {
    const s = emptyFailureState();
    failMany(s, defaults, 5, T0);
    const lockedAt = T0 + 4;
    expect(refusal(s, defaults, lockedAt + 1, true)).to.deep.equal({ kind: 'locked', retryAfterMs: 15 * MIN - 1 });
    expect(refusal(s, defaults, lockedAt + 1, false)).to.deep.equal({ kind: 'locked', retryAfterMs: 15 * MIN - 1 });
    expect(refusal(s, defaults, lockedAt + 15 * MIN - 1, true)).to.deep.equal({ kind: 'locked', retryAfterMs: 1 });
    expect(refusal(s, defaults, lockedAt + 15 * MIN, true)).to.equal(null);
  });

  it('gives a fresh budget of 5 once the lockout ends', () => {
    const s = emptyFailureState();
    failMany(s, defaults, 5, T0);
    const end = s.lockedUntil;
    expect(failMany(s, defaults, 4, end)).to.deep.equal([0, 0, 0, 0]);
    expect(addFailure(s, defaults, end + 4)).to.be.above(0);
  });

  it('doubles each further lockout before a success, capped at maxLockoutMs', () => {
    const s = emptyFailureState();
    const lengths: number[] = [];
    let t = T0;
    for (let k = 0; k < 9; k++) {
      const locks = failMany(s, defaults, 5, t);
      lengths.push(locks[4]!);
      t = s.lockedUntil;
    }
    expect(lengths).to.deep.equal([15, 30, 60, 120, 240, 480, 960, 1440, 1440].map((m) => m * MIN));
  });

  it('caps the backoff at a small maxLockoutMs too', () => {
    const l = resolveLimits({ maxFailures: 1, lockoutMs: 1000, maxLockoutMs: 3000 });
    const s = emptyFailureState();
    const got: number[] = [];
    let t = T0;
    for (let k = 0; k < 4; k++) {
      got.push(addFailure(s, l, t));
      t = s.lockedUntil;
    }
    expect(got).to.deep.equal([1000, 2000, 3000, 3000]);
  });

  it('starts a new window after failureWindowMs, forgetting the old failures in it', () => {
    const s = emptyFailureState();
    failMany(s, defaults, 4, T0);
    // The window started at T0; a failure 15 minutes later opens a new one.
    expect(addFailure(s, defaults, T0 + 15 * MIN)).to.equal(0);
    expect(s.inWindow).to.equal(1);
    expect(s.windowStart).to.equal(T0 + 15 * MIN);
    expect(failMany(s, defaults, 3, T0 + 15 * MIN + 1)).to.deep.equal([0, 0, 0]);
    expect(addFailure(s, defaults, T0 + 15 * MIN + 10)).to.equal(15 * MIN);
  });

  it('keeps counting within the window up to its last millisecond', () => {
    const s = emptyFailureState();
    failMany(s, defaults, 4, T0);
    expect(addFailure(s, defaults, T0 + 15 * MIN - 1)).to.equal(15 * MIN);
  });

  it('counts consecutive failures across windows and lockouts', () => {
    const s = emptyFailureState();
    failMany(s, defaults, 4, T0);
    failMany(s, defaults, 3, T0 + 20 * MIN);
    expect(s.consecutive).to.equal(7);
  });

  it('refuses TOTP at the hard cap but still lets other checks through', () => {
    const l = resolveLimits({ maxFailures: 3, hardCap: 6, lockoutMs: 1000 });
    const s = emptyFailureState();
    failMany(s, l, 3, T0);
    failMany(s, l, 3, s.lockedUntil);
    expect(s.consecutive).to.equal(6);
    const after = s.lockedUntil;
    expect(refusal(s, l, after, true)).to.deep.equal({ kind: 'capped' });
    expect(refusal(s, l, after, false)).to.equal(null);
    // While locked, the lockout is reported first.
    expect(refusal(s, l, after - 1, true)).to.deep.equal({ kind: 'locked', retryAfterMs: 1 });
  });

  it('reaches the default hard cap at 100 consecutive failures', () => {
    const s = emptyFailureState();
    let t = T0;
    while (s.consecutive < 99) {
      addFailure(s, defaults, t);
      t = Math.max(t + 1, s.lockedUntil);
    }
    expect(refusal(s, defaults, t, true)).to.equal(null);
    addFailure(s, defaults, t);
    t = Math.max(t + 1, s.lockedUntil);
    expect(s.consecutive).to.equal(100);
    expect(refusal(s, defaults, t, true)).to.deep.equal({ kind: 'capped' });
    expect(refusal(s, defaults, t, false)).to.equal(null);
  });

  describe('afterSuccess', () => {
    it('forgets everything when there was no lockout', () => {
      const s = emptyFailureState();
      failMany(s, defaults, 4, T0);
      expect(afterSuccess(s)).to.equal(null);
      expect(afterSuccess(emptyFailureState())).to.equal(null);
    });

    it('starts the window, the hard-cap count and any lockout over, but keeps the lockout count', () => {
      const s = emptyFailureState();
      failMany(s, defaults, 5, T0);
      failMany(s, defaults, 5, s.lockedUntil);
      const kept = afterSuccess(s);
      expect(kept).to.deep.equal({ windowStart: 0, inWindow: 0, consecutive: 0, lockouts: 2, lockedUntil: 0 });
      // It is a new object: the old state is not changed.
      expect(s.lockouts).to.equal(2);
      expect(s.consecutive).to.equal(10);
    });

    it('makes the next lockout after a success double rather than start at lockoutMs again', () => {
      const s = emptyFailureState();
      failMany(s, defaults, 5, T0);
      const kept = afterSuccess(s)!;
      const t = s.lockedUntil + MIN;
      expect(refusal(kept, defaults, t, true)).to.equal(null);
      expect(failMany(kept, defaults, 5, t)).to.deep.equal([0, 0, 0, 0, 30 * MIN]);
    });

    it('lifts the hard cap', () => {
      const l = resolveLimits({ maxFailures: 3, hardCap: 3, lockoutMs: 1000 });
      const s = emptyFailureState();
      failMany(s, l, 3, T0);
      expect(refusal(s, l, s.lockedUntil, true)).to.deep.equal({ kind: 'capped' });
      expect(refusal(afterSuccess(s)!, l, s.lockedUntil, true)).to.equal(null);
    });
  });

  describe('limits', () => {
    it('has the documented defaults', () => {
      expect(defaults).to.deep.equal({
        maxFailures: 5,
        failureWindowMs: 15 * MIN,
        lockoutMs: 15 * MIN,
        maxLockoutMs: 24 * 60 * MIN,
        hardCap: 100,
        failureMemoryMs: 90 * 24 * 60 * MIN,
        ipMaxFailures: 50,
        ipWindowMs: 15 * MIN,
      });
    });

    it('lockoutLength doubles from lockoutMs and stops at maxLockoutMs', () => {
      expect([1, 2, 3, 7, 8, 50].map((k) => lockoutLength(k, defaults))).to.deep.equal(
        [15, 30, 60, 960, 1440, 1440].map((m) => m * MIN),
      );
    });

    it('rejects negative, fractional, zero maxFailures and hardCap below maxFailures', () => {
      expect(() => resolveLimits({ maxFailures: -1 })).to.throw(RangeError);
      expect(() => resolveLimits({ lockoutMs: 1.5 })).to.throw(RangeError);
      expect(() => resolveLimits({ maxFailures: 0 })).to.throw(RangeError);
      expect(() => resolveLimits({ maxFailures: 5, hardCap: 4 })).to.throw(RangeError);
      expect(() => resolveLimits({ ipMaxFailures: 0 })).to.not.throw();
    });
  });
});
