/**
 * The Lua and TypeScript twins agree (issue 11, point 4).
 *
 * The failure budget and the replay rules exist twice: in TypeScript
 * (src/core/failure-budget.ts, run by MemoryGuardStore) and in Lua
 * (src/stores/redis-scripts.ts, run by RedisGuardStore). This property test
 * drives one store of each kind with the same random sequence of operations
 * and asserts, after every step, that both gave the same outcome, that every
 * user's remaining lockout and every login's liveness read the same, and that
 * both hold the same state (budget fields, last steps, IP counters; read from
 * Redis by the key layout of src/stores/redis-keys.ts and from the memory
 * store's private maps), so a divergence is caught at the step that made it
 * even when only a rare later step would show it.
 *
 * fast-check shrinks a failing sequence and prints it with the seed; to replay
 * it, pass `{ seed, path }` from that report to `fc.assert` below.
 *
 * Two clocks, and why the test treats them differently:
 *
 * - The rule clock is the `now` argument (lockouts, windows, backoff). It
 *   is simulated: it starts at a random epoch and jumps forward by small
 *   (ms to seconds), medium (past windows and lockouts) and large (hours to
 *   months, past `failureMemoryMs`) steps, to the exact edges (± 1 ms) of
 *   lockouts and windows, and now and then a little backwards (app
 *   servers' clocks differ). Both stores take it as given.
 *
 * - The expiry clock runs the TTLs (`failureMemoryMs`, `stepTtlMs`,
 *   `ipWindowMs`, a login's ttl). Redis runs them on its real clock and the
 *   test cannot move that, so the memory store keeps its default expiry clock
 *   `now = Date.now` (the same system clock) instead of following the
 *   simulated one. To keep the comparison exact, every TTL is either long
 *   (10 min or more: nothing expires within a sequence, which takes
 *   milliseconds) or 0 (expired at once: Redis deletes a key given PEXPIRE 0
 *   in the same script, the memory store sees `expiresAt <= now()` on the
 *   next read). A TTL of a few ms would make the outcome depend on
 *   scheduling, not on the rules. Jumps of the rule clock past
 *   `failureMemoryMs` therefore keep the state in both stores, which is the
 *   documented contract (expiries follow the store's clock, not `now`).
 *
 * Everything else is small so that lockouts, doubling backoff, the hard cap
 * and window restarts happen often: maxFailures 1–4, hardCap up to
 * maxFailures + 3, windows and lockouts of seconds to minutes on the rule
 * clock, per-IP limit 1–4. Each sequence uses a fresh key prefix on a
 * redis-server this file starts, so nothing needs flushing.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import type { FailureState } from '../../src/core/failure-budget.ts';
import { resolveLimits, type ResolvedLimits } from '../../src/core/limits.ts';
import { MemoryGuardStore } from '../../src/stores/memory-guard-store.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { redisKeys, type RedisKeys } from '../../src/stores/redis-keys.ts';
import type { GuardStore, StartedLock, StepCandidate } from '../../src/core/store-types.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

const SEED = 0x2fa_0411;
const NUM_RUNS = 1000;

const USERS = ['alice', 'bob', '{carol}'] as const;
const IPS = ['192.0.2.1', '198.51.100.7', '2001:db8::1'] as const;
const DEVICES = ['d1', 'd2', 'd3'] as const;
const LOGINS = ['l1', 'l2'] as const;
const PERIOD_MS = 30_000;
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Real-clock TTLs: long enough never to expire within a sequence, or 0 (gone at once). */
const LONG_TTL = fc.constantFrom(10 * MINUTE, 90 * MINUTE, 90 * DAY);
const ttl = (zeroWeight: number) => fc.oneof({ arbitrary: LONG_TTL, weight: 10 - zeroWeight }, { arbitrary: fc.constant(0), weight: zeroWeight });

