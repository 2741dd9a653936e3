/**
 * Ways to get more guesses than the failure budget allows, closed at the
 * level of the rules and the stores: a window that restarts early after a
 * lockout, refunds that give back more than one failure or lift a lockout
 * they did not start, an in-memory counter that outlives its expiry, the
 * Redis store asking its script to lift a lockout, a `Retry-After` that
 * tells a throttled address it may come back at once.
 */
import { expect } from 'chai';
import { addFailure, emptyFailureState, refund, type FailureState } from '../../src/core/failure-budget.ts';
import { resolveLimits } from '../../src/core/limits.ts';
import { MemoryGuardStore } from '../../src/stores/memory-guard-store.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { REFUND, runScript, type RedisClient } from '../../src/stores/redis-scripts.ts';
import { twoFactor } from '../../src/index.ts';

const MIN = 60_000;
const T0 = 1_700_000_000_000;

describe('security: the failure budget cannot be stretched (rules)', () => {
  const l = resolveLimits({ maxFailures: 3, failureWindowMs: 15 * MIN, lockoutMs: MIN });

  it('the window after a lockout starts when the lockout ends, not before', () => {
    const s = emptyFailureState();
    expect([addFailure(s, l, T0), addFailure(s, l, T0 + 1), addFailure(s, l, T0 + 2)]).to.deep.equal([0, 0, MIN]);
    expect(s).to.deep.include({ lockedUntil: T0 + 2 + MIN, windowStart: T0 + 2 + MIN, inWindow: 0, lockouts: 1, consecutive: 3 });
  });

  it('a refund gives back exactly one failure (consecutive and window), never below zero', () => {
    const s: FailureState = { windowStart: T0, inWindow: 2, consecutive: 7, lockouts: 2, lockedUntil: 0 };
    refund(s);
    expect(s).to.deep.equal({ windowStart: T0, inWindow: 1, consecutive: 6, lockouts: 2, lockedUntil: 0 });
    const empty = emptyFailureState();
    refund(empty);
    expect(empty).to.deep.equal(emptyFailureState());
  });

  it('a refund of the failure that started the lockout lifts it, one failure short of the limit, backoff one step back', () => {
    const s = emptyFailureState();
    for (let i = 0; i < 3; i++) addFailure(s, l, T0 + i);
    refund(s, { now: T0 + 2, lockedForMs: MIN, limits: l });
    expect(s).to.deep.equal({ windowStart: T0 + 2, inWindow: 2, consecutive: 2, lockouts: 0, lockedUntil: 0 });
    // Taken back from a later lockout: the count of lockouts only steps back by one.
    const later: FailureState = { windowStart: T0 + 5 * MIN, inWindow: 0, consecutive: 9, lockouts: 3, lockedUntil: T0 + 5 * MIN };
    refund(later, { now: T0 + MIN, lockedForMs: 4 * MIN, limits: l });
    expect(later).to.deep.equal({ windowStart: T0 + MIN, inWindow: 2, consecutive: 8, lockouts: 2, lockedUntil: 0 });
  });

  it('a refund of a failure that started no lockout never lifts one, even one ending at that very moment', () => {
    const s: FailureState = { windowStart: T0, inWindow: 1, consecutive: 4, lockouts: 1, lockedUntil: T0 };
    refund(s, { now: T0, lockedForMs: 0, limits: l });
    expect(s).to.deep.equal({ windowStart: T0, inWindow: 0, consecutive: 3, lockouts: 1, lockedUntil: T0 });
    // Nor one that another failure started (a different locked-until).
    const other: FailureState = { windowStart: T0 + MIN, inWindow: 0, consecutive: 5, lockouts: 2, lockedUntil: T0 + 2 * MIN };
    refund(other, { now: T0, lockedForMs: MIN, limits: l });
    expect(other).to.deep.equal({ windowStart: T0 + MIN, inWindow: 0, consecutive: 4, lockouts: 2, lockedUntil: T0 + 2 * MIN });
  });
});

describe('security: the in-memory per-address counter starts a new window once expired', () => {
  it('a window that expired starts over with its own expiry, so the limit applies again', async () => {
    const store = new MemoryGuardStore();
    let now = T0;
    store.now = () => now;
    const l = resolveLimits({ ipMaxFailures: 2, ipWindowMs: 1000 });
    expect((await store.countIpAttempt('198.51.100.7', l)).kind).to.equal('counted');
    expect((await store.countIpAttempt('198.51.100.7', l)).kind).to.equal('counted');
    expect(await store.countIpAttempt('198.51.100.7', l)).to.deep.equal({ kind: 'refused', retryAfterMs: 1000 });
    now += 1000;
    for (let window = 0; window < 2; window++) {
      expect((await store.countIpAttempt('198.51.100.7', l)).kind, `window ${window}`).to.equal('counted');
      expect((await store.countIpAttempt('198.51.100.7', l)).kind, `window ${window}`).to.equal('counted');
      now += 400;
      expect(await store.countIpAttempt('198.51.100.7', l), `window ${window}`).to.deep.equal({ kind: 'refused', retryAfterMs: 600 });
      now += 600;
    }
  });
});

