/**
 * Store edge cases found while writing the contract suites: a caller clock
 * that differs from the store's, a device id added again, the empty user id
 * on Redis Cluster.
 */
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { resolveLimits } from '../../src/core/limits.ts';
import { MemoryGuardStore } from '../../src/stores/memory-guard-store.ts';
import { MemoryRecordStore } from '../../src/stores/memory-record-store.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import type { GuardStore, RecordStore } from '../../src/core/store-types.ts';
import { startRedis, startRedisCluster, type RedisCluster, type RedisProcess } from '../support/redis-server.ts';

describe('store edge cases: skewed clocks, re-added devices, empty ids', function () {
  this.timeout(30_000);
  let server: RedisProcess | undefined;
  let client: Redis | undefined;
  let cluster: RedisCluster | undefined;
  let clusterClient: Cluster | undefined;
  let n = 0;
  const prefix = () => `repro-${++n}`;

  before(async () => {
    [server, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    clusterClient = new Cluster(cluster.nodes);
  });

  after(async () => {
    client?.disconnect();
    clusterClient?.disconnect();
    await Promise.all([server?.stop(), cluster?.stop()]);
  });

  // Bug 1: MemoryGuardStore computes expiries from the caller's `now` but
  // checks them against its own clock (`this.now`, Date.now). A caller whose
  // clock is behind (TwoFactorService's `now` option, "for tests") loses
  // replay protection and the failure budget at once. Redis uses relative
  // TTLs and is not affected.
  for (const kind of ['memory', 'redis'] as const) {
    const make = (): GuardStore => (kind === 'memory' ? new MemoryGuardStore() : new RedisGuardStore(client!, { keyPrefix: prefix() }));

    it(`${kind}: refuses a replay when the caller's clock is an hour behind the store's`, async () => {
      const store = make();
      const past = Date.now() - 3_600_000;
      const l = resolveLimits();
      expect(await store.attemptTotp('u', [{ deviceId: 'd', step: 7 }], l, past, 120_000, true)).to.deep.include({ kind: 'accepted' });
      expect(await store.attemptTotp('u', [{ deviceId: 'd', step: 7 }], l, past + 1, 120_000, true)).to.deep.include({ kind: 'rejected' });
    });

    it(`${kind}: locks out when the caller's clock is an hour behind the store's`, async () => {
      const store = make();
      const past = Date.now() - 3_600_000;
      const l = resolveLimits({ maxFailures: 3, failureMemoryMs: 60_000 });
      await store.recordFailure('u', l, past);
      await store.recordFailure('u', l, past + 1);
      expect(await store.recordFailure('u', l, past + 2)).to.deep.equal({ kind: 'rejected', lockedForMs: l.lockoutMs });
    });
  }

  // Bug 2: RedisRecordStore.addDevice over an existing device id keeps the
  // old `u:<id>` field when the new record has lastUsedAt null; the memory
  // store replaces the whole device.
  for (const kind of ['memory', 'redis'] as const) {
    it(`${kind}: addDevice over an existing id replaces lastUsedAt too`, async () => {
      const store: RecordStore = kind === 'memory' ? new MemoryRecordStore() : new RedisRecordStore(client!, { keyPrefix: prefix() });
      await store.addDevice('u', { id: 'd', name: 'A', sealedSecret: 's1', createdAt: 1, lastUsedAt: 5 }, 10);
      await store.addDevice('u', { id: 'd', name: 'B', sealedSecret: 's2', createdAt: 2, lastUsedAt: null }, 10);
      expect((await store.get('u')).devices).to.deep.equal([{ id: 'd', name: 'B', sealedSecret: 's2', createdAt: 2, lastUsedAt: null }]);
    });
  }

  // Bug 3: the empty user id gives the hash tag `{}`, which Redis Cluster
  // ignores, so the steps and failure keys land on different slots and every
  // two-key command fails with CROSSSLOT.
  it('cluster: attemptTotp and resetUser work for the empty user id', async () => {
    const store = new RedisGuardStore(clusterClient!, { keyPrefix: prefix() });
    const l = resolveLimits({ maxFailures: 3 });
    const now = Date.now();
    expect(await store.attemptTotp('', [{ deviceId: 'd', step: 1 }], l, now, 60_000, true)).to.deep.include({ kind: 'accepted' });
    expect(await store.attemptTotp('', [{ deviceId: 'd', step: 1 }], l, now + 1, 60_000, false)).to.deep.include({ kind: 'rejected' });
    for (let i = 0; i < 3; i++) await store.recordFailure('', l, now + 2 + i);
    expect(await store.lockRemaining('', now + 10)).to.be.above(0);
    // Someone else's state, which a reset of '' must not touch (no "every user" by an empty id).
    expect(await store.attemptTotp('other', [{ deviceId: 'd', step: 1 }], l, now, 60_000, true)).to.deep.include({ kind: 'accepted' });
    await store.recordFailure('other', l, now);

    await store.resetUser('');
    // The failures and the lockout are gone, and the replayed step is accepted again.
    expect(await store.lockRemaining('', now + 10)).to.equal(0);
    expect(await store.attemptTotp('', [{ deviceId: 'd', step: 1 }], l, now + 10, 60_000, true)).to.deep.equal({ kind: 'accepted', deviceId: 'd', step: 1 });
    // Two more failures of '' do not lock: the earlier three were cleared.
    expect(await store.recordFailure('', l, now + 11)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
    expect(await store.recordFailure('', l, now + 12)).to.deep.equal({ kind: 'rejected', lockedForMs: 0 });
    // The other user's step is still spent, and their failure still counts (two more lock them).
    expect(await store.attemptTotp('other', [{ deviceId: 'd', step: 1 }], l, now + 13, 60_000, false)).to.deep.include({ kind: 'rejected' });
    await store.recordFailure('other', l, now + 14);
    expect(await store.recordFailure('other', l, now + 15)).to.deep.equal({ kind: 'rejected', lockedForMs: l.lockoutMs });
  });
});
