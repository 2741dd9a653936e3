/**
 * What the Redis guard store remembers about failures must expire, and an
 * address counter must never block for good: after a success the kept
 * lockout count lives `failureMemoryMs`, not forever (an attacker's old
 * lockouts must not haunt the user, nor fill Redis), and an address counter
 * found without a TTL (left by an older version or by hand) gets the window
 * as its TTL when it refuses.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { resolveLimits } from '../../src/core/limits.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { redisKeys, DEFAULT_KEY_PREFIX } from '../../src/stores/redis-keys.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

describe('security: Redis guard state expires (lockout memory, address counters)', function () {
  let server: RedisProcess;
  let redis: Redis;
  const keys = redisKeys(DEFAULT_KEY_PREFIX);
  before(async () => {
    server = await startRedis();
    redis = new Redis(server.url, { lazyConnect: false });
  });
  after(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('after a lockout and then a success, the kept lockout count expires after failureMemoryMs', async () => {
    const store = new RedisGuardStore(redis);
    const l = resolveLimits({ maxFailures: 1, lockoutMs: 1000, failureMemoryMs: 60_000 });
    const now = Date.now();
    const failed = await store.recordFailure('alice', l, now);
    expect(failed).to.deep.equal({ kind: 'rejected', lockedForMs: 1000 });
    await store.recordSuccess('alice', l);
    expect(await redis.hget(keys.failures('alice'), 'k')).to.equal('1');
    const ttl = await redis.pttl(keys.failures('alice'));
    expect(ttl).to.be.within(50_000, 60_000);
    // The same through a right TOTP code (the attempt script's success path).
    await store.recordFailure('bob', l, now);
    await redis.persist(keys.failures('bob'));
    const accepted = await store.attemptTotp('bob', [{ deviceId: 'd1', step: 1 }], l, now + 2000, 90_000, true);
    expect(accepted.kind).to.equal('accepted');
    expect(await redis.pttl(keys.failures('bob'))).to.be.within(50_000, 60_000);
  });

  it('an address counter without a TTL gets the window as its TTL when it refuses', async () => {
    const store = new RedisGuardStore(redis);
    const l = resolveLimits({ ipMaxFailures: 3, ipWindowMs: 30_000 });
    await redis.set(keys.ip('192.0.2.5'), '3');
    expect(await redis.pttl(keys.ip('192.0.2.5'))).to.equal(-1);
    const refused = await store.countIpAttempt('192.0.2.5', l);
    expect(refused).to.deep.equal({ kind: 'refused', retryAfterMs: 30_000 });
    expect(await redis.pttl(keys.ip('192.0.2.5'))).to.be.within(25_000, 30_000);
  });
});
