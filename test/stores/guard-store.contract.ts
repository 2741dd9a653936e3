/**
 * The GuardStore contract: every implementation (memory, Redis, Redis
 * Cluster) runs these same tests. Times passed as `now` are real (around
 * Date.now()), because stores also expire state with the real clock.
 */
import { expect } from 'chai';
import { resolveLimits } from '../../src/core/limits.ts';
import { EMAIL_CODE_DEVICE, type GuardStore, type PasskeyChallenge, type PendingEnrolment, type RememberedBrowser, type StepCandidate } from '../../src/core/store-types.ts';
import type { StoreHandle } from './record-store.contract.ts';
import { waitUntil } from '../support/parallel.ts';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * TTLs of the expiry tests: state written with it must still be there when
 * read right after (on a loaded machine too), then is polled until it goes.
 */
const SHORT_TTL_MS = 1_000;
/** How long expired state may linger before the poll gives up. */
const EXPIRY_WITHIN_MS = SHORT_TTL_MS + 5_000;
/** Clock reads of two processes (Node, Redis) around one instant. */
const CLOCK_SLACK_MS = 5;

/** Long enough that nothing expires during a test, as the service computes it for window 1. */
const STEP_TTL = 3 * 30_000 + 30_000;
/** Small budget: lock on the 3rd failure for 1 s, doubling to at most 4 s; hard cap 6. */
const LIMITS = resolveLimits({ maxFailures: 3, failureWindowMs: 10_000, lockoutMs: 1_000, maxLockoutMs: 4_000, hardCap: 6, ipWindowMs: 60_000 });

function enrolment(userId: string, id: string, expiresAt: number): PendingEnrolment {
  return { id, userId, name: 'Phone', sealedSecret: `v1.k.iv.tag.${id}`, createdAt: expiresAt - 600_000, expiresAt };
}