/** A RedisClient stand-in that records the scripts' arguments and answers `reply`. */
function recordingRedis(reply: unknown, fail?: Error): { client: RedisClient; calls: { sha: string; args: unknown[] }[]; evals: number } {
  const seen = { calls: [] as { sha: string; args: unknown[] }[], evals: 0 };
  const client = {
    async evalsha(sha: string, _n: number, ...rest: unknown[]) {
      seen.calls.push({ sha, args: rest });
      if (fail) throw fail;
      return reply;
    },
    async eval() {
      seen.evals += 1;
      return reply;
    },
  } as unknown as RedisClient;
  return { client, get calls() { return seen.calls; }, get evals() { return seen.evals; } };
}

describe('security: the Redis guard store asks its scripts for exactly what the rules allow', () => {
  const l = resolveLimits();

  it('a refund asks to lift a lockout only when that failure started one', async () => {
    const redis = recordingRedis(1);
    const store = new RedisGuardStore(redis.client);
    await store.refundFailure('alice');
    await store.refundFailure('alice', { now: T0, lockedForMs: 0, limits: l });
    await store.refundFailure('alice', { now: T0, lockedForMs: MIN, limits: l });
    expect(redis.calls.map((c) => c.sha)).to.deep.equal([REFUND.sha, REFUND.sha, REFUND.sha]);
    // KEYS then ARGV: no undo arguments unless a lockout was started.
    expect(redis.calls.map((c) => c.args.slice(1))).to.deep.equal([[], [], [T0 + MIN, T0, l.maxFailures]]);
  });

  it('an unexpected script reply is an error, not an accepted code', async () => {
    const store = new RedisGuardStore(recordingRedis(['weird', 1]).client);
    let thrown: unknown;
    await store.attemptTotp('alice', [{ deviceId: 'd', step: 1 }], l, T0, 1000, true).catch((err: unknown) => { thrown = err; });
    expect(thrown).to.be.instanceOf(Error);
    expect((thrown as Error).message).to.equal('Unexpected reply from the attempt script: ["weird",1]');
  });

  it('only NOSCRIPT falls back to EVAL: any other script error reaches the caller', async () => {
    const failing = recordingRedis(1, new Error('ERR something else'));
    let thrown: unknown;
    await runScript(failing.client, REFUND, ['k'], []).catch((err: unknown) => { thrown = err; });
    expect((thrown as Error).message).to.equal('ERR something else');
    expect(failing.evals).to.equal(0);
    const noScript = recordingRedis(1, new Error('NOSCRIPT No matching script'));
    expect(await runScript(noScript.client, REFUND, ['k'], [])).to.equal(1);
    expect(noScript.evals).to.equal(1);
  });
});

describe('security: a throttled address is told how long to wait', () => {
  it('Retry-After is the rest of the address window in seconds (not 1), and a lost refund is only logged', async () => {
    const logs: string[] = [];
    const guard = new MemoryGuardStore();
    const tf = twoFactor({ guard, logger: (line) => logs.push(line), limits: { ipMaxFailures: 1, ipWindowMs: 120_000 } });
    const info = { ip: '203.0.113.9', endpoint: 'verify' };
    const first = await tf.service.checkSecondFactor('alice', '123456', info).catch((err: unknown) => err);
    expect((first as { code: string }).code).to.equal('invalid_code');
    const second = await tf.service.checkSecondFactor('alice', '123456', info).catch((err: unknown) => err);
    expect((second as { code: string }).code).to.equal('too_many_attempts');
    const retryAfter = (second as { details: { retryAfter: number } }).details.retryAfter;
    expect(retryAfter).to.be.within(119, 120);

    // A refund the store cannot make (a right answer, or a refused one) is logged, and the answer stands.
    guard.refundIpAttempt = () => Promise.reject(new Error('store down'));
    const other = { ip: '203.0.113.10', endpoint: 'verify' };
    await guard.recordFailure('bob', resolveLimits({ maxFailures: 1 }), Date.now());
    const refused = await tf.service.checkSecondFactor('bob', '123456', other).catch((err: unknown) => err);
    expect((refused as { code: string }).code).to.be.oneOf(['too_many_attempts', 'invalid_code']);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(logs.filter((line) => line.includes('could not take back an IP attempt: Error: store down'))).to.have.length.above(0);
  });
});