const limitsArb: fc.Arbitrary<ResolvedLimits> = fc
  .record({
    maxFailures: fc.integer({ min: 1, max: 4 }),
    failureWindowMs: fc.constantFrom(2 * SECOND, 10 * SECOND, MINUTE, 5 * MINUTE),
    lockoutMs: fc.constantFrom(SECOND, 5 * SECOND, 30 * SECOND, 2 * MINUTE),
    maxLockoutFactor: fc.constantFrom(0.5, 1, 2, 4, 16),
    hardCapExtra: fc.integer({ min: 0, max: 3 }),
    failureMemoryMs: ttl(1),
    ipMaxFailures: fc.integer({ min: 1, max: 4 }),
    ipWindowMs: ttl(1),
  })
  .map((r) =>
    resolveLimits({
      maxFailures: r.maxFailures,
      failureWindowMs: r.failureWindowMs,
      lockoutMs: r.lockoutMs,
      maxLockoutMs: Math.round(r.lockoutMs * r.maxLockoutFactor),
      hardCap: r.maxFailures + r.hardCapExtra,
      failureMemoryMs: r.failureMemoryMs,
      ipMaxFailures: r.ipMaxFailures,
      ipWindowMs: r.ipWindowMs,
    }),
  );

/** Skewed towards the first user and IP, so one budget gets deep (lockouts, backoff, hard cap) while the others interleave. */
const skewed = <T>(items: readonly T[]): fc.Arbitrary<T> => fc.oneof(...items.map((item, i) => ({ arbitrary: fc.constant(item), weight: 2 ** (items.length - 1 - i) })));
const user = skewed(USERS);
const ip = skewed(IPS);
/** Which of the run's limit sets an operation uses (mostly the first; a redeploy may change them). */
const cfg = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.constant(1), weight: 1 });

/** The lockout argument of refundFailure. */
type LockArg =
  | { kind: 'none' }
  /** The n-th most recent counted failure of this user (as the service passes it back), lockedForMs 0 or not. */
  | { kind: 'recent'; back: number }
  /** The n-th most recent counted failure of this user that started a lockout. */
  | { kind: 'recent-lock'; back: number }
  /** Made up: a lockout that may or may not be the one in force. */
  | { kind: 'made-up'; nowOffset: number; lockedForMs: number; cfg: number };

type Op =
  | { op: 'tick'; ms: number }
  /**
   * Jumps to an edge, where `>` and `>=` differ: (the end of the user's
   * lockout, or now when there is none) + (0, or a window or lockout
   * length of the limits) + (-1, 0 or 1 ms).
   */
  | { op: 'tickTo'; user: string; plus: 'none' | 'failureWindowMs' | 'lockoutMs' | 'maxLockoutMs'; cfg: number; d: number }
  | { op: 'attemptTotp'; user: string; candidates: { device: string; delta: number }[]; countFailure: boolean; stepTtl: number; cfg: number }
  | { op: 'recordFailure'; user: string; cfg: number }
  | { op: 'refundFailure'; user: string; lock: LockArg }
  | { op: 'recordSuccess'; user: string; cfg: number }
  | { op: 'lockRemaining'; user: string; offset: number }
  | { op: 'resetUser'; user: string }
  | { op: 'countIpAttempt'; ip: string; cfg: number }
  | { op: 'refundIpAttempt'; ip: string }
  | { op: 'beginLogin'; user: string; login: string; ttl: number }
  | { op: 'endLogin'; user: string; login: string }
  | { op: 'loginAlive'; user: string; login: string };

const tickArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 2 * SECOND }), weight: 6 },
  { arbitrary: fc.integer({ min: 2 * SECOND, max: 10 * MINUTE }), weight: 4 },
  { arbitrary: fc.integer({ min: HOUR, max: 120 * DAY }), weight: 1 },
  { arbitrary: fc.integer({ min: -5 * SECOND, max: -1 }), weight: 1 },
);

const lockArb: fc.Arbitrary<LockArg> = fc.oneof(
  { arbitrary: fc.constant<LockArg>({ kind: 'none' }), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 2 }).map((back): LockArg => ({ kind: 'recent', back })), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 1 }).map((back): LockArg => ({ kind: 'recent-lock', back })), weight: 3 },
  {
    arbitrary: fc
      .record({
        nowOffset: fc.integer({ min: -10 * MINUTE, max: SECOND }),
        lockedForMs: fc.constantFrom(0, SECOND, 5 * SECOND, 30 * SECOND, 2 * MINUTE),
        cfg,
      })
      .map((r): LockArg => ({ kind: 'made-up', ...r })),
    weight: 1,
  },
);