export function guardStoreContract(name: string, makeStore: () => Promise<StoreHandle<GuardStore>>): void {
  describe(`${name}: GuardStore contract`, () => {
    let store: GuardStore;
    let cleanup: (() => Promise<void>) | undefined;
    /** A real "now" taken at the start of each test; later moments are offsets from it. */
    let t: number;
    /** A time step near t (the exact value does not matter to the store). */
    let S: number;

    beforeEach(async () => {
      const made = await makeStore();
      store = made.store;
      cleanup = made.cleanup;
      t = Date.now();
      S = Math.floor(t / 30_000);
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    const attempt = (userId: string, candidates: StepCandidate[], now: number, countFailure = true, limits = LIMITS) =>
      store.attemptTotp(userId, candidates, limits, now, STEP_TTL, countFailure);
    const fail = (userId: string, now: number, limits = LIMITS) => attempt(userId, [], now, true, limits);

    describe('enrolments', () => {
      it('saves, gets and deletes a pending enrolment', async () => {
        const e = enrolment('u', 'e1', t + 600_000);
        await store.saveEnrolment(e);
        expect(await store.getEnrolment('u', 'e1')).to.deep.equal(e);
        await store.deleteEnrolment('u', 'e1');
        expect(await store.getEnrolment('u', 'e1')).to.equal(null);
        await store.deleteEnrolment('u', 'e1');
      });

      it('returns null for an unknown id or another user\'s enrolment', async () => {
        await store.saveEnrolment(enrolment('u', 'e1', t + 600_000));
        expect(await store.getEnrolment('u', 'e2')).to.equal(null);
        expect(await store.getEnrolment('other', 'e1')).to.equal(null);
      });

      it('keeps several enrolments of one user apart', async () => {
        await store.saveEnrolment(enrolment('u', 'e1', t + 600_000));
        await store.saveEnrolment(enrolment('u', 'e2', t + 600_000));
        await store.deleteEnrolment('u', 'e1');
        expect(await store.getEnrolment('u', 'e2')).to.deep.equal(enrolment('u', 'e2', t + 600_000));
      });

      it('forgets an enrolment at its expiresAt', async () => {
        const e = enrolment('u', 'e1', Date.now() + SHORT_TTL_MS);
        await store.saveEnrolment(e);
        expect(await store.getEnrolment('u', 'e1')).to.deep.equal(e);
        await waitUntil(async () => (await store.getEnrolment('u', 'e1')) === null, EXPIRY_WITHIN_MS, 25);
        expect(Date.now()).to.be.at.least(e.expiresAt - CLOCK_SLACK_MS);
      });
    });

    describe('passkey challenges', () => {
      const challenge = (userId: string, binding: string, value: string, expiresAt: number): PasskeyChallenge => ({ challenge: value, userId, binding, purpose: 'authenticate', expiresAt });

      it('gives a challenge back once, to its user, session binding and purpose only', async () => {
        const c = challenge('u', 'b1', 'c'.repeat(43), t + 300_000);
        await store.saveChallenge(c);
        expect(await store.takeChallenge('other', 'b1', 'authenticate', c.challenge), 'another user').to.equal(null);
        expect(await store.takeChallenge('u', 'b2', 'authenticate', c.challenge), 'another session').to.equal(null);
        expect(await store.takeChallenge('u', 'b1', 'register', c.challenge), 'another purpose').to.equal(null);
        expect(await store.takeChallenge('u', 'b1', 'authenticate', 'x'.repeat(43)), 'another challenge').to.equal(null);
        expect(await store.takeChallenge('u', 'b1', 'authenticate', c.challenge), 'none of that used it up').to.deep.equal(c);
        expect(await store.takeChallenge('u', 'b1', 'authenticate', c.challenge), 'used').to.equal(null);
      });

      it('keeps one live challenge per session and purpose: a newer one replaces the older', async () => {
        const older = challenge('u', 'b', 'o'.repeat(43), t + 300_000);
        const newer = challenge('u', 'b', 'n'.repeat(43), t + 300_000);
        await store.saveChallenge(older);
        await store.saveChallenge(newer);
        expect(await store.takeChallenge('u', 'b', 'authenticate', older.challenge)).to.equal(null);
        expect(await store.takeChallenge('u', 'b', 'authenticate', newer.challenge)).to.deep.equal(newer);
      });

      it('of 50 concurrent takes of one challenge, exactly one gets it', async () => {
        const c = challenge('u', 'b', 'r'.repeat(43), t + 300_000);
        await store.saveChallenge(c);
        const taken = await Promise.all(Array.from({ length: 50 }, () => store.takeChallenge('u', 'b', 'authenticate', c.challenge)));
        expect(taken.filter((x) => x !== null)).to.have.length(1);
      });

      it('forgets a challenge at its expiresAt', async () => {
        const c = challenge('u', 'b', 'e'.repeat(43), Date.now() + SHORT_TTL_MS);
        await store.saveChallenge(c);
        // Taking consumes, so no polling: wait past the expiry (both stores check it on access), then take.
        await new Promise((resolve) => setTimeout(resolve, SHORT_TTL_MS + 100));
        expect(await store.takeChallenge('u', 'b', 'authenticate', c.challenge)).to.equal(null);
      });
    });

    describe('attemptTotp replay protection', () => {
      it('accepts a step once per device and refuses a replay or an earlier step', async () => {
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t)).to.deep.equal({ kind: 'accepted', deviceId: 'd1', step: S });
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await attempt('u', [{ deviceId: 'd1', step: S - 1 }], t + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await attempt('u', [{ deviceId: 'd1', step: S + 1 }], t + 3)).to.deep.equal({ kind: 'accepted', deviceId: 'd1', step: S + 1 });
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 4)).to.deep.include({ kind: 'rejected' });
      });

      it('keeps separate replay state for two devices', async () => {
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t)).to.deep.include({ kind: 'accepted', deviceId: 'd1' });
        expect(await attempt('u', [{ deviceId: 'd2', step: S }], t)).to.deep.include({ kind: 'accepted', deviceId: 'd2' });
        expect(await attempt('u', [{ deviceId: 'd2', step: S }], t)).to.deep.include({ kind: 'rejected' });
      });

      it('keeps separate replay state for two users', async () => {
        expect(await attempt('u1', [{ deviceId: 'd', step: S }], t)).to.deep.include({ kind: 'accepted' });
        expect(await attempt('u2', [{ deviceId: 'd', step: S }], t)).to.deep.include({ kind: 'accepted' });
      });

      it('claims the first candidate that is still fresh', async () => {
        await attempt('u', [{ deviceId: 'd1', step: S }], t);
        const out = await attempt('u', [{ deviceId: 'd1', step: S }, { deviceId: 'd2', step: S }, { deviceId: 'd3', step: S }], t);
        expect(out).to.deep.equal({ kind: 'accepted', deviceId: 'd2', step: S });
        // d3 was not claimed by that attempt.
        expect(await attempt('u', [{ deviceId: 'd3', step: S }], t)).to.deep.include({ kind: 'accepted', deviceId: 'd3' });
      });

      it('lets exactly one of 50 concurrent attempts with the same candidate through', async () => {
        const limits = resolveLimits({ maxFailures: 100, hardCap: 100 });
        const outs = await Promise.all(Array.from({ length: 50 }, () => attempt('u', [{ deviceId: 'd1', step: S }], t, true, limits)));
        expect(outs.filter((o) => o.kind === 'accepted')).to.have.length(1);
        expect(outs.filter((o) => o.kind === 'rejected')).to.have.length(49);
      });

      it('lets exactly one of 50 concurrent attempts through even when failures lock the user', async () => {
        const outs = await Promise.all(Array.from({ length: 50 }, () => attempt('u', [{ deviceId: 'd1', step: S }], t)));
        expect(outs.filter((o) => o.kind === 'accepted')).to.have.length(1);
      });

      it('does not count a rejected attempt when countFailure is false', async () => {
        await attempt('u', [{ deviceId: 'd1', step: S }], t);
        for (let i = 0; i < LIMITS.maxFailures + 2; i++) {
          expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + i, false)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        }
        expect(await store.lockRemaining('u', t + 10)).to.equal(0);
        expect(await attempt('u', [{ deviceId: 'd1', step: S + 1 }], t + 10)).to.deep.include({ kind: 'accepted' });
      });

      it('forgets the steps after stepTtlMs', async () => {
        const now = Date.now();
        expect(await store.attemptTotp('u', [{ deviceId: 'd1', step: S }], LIMITS, now, SHORT_TTL_MS, true)).to.deep.include({ kind: 'accepted' });
        expect(await store.attemptTotp('u', [{ deviceId: 'd1', step: S }], LIMITS, now, SHORT_TTL_MS, false)).to.deep.include({ kind: 'rejected' });
        // Probes that are not counted as failures, until the step is accepted again.
        await waitUntil(async () => (await store.attemptTotp('u', [{ deviceId: 'd1', step: S }], LIMITS, Date.now(), SHORT_TTL_MS, false)).kind === 'accepted', EXPIRY_WITHIN_MS, 25);
        expect(Date.now()).to.be.at.least(now + SHORT_TTL_MS - CLOCK_SLACK_MS);
      });
    });

    describe('failure budget', () => {
      it('counts failures to a lockout at maxFailures', async () => {
        expect(await fail('u', t)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await store.lockRemaining('u', t + 1)).to.equal(0);
        expect(await fail('u', t + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
        expect(await store.lockRemaining('u', t + 2)).to.equal(1_000);
        expect(await store.lockRemaining('u', t + 502)).to.equal(500);
        expect(await store.lockRemaining('u', t + 1_002)).to.equal(0);
      });

      it('counts a replayed code as a failure', async () => {
        await attempt('u', [{ deviceId: 'd1', step: S }], t);
        await attempt('u', [{ deviceId: 'd1', step: S }], t + 1);
        await attempt('u', [{ deviceId: 'd1', step: S - 1 }], t + 2);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
      });

      it('refuses even a valid candidate while locked, with the time left', async () => {
        for (let i = 0; i < 3; i++) await fail('u', t + i);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 100)).to.deep.equal({ kind: 'locked', retryAfterMs: 902 });
        // The refused step was not claimed: it works once the lockout is over.
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 1_002)).to.deep.include({ kind: 'accepted' });
      });

      it('starts the budget over on recordSuccess: no lockout, a fresh window', async () => {
        for (let i = 0; i < 3; i++) await fail('u', t + i);
        await store.recordSuccess('u', LIMITS, t + 5);
        expect(await store.lockRemaining('u', t + 10)).to.equal(0);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 10)).to.deep.include({ kind: 'accepted' });
        // A fresh window: two more failures do not lock.
        await fail('u', t + 11);
        expect(await fail('u', t + 12)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });

      it('keeps the backoff level across a success: the next lockout still doubles', async () => {
        for (let i = 0; i < 3; i++) await fail('u', t + i);
        await store.recordSuccess('u', LIMITS, t + 5);
        for (let i = 0; i < 2; i++) await fail('u', t + 10 + i);
        expect(await fail('u', t + 12)).to.deep.equal({ kind: 'rejected', lockedForMs: 2_000 });
      });

      it('keeps the backoff level across an accepted code too', async () => {
        for (let i = 0; i < 3; i++) await fail('u', t + i);
        const end = t + 2 + 1_000;
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], end)).to.deep.include({ kind: 'accepted' });
        await fail('u', end + 1);
        await fail('u', end + 2);
        expect(await fail('u', end + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 2_000 });
      });

      it('resets the hard-cap count on a success', async () => {
        // 5 failures (one lockout), a success, then 5 more: 10 failures in all, never 6 in a row.
        const limits = resolveLimits({ maxFailures: 5, lockoutMs: 1_000, hardCap: 6 });
        for (let i = 0; i < 5; i++) await fail('u', t + i, limits);
        await store.recordSuccess('u', limits, t + 1_004);
        for (let i = 0; i < 4; i++) await fail('u', t + 1_005 + i, limits);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 1_010, true, limits)).to.deep.include({ kind: 'accepted' });
      });

      it('recordSuccess with no failure history leaves nothing behind', async () => {
        await store.recordSuccess('u', LIMITS, t);
        expect(await store.lockRemaining('u', t)).to.equal(0);
        expect(await fail('u', t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });

      it('clears the failures on an accepted code', async () => {
        await fail('u', t);
        await fail('u', t + 1);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 2)).to.deep.include({ kind: 'accepted' });
        expect(await fail('u', t + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', t + 4)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });

      it('shares one budget between recordFailure and attemptTotp', async () => {
        expect(await store.recordFailure('u', LIMITS, t)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await store.recordFailure('u', LIMITS, t + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
        expect(await store.recordFailure('u', LIMITS, t + 3)).to.deep.equal({ kind: 'locked', retryAfterMs: 999 });
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 4)).to.deep.equal({ kind: 'locked', retryAfterMs: 998 });
      });

      it('takes back one counted failure on refundFailure', async () => {
        await store.recordFailure('u', LIMITS, t);
        await store.recordFailure('u', LIMITS, t + 1);
        await store.refundFailure('u');
        expect(await store.recordFailure('u', LIMITS, t + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await store.recordFailure('u', LIMITS, t + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
      });

      it('stops a right password from locking its owner out: refundFailure undoes the lockout that attempt started', async () => {
        await store.recordFailure('u', LIMITS, t);
        await store.recordFailure('u', LIMITS, t + 1);
        expect(await store.recordFailure('u', LIMITS, t + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
        await store.refundFailure('u', { now: t + 2, lockedForMs: 1_000, limits: LIMITS });
        expect(await store.lockRemaining('u', t + 3)).to.equal(0);
        // As before that attempt: one failure short of the limit, and the first lockout, not a doubled one.
        expect(await store.recordFailure('u', LIMITS, t + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
      });

      it('leaves a lockout alone that the refunded attempt did not start', async () => {
        for (let i = 0; i < 3; i++) await store.recordFailure('u', LIMITS, t + i);
        // Not this lockout (it began at t + 2): only the failure is taken back.
        await store.refundFailure('u', { now: t + 1, lockedForMs: 1_000, limits: LIMITS });
        expect(await store.lockRemaining('u', t + 3)).to.equal(999);
      });

      it('keeps each user\'s budget apart', async () => {
        for (let i = 0; i < 3; i++) await fail('u1', t + i);
        expect(await store.lockRemaining('u1', t + 3)).to.be.above(0);
        expect(await store.lockRemaining('u2', t + 3)).to.equal(0);
        expect(await attempt('u2', [{ deviceId: 'd1', step: S }], t + 3)).to.deep.include({ kind: 'accepted' });
      });

      it('starts a new window after failureWindowMs', async () => {
        await fail('u', t);
        await fail('u', t + 1);
        // 10 s later the window has moved on: two more failures, no lockout yet.
        expect(await fail('u', t + 10_000)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', t + 10_001)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', t + 10_002)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
      });

      it('doubles each further lockout up to maxLockoutMs', async () => {
        const limits = resolveLimits({ maxFailures: 1, lockoutMs: 1_000, maxLockoutMs: 3_000, hardCap: 10 });
        const got: number[] = [];
        let now = t;
        for (let k = 0; k < 4; k++) {
          const out = await fail('u', now, limits);
          expect(out.kind).to.equal('rejected');
          const lock = out.kind === 'rejected' ? out.lockedForMs : -1;
          got.push(lock);
          now += lock;
        }
        expect(got).to.deep.equal([1_000, 2_000, 3_000, 3_000]);
      });

      it('gives a fresh window when a lockout ends', async () => {
        for (let i = 0; i < 3; i++) await fail('u', t + i);
        const end = t + 2 + 1_000;
        expect(await fail('u', end)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', end + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', end + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 2_000 });
      });

      it('at the hard cap answers capped to attemptTotp, while recordFailure and lockRemaining still work', async () => {
        // Two lockouts of 3 failures: 6 consecutive failures = hardCap.
        for (let i = 0; i < 3; i++) await fail('u', t + i);
        const second = t + 2 + 1_000;
        for (let i = 0; i < 3; i++) await fail('u', second + i);
        const after = second + 2 + 2_000;
        expect(await store.lockRemaining('u', after)).to.equal(0);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], after)).to.deep.equal({ kind: 'capped' });
        expect(await attempt('u', [], after + 1)).to.deep.equal({ kind: 'capped' });
        // Still locked before that: the lockout is reported first.
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], after - 1)).to.deep.equal({ kind: 'locked', retryAfterMs: 1 });
        // Non-TOTP checks are still judged and counted.
        expect(await store.recordFailure('u', LIMITS, after + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await store.recordFailure('u', LIMITS, after + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await store.recordFailure('u', LIMITS, after + 4)).to.deep.equal({ kind: 'rejected', lockedForMs: 4_000 });
        expect(await store.lockRemaining('u', after + 5)).to.equal(3_999);
        // A success (backup code) lifts the cap.
        await store.recordSuccess('u', LIMITS, after + 5);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], after + 6)).to.deep.include({ kind: 'accepted' });
      });

      it('forgets the failure history after failureMemoryMs', async () => {
        const limits = resolveLimits({ maxFailures: 3, failureWindowMs: 60_000, failureMemoryMs: 200 });
        const now = Date.now();
        await fail('u', now, limits);
        await fail('u', now + 1, limits);
        // Nothing is checked before the wait, so a slow machine cannot fail it; after it, the
        // history is certainly past its memory (a timer never fires more than 1 ms early).
        await sleep(200 + 100);
        const later = Date.now();
        expect(await fail('u', later, limits)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', later + 1, limits)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });
    });

    describe('resetUser', () => {
      it('clears the replay steps and the failures', async () => {
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t)).to.deep.include({ kind: 'accepted' });
        for (let i = 0; i < 3; i++) await fail('u', t + 1 + i);
        expect(await store.lockRemaining('u', t + 10)).to.be.above(0);
        await store.resetUser('u');
        expect(await store.lockRemaining('u', t + 10)).to.equal(0);
        expect(await attempt('u', [{ deviceId: 'd1', step: S }], t + 10)).to.deep.equal({ kind: 'accepted', deviceId: 'd1', step: S });
      });

      it('leaves other users and pending enrolments alone', async () => {
        await attempt('other', [{ deviceId: 'd1', step: S }], t);
        await store.saveEnrolment(enrolment('u', 'e1', t + 600_000));
        await store.resetUser('u');
        expect(await attempt('other', [{ deviceId: 'd1', step: S }], t)).to.deep.include({ kind: 'rejected' });
        expect(await store.getEnrolment('u', 'e1')).to.not.equal(null);
      });
    });

    describe('emailed codes', () => {
      /** A hash as the service stores it (base64url of an HMAC); the store only compares them. */
      const hash = (label: string) => `h-${label}-${'x'.repeat(40)}`;
      const withEmail = (userId: string, emailCodeHash: string, now = t, countFailure = true, limits = LIMITS, candidates: StepCandidate[] = []) =>
        store.attemptTotp(userId, candidates, limits, now, STEP_TTL, countFailure, emailCodeHash);
      const LATER = () => Date.now() + 600_000;

      it('accepts the saved code once, as the @email device, in the same attempt as TOTP', async () => {
        await store.saveEmailCode('u', hash('a'), LATER());
        expect(await withEmail('u', hash('a'))).to.deep.equal({ kind: 'accepted', deviceId: EMAIL_CODE_DEVICE, step: 0 });
        expect(await withEmail('u', hash('a'), t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });

      it('refuses another hash, and another user\'s code; neither uses the code up', async () => {
        await store.saveEmailCode('u1', hash('a'), LATER());
        expect(await withEmail('u1', hash('b'))).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('u2', hash('a'))).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('u1', hash('a'), t + 1)).to.deep.include({ kind: 'accepted', deviceId: EMAIL_CODE_DEVICE });
      });

      it('leaves the code alone in an attempt without a hash, and in one a device candidate wins', async () => {
        await store.saveEmailCode('u', hash('a'), LATER());
        expect(await attempt('u', [], t, false)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('u', hash('a'), t, true, LIMITS, [{ deviceId: 'd1', step: S }])).to.deep.equal({ kind: 'accepted', deviceId: 'd1', step: S });
        expect(await withEmail('u', hash('a'), t + 1)).to.deep.include({ kind: 'accepted', deviceId: EMAIL_CODE_DEVICE });
      });

      it('keeps one code per user: a newer save replaces the older', async () => {
        await store.saveEmailCode('u', hash('old'), LATER());
        await store.saveEmailCode('u', hash('new'), LATER());
        expect(await withEmail('u', hash('old'))).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('u', hash('new'), t + 1)).to.deep.include({ kind: 'accepted', deviceId: EMAIL_CODE_DEVICE });
      });

      it('forgets the code on deleteEmailCode (twice is fine) and on resetUser, and only that user\'s', async () => {
        await store.saveEmailCode('u', hash('a'), LATER());
        await store.saveEmailCode('other', hash('a'), LATER());
        await store.deleteEmailCode('u');
        await store.deleteEmailCode('u');
        expect(await withEmail('u', hash('a'))).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        await store.saveEmailCode('u', hash('b'), LATER());
        await store.resetUser('u');
        expect(await withEmail('u', hash('b'), t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('other', hash('a'))).to.deep.include({ kind: 'accepted', deviceId: EMAIL_CODE_DEVICE });
      });

      it('forgets the code at its expiresAt', async () => {
        const expiresAt = Date.now() + SHORT_TTL_MS;
        await store.saveEmailCode('u', hash('a'), expiresAt);
        // The same short lifetime is long enough to be used at once (another user: using a code consumes it).
        await store.saveEmailCode('control', hash('a'), expiresAt);
        expect(await withEmail('control', hash('a'))).to.deep.include({ kind: 'accepted' });
        await sleep(SHORT_TTL_MS + 100);
        expect(await withEmail('u', hash('a'), Date.now())).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });

      it('lets exactly one of 50 concurrent attempts with the code through', async () => {
        const limits = resolveLimits({ maxFailures: 100, hardCap: 100 });
        await store.saveEmailCode('u', hash('a'), LATER());
        const outs = await Promise.all(Array.from({ length: 50 }, () => withEmail('u', hash('a'), t, true, limits)));
        expect(outs.filter((o) => o.kind === 'accepted')).to.have.length(1);
        expect(outs.filter((o) => o.kind === 'rejected')).to.have.length(49);
      });

      it('counts a wrong code in the failure budget, and refuses even the right code while the user is locked, without using it up', async () => {
        await store.saveEmailCode('u', hash('a'), LATER());
        expect(await withEmail('u', hash('x'), t)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('u', hash('y'), t + 1)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await withEmail('u', hash('z'), t + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_000 });
        expect(await withEmail('u', hash('a'), t + 100)).to.deep.equal({ kind: 'locked', retryAfterMs: 902 });
        expect(await withEmail('u', hash('a'), t + 1_002)).to.deep.include({ kind: 'accepted', deviceId: EMAIL_CODE_DEVICE });
      });

      it('starts the failure budget over when the code is accepted', async () => {
        await store.saveEmailCode('u', hash('a'), LATER());
        await fail('u', t);
        await fail('u', t + 1);
        expect(await withEmail('u', hash('a'), t + 2)).to.deep.include({ kind: 'accepted' });
        expect(await fail('u', t + 3)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
        expect(await fail('u', t + 4)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
      });
    });

    describe('remembered browsers', () => {
      const DAY = 24 * 60 * 60_000;
      /** A hash as the service stores it (base64url of an HMAC); the store only compares them. */
      const tokenHash = (label: string) => `t-${label}-${'x'.repeat(40)}`;
      /** Remembered `createdAt` ms after t, for 30 days (and 1 ms): exact 13-digit times, so a float formatting of them (Lua's cjson re-encodes an entry) would show. */
      const browser = (id: string, createdAt: number, over: Partial<RememberedBrowser> = {}): RememberedBrowser => ({
        id, tokenHash: tokenHash(id), generation: 3, name: `Firefox on Linux ${id} — ü`,
        createdAt: t + createdAt, lastUsedAt: t + createdAt, rotatedAt: t + createdAt, expiresAt: t + createdAt + 30 * DAY + 1, ...over,
      });
      const MAX = 10;

      it('keeps what it was given and lists the user\'s browsers oldest first (by createdAt, not by order of remembering)', async () => {
        const [b, a, c] = [browser('b', 20), browser('a', 10), browser('c', 30)];
        for (const x of [b, a, c]) await store.rememberBrowser('u', x, MAX);
        expect(await store.listRememberedBrowsers('u')).to.deep.equal([a, b, c]);
        expect(await store.listRememberedBrowsers('nobody')).to.deep.equal([]);
      });

      it('drops expired entries (from the list, from the cap, from touch), and all of a user\'s once the last one has expired', async () => {
        // Written already expired (by a millisecond), so nothing waits: what is read later must not return them.
        const past = Date.now() - 1;
        const expired = browser('expired', 0, { expiresAt: past });
        await store.rememberBrowser('u', browser('long', 1), 2);
        await store.rememberBrowser('u', expired, 2);
        await store.rememberBrowser('v', browser('a', 0, { expiresAt: past }), MAX);
        await store.rememberBrowser('v', browser('b', 1, { expiresAt: past }), MAX);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['long']);
        expect(await store.touchRememberedBrowser('u', 'expired', expired.tokenHash, Date.now()), 'an expired browser is no longer remembered').to.equal(false);
        expect(await store.listRememberedBrowsers('v')).to.deep.equal([]);
        expect(await store.touchRememberedBrowser('v', 'b', tokenHash('b'), Date.now())).to.equal(false);
        // Cap 2: the expired one takes no place, so adding one keeps both live ones.
        await store.rememberBrowser('u', browser('new', 2), 2);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['long', 'new']);
      });

      it('keeps at most maxPerUser: remembering one more drops the oldest', async () => {
        for (const [id, at] of [['c', 30], ['a', 10], ['b', 20]] as const) await store.rememberBrowser('u', browser(id, at), 3);
        await store.rememberBrowser('u', browser('d', 40), 3);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['b', 'c', 'd']);
        expect(await store.touchRememberedBrowser('u', 'a', tokenHash('a'), t + 50), 'the dropped one').to.equal(false);
        // A lower cap (the option changed) drops as many as needed at the next one.
        await store.rememberBrowser('u', browser('e', 50), 2);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['d', 'e']);
        // Another user's browsers are not counted.
        await store.rememberBrowser('other', browser('x', 60), 1);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['d', 'e']);
      });

      it('records a use: lastUsedAt only, the token kept, when no new token hash is given', async () => {
        const b = browser('b', 0);
        await store.rememberBrowser('u', b, MAX);
        expect(await store.touchRememberedBrowser('u', 'b', b.tokenHash, t + 5_001)).to.equal(true);
        expect(await store.listRememberedBrowsers('u')).to.deep.equal([{ ...b, lastUsedAt: t + 5_001 }]);
        expect(await store.touchRememberedBrowser('u', 'b', b.tokenHash, t + 6_003), 'the same token again').to.equal(true);
      });

      it('rotates the token hash only when the old hash matches; the stale hash is refused afterwards', async () => {
        const b = browser('b', 0);
        await store.rememberBrowser('u', b, MAX);
        expect(await store.touchRememberedBrowser('u', 'b', tokenHash('wrong'), t + 1, tokenHash('evil')), 'a wrong hash').to.equal(false);
        expect(await store.listRememberedBrowsers('u'), 'a refused touch changes nothing').to.deep.equal([b]);
        expect(await store.touchRememberedBrowser('u', 'b', b.tokenHash, t + DAY + 7, tokenHash('new'))).to.equal(true);
        expect(await store.listRememberedBrowsers('u')).to.deep.equal([{ ...b, tokenHash: tokenHash('new'), lastUsedAt: t + DAY + 7, rotatedAt: t + DAY + 7 }]);
        expect(await store.touchRememberedBrowser('u', 'b', b.tokenHash, t + DAY + 8), 'the stale hash').to.equal(false);
        expect(await store.touchRememberedBrowser('u', 'b', b.tokenHash, t + DAY + 8, tokenHash('again')), 'the stale hash, rotating').to.equal(false);
        expect(await store.touchRememberedBrowser('u', 'b', tokenHash('new'), t + DAY + 9)).to.equal(true);
      });

      it('refuses a touch of an unknown id, or of another user\'s browser', async () => {
        const b = browser('b', 0);
        await store.rememberBrowser('u', b, MAX);
        expect(await store.touchRememberedBrowser('u', 'nope', b.tokenHash, t + 1)).to.equal(false);
        expect(await store.touchRememberedBrowser('other', 'b', b.tokenHash, t + 1, tokenHash('evil'))).to.equal(false);
        expect(await store.listRememberedBrowsers('u')).to.deep.equal([b]);
        expect(await store.listRememberedBrowsers('other')).to.deep.equal([]);
      });

      it('of 20 concurrent rotations of one token, exactly one wins, and its hash is the one kept', async () => {
        const b = browser('b', 0);
        await store.rememberBrowser('u', b, MAX);
        const outs = await Promise.all(Array.from({ length: 20 }, (_, i) => store.touchRememberedBrowser('u', 'b', b.tokenHash, t + DAY + i, tokenHash(`new${i}`))));
        expect(outs.filter(Boolean)).to.have.length(1);
        const winner = outs.indexOf(true);
        expect(await store.listRememberedBrowsers('u')).to.deep.equal([{ ...b, tokenHash: tokenHash(`new${winner}`), lastUsedAt: t + DAY + winner, rotatedAt: t + DAY + winner }]);
      });

      it('forgets one browser (false when there is none), or all of one user\'s, and only that user\'s', async () => {
        for (const id of ['a', 'b', 'c']) await store.rememberBrowser('u', browser(id, id.charCodeAt(0)), MAX);
        await store.rememberBrowser('other', browser('a', 1), MAX);
        expect(await store.forgetRememberedBrowser('u', 'b')).to.equal(true);
        expect(await store.forgetRememberedBrowser('u', 'b')).to.equal(false);
        expect(await store.forgetRememberedBrowser('u', 'nope')).to.equal(false);
        expect(await store.forgetRememberedBrowser('nobody', 'a')).to.equal(false);
        expect(await store.touchRememberedBrowser('u', 'b', tokenHash('b'), t + 1)).to.equal(false);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['a', 'c']);

        await store.forgetRememberedBrowsers('u');
        await store.forgetRememberedBrowsers('u');
        expect(await store.listRememberedBrowsers('u')).to.deep.equal([]);
        expect(await store.touchRememberedBrowser('u', 'a', tokenHash('a'), t + 1)).to.equal(false);
        expect(await store.listRememberedBrowsers('other')).to.deep.equal([browser('a', 1)]);
        expect(await store.touchRememberedBrowser('other', 'a', tokenHash('a'), t + 2)).to.equal(true);
        // Remembering again after forgetting all starts a fresh list.
        await store.rememberBrowser('u', browser('d', 100), MAX);
        expect((await store.listRememberedBrowsers('u')).map((x) => x.id)).to.deep.equal(['d']);
      });

      it('keeps users apart: the same browser id under two users is two entries', async () => {
        await store.rememberBrowser('u1', browser('same', 0), MAX);
        await store.rememberBrowser('u2', browser('same', 1, { tokenHash: tokenHash('u2') }), MAX);
        expect(await store.touchRememberedBrowser('u1', 'same', tokenHash('u2'), t + 2), 'u2\'s token for u1').to.equal(false);
        expect(await store.touchRememberedBrowser('u2', 'same', tokenHash('u2'), t + 3, tokenHash('rotated'))).to.equal(true);
        expect(await store.listRememberedBrowsers('u1')).to.deep.equal([browser('same', 0)]);
        expect(await store.forgetRememberedBrowser('u1', 'same')).to.equal(true);
        expect((await store.listRememberedBrowsers('u2')).map((x) => x.tokenHash)).to.deep.equal([tokenHash('rotated')]);
      });
    });

    describe('email send limits', () => {
      const WINDOW = 60_000;

      it('counts sends up to max, then refuses with the time left in the window; users, addresses and the wrong-code IP limit are counted apart', async () => {
        for (let i = 0; i < 3; i++) expect(await store.countEmailSend({ userId: 'u' }, 3, WINDOW)).to.deep.equal({ kind: 'counted' });
        const refused = await store.countEmailSend({ userId: 'u' }, 3, WINDOW);
        expect(refused.kind).to.equal('refused');
        expect(refused.kind === 'refused' ? refused.retryAfterMs : 0).to.be.within(55_000, WINDOW);
        expect(await store.countEmailSend({ userId: 'other' }, 3, WINDOW)).to.deep.equal({ kind: 'counted' });
        // An address spelled like the user id is another scope.
        expect(await store.countEmailSend({ ip: 'u' }, 3, WINDOW)).to.deep.equal({ kind: 'counted' });

        for (let i = 0; i < 2; i++) expect(await store.countEmailSend({ ip: '203.0.113.20' }, 2, WINDOW)).to.deep.equal({ kind: 'counted' });
        expect((await store.countEmailSend({ ip: '203.0.113.20' }, 2, WINDOW)).kind).to.equal('refused');
        expect(await store.countEmailSend({ ip: '2001:db8::20' }, 2, WINDOW)).to.deep.equal({ kind: 'counted' });
        expect(await store.countEmailSend({ userId: '203.0.113.20' }, 2, WINDOW)).to.deep.equal({ kind: 'counted' });
        // Not the counter of wrong codes from that address, either way.
        expect(await store.countIpAttempt('203.0.113.20', resolveLimits({ ipMaxFailures: 1 }))).to.deep.equal({ kind: 'counted' });
        expect(await store.countEmailSend({ ip: '203.0.113.21' }, 1, WINDOW)).to.deep.equal({ kind: 'counted' });
        expect(await store.countIpAttempt('203.0.113.21', resolveLimits({ ipMaxFailures: 1 }))).to.deep.equal({ kind: 'counted' });
      });

      it('gives a send back on refundEmailSend, in its scope only, never below zero', async () => {
        for (let i = 0; i < 5; i++) await store.refundEmailSend({ userId: 'u' });
        for (let i = 0; i < 2; i++) expect(await store.countEmailSend({ userId: 'u' }, 2, WINDOW)).to.deep.equal({ kind: 'counted' });
        expect((await store.countEmailSend({ userId: 'u' }, 2, WINDOW)).kind).to.equal('refused');
        await store.refundEmailSend({ ip: 'u' });
        expect((await store.countEmailSend({ userId: 'u' }, 2, WINDOW)).kind, 'another scope\'s refund').to.equal('refused');
        await store.refundEmailSend({ userId: 'u' });
        expect(await store.countEmailSend({ userId: 'u' }, 2, WINDOW)).to.deep.equal({ kind: 'counted' });
        expect((await store.countEmailSend({ userId: 'u' }, 2, WINDOW)).kind).to.equal('refused');
      });

      it('counts exactly max of 20 concurrent sends', async () => {
        const outs = await Promise.all(Array.from({ length: 20 }, () => store.countEmailSend({ userId: 'u' }, 3, WINDOW)));
        expect(outs.filter((o) => o.kind === 'counted')).to.have.length(3);
      });

      it('starts over windowMs after the first counted send', async () => {
        const first = Date.now();
        await store.countEmailSend({ ip: '203.0.113.22' }, 1, SHORT_TTL_MS);
        expect((await store.countEmailSend({ ip: '203.0.113.22' }, 1, SHORT_TTL_MS)).kind).to.equal('refused');
        await waitUntil(async () => (await store.countEmailSend({ ip: '203.0.113.22' }, 1, SHORT_TTL_MS)).kind === 'counted', EXPIRY_WITHIN_MS, 25);
        expect(Date.now()).to.be.at.least(first + SHORT_TTL_MS - CLOCK_SLACK_MS);
      });
    });

    describe('per-IP limit', () => {
      /** 3 attempts per IP per minute; the user budget is far away. */
      const IP = resolveLimits({ maxFailures: 1000, hardCap: 1000, ipMaxFailures: 3, ipWindowMs: 60_000 });

      it('counts attempts up to ipMaxFailures, then refuses with the time left in the window, per address', async () => {
        for (let i = 0; i < 3; i++) expect(await store.countIpAttempt('203.0.113.7', IP)).to.deep.equal({ kind: 'counted' });
        const refused = await store.countIpAttempt('203.0.113.7', IP);
        expect(refused.kind).to.equal('refused');
        expect(refused.kind === 'refused' ? refused.retryAfterMs : 0).to.be.within(55_000, 60_000);
        expect(await store.countIpAttempt('2001:db8::1', IP)).to.deep.equal({ kind: 'counted' });
      });

      it('stops a parallel burst from one IP: of 60 wrong codes at once over three users, 5 are judged', async () => {
        const limits = resolveLimits({ maxFailures: 1000, hardCap: 1000, ipMaxFailures: 5, ipWindowMs: 60_000 });
        let judged = 0;
        // What the service does per request: count the attempt, and only then judge (here: count a failure).
        const outcomes = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
          const o = await store.countIpAttempt('203.0.113.8', limits);
          if (o.kind === 'counted') {
            judged += 1;
            await store.recordFailure(`u${i % 3}`, limits, t);
          }
          return o.kind;
        }));
        expect(judged).to.equal(5);
        expect(outcomes.filter((k) => k === 'refused')).to.have.length(55);
      });

      it('gives a right code its attempt back: refunded attempts do not use up the budget', async () => {
        for (let i = 0; i < 10; i++) {
          expect(await store.countIpAttempt('203.0.113.9', IP)).to.deep.equal({ kind: 'counted' });
          await store.refundIpAttempt('203.0.113.9');
        }
        for (let i = 0; i < 3; i++) expect(await store.countIpAttempt('203.0.113.9', IP)).to.deep.equal({ kind: 'counted' });
        expect((await store.countIpAttempt('203.0.113.9', IP)).kind).to.equal('refused');
        await store.refundIpAttempt('203.0.113.9');
        expect(await store.countIpAttempt('203.0.113.9', IP)).to.deep.equal({ kind: 'counted' });
      });

      it('never refunds below zero: refunds cannot buy an address extra attempts', async () => {
        for (let i = 0; i < 5; i++) await store.refundIpAttempt('198.51.100.1');
        await store.countIpAttempt('198.51.100.1', IP);
        await store.refundIpAttempt('198.51.100.1');
        await store.refundIpAttempt('198.51.100.1');
        for (let i = 0; i < 3; i++) expect(await store.countIpAttempt('198.51.100.1', IP)).to.deep.equal({ kind: 'counted' });
        expect((await store.countIpAttempt('198.51.100.1', IP)).kind).to.equal('refused');
      });

      it('keeps count under concurrent counts and refunds', async () => {
        const limits = resolveLimits({ ipMaxFailures: 100, ipWindowMs: 60_000 });
        await Promise.all(Array.from({ length: 30 }, async () => {
          await store.countIpAttempt('198.51.100.2', limits);
          await store.refundIpAttempt('198.51.100.2');
        }));
        await Promise.all(Array.from({ length: 30 }, () => store.countIpAttempt('198.51.100.2', limits)));
        const tight = resolveLimits({ ipMaxFailures: 30, ipWindowMs: 60_000 });
        expect((await store.countIpAttempt('198.51.100.2', tight)).kind).to.equal('refused');
      });

      it('starts over ipWindowMs after the first counted attempt', async () => {
        const limits = resolveLimits({ ipMaxFailures: 2, ipWindowMs: SHORT_TTL_MS });
        const first = Date.now();
        await store.countIpAttempt('203.0.113.10', limits);
        await store.countIpAttempt('203.0.113.10', limits);
        expect((await store.countIpAttempt('203.0.113.10', limits)).kind).to.equal('refused');
        // A refused attempt is not counted: poll until the window starts over.
        await waitUntil(async () => (await store.countIpAttempt('203.0.113.10', limits)).kind === 'counted', EXPIRY_WITHIN_MS, 25);
        expect(Date.now()).to.be.at.least(first + SHORT_TTL_MS - CLOCK_SLACK_MS);
      });
    });
  });
}