/** 0 (half the time), -1 or +1 ms: the boundaries are where `>` and `>=` differ. */
const edge = fc.oneof({ arbitrary: fc.constant(0), weight: 2 }, { arbitrary: fc.constantFrom(-1, 1), weight: 2 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: tickArb.map((ms): Op => ({ op: 'tick', ms })), weight: 5 },
  {
    arbitrary: fc
      .record({ user, plus: fc.constantFrom('none' as const, 'failureWindowMs' as const, 'lockoutMs' as const, 'maxLockoutMs' as const), cfg, d: edge })
      .map((r): Op => ({ op: 'tickTo', ...r })),
    weight: 5,
  },
  {
    arbitrary: fc
      .record({
        user,
        // Empty: the code matched no device (a wrong code). Otherwise the devices it matched, at steps
        // around the current one: fresh ones are claimed, replays and earlier steps are not.
        candidates: fc.oneof(
          { arbitrary: fc.constant<{ device: string; delta: number }[]>([]), weight: 3 },
          { arbitrary: fc.array(fc.record({ device: fc.constantFrom(...DEVICES), delta: fc.integer({ min: -2, max: 1 }) }), { minLength: 1, maxLength: 3 }), weight: 2 },
        ),
        countFailure: fc.oneof({ arbitrary: fc.constant(true), weight: 4 }, { arbitrary: fc.constant(false), weight: 1 }),
        stepTtl: ttl(1),
        cfg,
      })
      .map((r): Op => ({ op: 'attemptTotp', ...r })),
    weight: 8,
  },
  { arbitrary: fc.record({ user, cfg }).map((r): Op => ({ op: 'recordFailure', ...r })), weight: 4 },
  { arbitrary: fc.record({ user, lock: lockArb }).map((r): Op => ({ op: 'refundFailure', ...r })), weight: 3 },
  { arbitrary: fc.record({ user, cfg }).map((r): Op => ({ op: 'recordSuccess', ...r })), weight: 1 },
  { arbitrary: fc.record({ user, offset: fc.integer({ min: -MINUTE, max: 5 * MINUTE }) }).map((r): Op => ({ op: 'lockRemaining', ...r })), weight: 1 },
  { arbitrary: user.map((u): Op => ({ op: 'resetUser', user: u })), weight: 1 },
  { arbitrary: fc.record({ ip, cfg }).map((r): Op => ({ op: 'countIpAttempt', ...r })), weight: 3 },
  { arbitrary: ip.map((i): Op => ({ op: 'refundIpAttempt', ip: i })), weight: 2 },
  { arbitrary: fc.record({ user, login: fc.constantFrom(...LOGINS), ttl: LONG_TTL }).map((r): Op => ({ op: 'beginLogin', ...r })), weight: 1 },
  { arbitrary: fc.record({ user, login: fc.constantFrom(...LOGINS) }).map((r): Op => ({ op: 'endLogin', ...r })), weight: 1 },
  { arbitrary: fc.record({ user, login: fc.constantFrom(...LOGINS) }).map((r): Op => ({ op: 'loginAlive', ...r })), weight: 1 },
);

const runArb = fc.record({
  start: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
  limits: fc.array(limitsArb, { minLength: 1, maxLength: 2 }),
  ops: fc.array(opArb, { minLength: 5, maxLength: 30, size: 'max' }),
});

type Run = { start: number; limits: ResolvedLimits[]; ops: Op[] };

/** What one operation returned, in a form both stores can be compared on. */
type Outcome = unknown;

describe('GuardStore twins: MemoryGuardStore (TypeScript rules) and RedisGuardStore (Lua rules) agree', function () {
  this.timeout(180_000);
  let server: RedisProcess | undefined;
  let client: Redis | undefined;
  let prefixCounter = 0;

  before(async () => {
    server = await startRedis();
    // Auto-pipelining sends the probes issued together in one write (the run is bound by socket writes).
    client = new Redis(server.url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  });

  after(async () => {
    client?.disconnect();
    await server?.stop();
  });

  async function check(run: Run): Promise<void> {
    prefixCounter += 1;
    const memory = new MemoryGuardStore();
    const prefix = `twins-${process.pid}-${prefixCounter}`;
    const redis = new RedisGuardStore(client!, { keyPrefix: prefix });
    const keys = redisKeys(prefix);
    let now = run.start;
    /** The counted failures of each user, newest first, as a StartedLock the service would pass back. */
    const counted = new Map<string, StartedLock[]>();
    /**
     * The longest real time one operation took across both stores. A
     * retry-after read from a real-clock TTL may differ between the stores
     * by the real time between their two writes plus their two reads.
     */
    let maxSpanMs = 0;
    const limitsOf = (i: number): ResolvedLimits => run.limits[i % run.limits.length]!;

    const apply = async (store: GuardStore, op: Op, lock: StartedLock | undefined): Promise<Outcome> => {
      switch (op.op) {
        case 'tick': case 'tickTo': return null;
        case 'attemptTotp': {
          const current = Math.floor(now / PERIOD_MS);
          const candidates: StepCandidate[] = op.candidates.map((c) => ({ deviceId: c.device, step: current + c.delta }));
          return store.attemptTotp(op.user, candidates, limitsOf(op.cfg), now, op.stepTtl, op.countFailure);
        }
        case 'recordFailure': return store.recordFailure(op.user, limitsOf(op.cfg), now);
        case 'refundFailure': return store.refundFailure(op.user, lock).then(() => null);
        case 'recordSuccess': return store.recordSuccess(op.user, limitsOf(op.cfg), now).then(() => null);
        case 'lockRemaining': return store.lockRemaining(op.user, now + op.offset);
        case 'resetUser': return store.resetUser(op.user).then(() => null);
        case 'countIpAttempt': return store.countIpAttempt(op.ip, limitsOf(op.cfg));
        case 'refundIpAttempt': return store.refundIpAttempt(op.ip).then(() => null);
        case 'beginLogin': return store.beginLogin(op.user, op.login, op.ttl).then(() => null);
        case 'endLogin': return store.endLogin(op.user, op.login).then(() => null);
        case 'loginAlive': return store.loginAlive(op.user, op.login);
      }
    };

    /** Every user's remaining lockout and every login's liveness, read-only. */
    const probe = (store: GuardStore): Promise<unknown[]> =>
      Promise.all([
        ...USERS.map((u) => store.lockRemaining(u, now)),
        ...USERS.flatMap((u) => LOGINS.map((l) => store.loginAlive(u, l))),
      ]);

    for (const [i, op] of run.ops.entries()) {
      if (op.op === 'tick') {
        now += op.ms;
        continue;
      }
      if (op.op === 'tickTo') {
        // Both stores read the same remaining lockout (checked after every step); take it from either.
        now += (await memory.lockRemaining(op.user, now)) + (op.plus === 'none' ? 0 : limitsOf(op.cfg)[op.plus]) + op.d;
        continue;
      }
      let lock: StartedLock | undefined;
      if (op.op === 'refundFailure') {
        if (op.lock.kind === 'recent') lock = counted.get(op.user)?.[op.lock.back];
        else if (op.lock.kind === 'recent-lock') lock = counted.get(op.user)?.filter((c) => c.lockedForMs > 0)[op.lock.back];
        else if (op.lock.kind === 'made-up') lock = { now: now + op.lock.nowOffset, lockedForMs: op.lock.lockedForMs, limits: limitsOf(op.lock.cfg) };
      }
      const t0 = Date.now();
      const fromMemory = await apply(memory, op, lock);
      const fromRedis = await apply(redis, op, lock);
      maxSpanMs = Math.max(maxSpanMs, Date.now() - t0);
      const where = `step ${i} (${JSON.stringify(op)}${lock ? `, startedLock ${JSON.stringify({ now: lock.now, lockedForMs: lock.lockedForMs })}` : ''}) at now=${now}`;

      if (isRefused(fromMemory) && isRefused(fromRedis)) {
        // The per-IP window runs on the real clock: equal up to the real time between the stores' calls.
        expect(Math.abs(fromMemory.retryAfterMs - fromRedis.retryAfterMs), `${where}: retryAfterMs ${fromMemory.retryAfterMs} vs ${fromRedis.retryAfterMs}`)
          .to.be.at.most(2 * maxSpanMs + 2);
      } else {
        expect(fromRedis, `${where}: Redis (Lua) vs memory (TypeScript)`).to.deep.equal(fromMemory);
      }

      if ((op.op === 'attemptTotp' || op.op === 'recordFailure') && isRejected(fromMemory) && (op.op === 'recordFailure' || op.countFailure)) {
        const list = counted.get(op.user) ?? [];
        list.unshift({ now, lockedForMs: fromMemory.lockedForMs, limits: limitsOf(op.cfg) });
        counted.set(op.user, list.slice(0, 8));
      }

      const memState = await probe(memory);
      const memInternals = memoryInternals(memory);
      const [redisState, redisStored] = await Promise.all([probe(redis), redisInternals(client!, keys)]);
      expect(redisState, `${where}: state after the step (lockRemaining per user, loginAlive per login)`).to.deep.equal(memState);
      // The state behind the outcomes too: a divergence that only a rare later step would show
      // (e.g. the window restarting at the lockout's start instead of its end) is caught here.
      expect(redisStored, `${where}: stored budget, replay steps and IP counters`).to.deep.equal(memInternals);
    }
  }

  it(`give the same outcome after every step of ${NUM_RUNS} random operation sequences`, async () => {
    await fc.assert(fc.asyncProperty(runArb, check), { seed: SEED, numRuns: NUM_RUNS });
  });
});

/** One store's state, in one shape for both: null where nothing (live) is stored. */
interface Internals {
  failures: (FailureState | null)[];
  steps: (Record<string, number> | null)[];
  ips: (number | null)[];
}

/**
 * The memory store's live entries (its private maps, read the way its own
 * `live()` does: an entry whose expiresAt has come is gone).
 */
function memoryInternals(store: MemoryGuardStore): Internals {
  type Expiring<T> = { value: T; expiresAt: number };
  const inner = store as unknown as {
    failures: Map<string, Expiring<FailureState>>;
    steps: Map<string, Expiring<Map<string, number>>>;
    ips: Map<string, Expiring<number>>;
  };
  const at = store.now();
  const live = <T>(map: Map<string, Expiring<T>>, key: string): T | null => {
    const e = map.get(key);
    return e && e.expiresAt > at ? e.value : null;
  };
  return {
    failures: USERS.map((u) => {
      const f = live(inner.failures, u);
      return f && { windowStart: f.windowStart, inWindow: f.inWindow, consecutive: f.consecutive, lockouts: f.lockouts, lockedUntil: f.lockedUntil };
    }),
    steps: USERS.map((u) => {
      const m = live(inner.steps, u);
      return m && Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
    }),
    ips: IPS.map((i) => live(inner.ips, i)),
  };
}

/** The same from Redis, by the key layout of src/stores/redis-keys.ts, in one round trip. */
async function redisInternals(client: Redis, keys: RedisKeys): Promise<Internals> {
  const pipe = client.pipeline();
  for (const u of USERS) pipe.hgetall(keys.failures(u));
  for (const u of USERS) pipe.hgetall(keys.steps(u));
  for (const i of IPS) pipe.get(keys.ip(i));
  const replies = ((await pipe.exec()) ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
  const hashes = replies.slice(0, 2 * USERS.length) as Record<string, string>[];
  const numbers = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, Number(v)]));
  return {
    failures: hashes.slice(0, USERS.length).map((h) => {
      if (Object.keys(h).length === 0) return null;
      const n = numbers(h);
      return { windowStart: n['ws']!, inWindow: n['n']!, consecutive: n['c']!, lockouts: n['k']!, lockedUntil: n['lu']! };
    }),
    steps: hashes.slice(USERS.length).map((h) => (Object.keys(h).length === 0 ? null : numbers(h))),
    ips: (replies.slice(2 * USERS.length) as (string | null)[]).map((v) => (v === null ? null : Number(v))),
  };
}

function isRefused(o: Outcome): o is { kind: 'refused'; retryAfterMs: number } {
  return typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'refused';
}

function isRejected(o: Outcome): o is { kind: 'rejected'; lockedForMs: number } {
  return typeof o === 'object' && o !== null && (o as { kind?: unknown }).kind === 'rejected';
}
