/**
 * The store contracts against real Redis: a standalone server and a
 * 3-master cluster, both started by this file (never the machine's Redis).
 * Each test gets its own key prefix, so tests never see each other's keys.
 */
import { expect } from 'chai';
import { Cluster, Redis } from 'ioredis';
import { resolveLimits } from '../../src/core/limits.ts';
import { redisKeys } from '../../src/stores/redis-keys.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import { ATTEMPT } from '../../src/stores/redis-scripts.ts';
import { startRedis, startRedisCluster, type RedisCluster, type RedisProcess } from '../support/redis-server.ts';
import { guardStoreContract } from './guard-store.contract.ts';
import { recordStoreContract } from './record-store.contract.ts';

let prefixCounter = 0;
/** A key prefix no other test in this process uses. */
function freshPrefix(): string {
  prefixCounter += 1;
  return `t${process.pid}-${prefixCounter}`;
}

const noCleanup = async (): Promise<void> => {};

describe('stores/redis (standalone server)', function () {
  this.timeout(20_000);
  let server: RedisProcess | undefined;
  let client: Redis | undefined;

  before(async () => {
    server = await startRedis();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });

  after(async () => {
    client?.disconnect();
    await server?.stop();
  });

  recordStoreContract('RedisRecordStore', async () => ({
    store: new RedisRecordStore(client!, { keyPrefix: freshPrefix() }),
    cleanup: noCleanup,
  }));
  guardStoreContract('RedisGuardStore', async () => ({
    store: new RedisGuardStore(client!, { keyPrefix: freshPrefix() }),
    cleanup: noCleanup,
  }));

  describe('Redis specifics', () => {
    it('keeps the user record durable (no TTL) and gives the guard keys their TTLs', async () => {
      const prefix = freshPrefix();
      const keys = redisKeys(prefix);
      const records = new RedisRecordStore(client!, { keyPrefix: prefix });
      const guard = new RedisGuardStore(client!, { keyPrefix: prefix });
      const limits = resolveLimits({ failureMemoryMs: 90_000, ipWindowMs: 60_000 });
      const now = Date.now();
      await records.addDevice('u', { id: 'd', name: 'P', sealedSecret: 's', createdAt: now, lastUsedAt: null }, 10);
      await guard.attemptTotp('u', [{ deviceId: 'd', step: 1 }], limits, now, 120_000, true);
      await guard.attemptTotp('u', [], limits, now, 120_000, true);
      await guard.countIpAttempt('192.0.2.1', limits);
      await guard.saveEnrolment({ id: 'e', userId: 'u', name: 'P', sealedSecret: 's', createdAt: now, expiresAt: now + 600_000 });

      expect(await client!.pttl(keys.record('u'))).to.equal(-1);
      expect(await client!.pttl(keys.steps('u'))).to.be.within(110_000, 120_000);
      expect(await client!.pttl(keys.failures('u'))).to.be.within(80_000, 90_000);
      expect(await client!.pttl(keys.ip('192.0.2.1'))).to.be.within(50_000, 60_000);
      expect(await client!.pttl(keys.enrolment('u', 'e'))).to.be.within(590_000, 600_000);
    });

    it('writes only keys under its prefix', async () => {
      const prefix = freshPrefix();
      const records = new RedisRecordStore(client!, { keyPrefix: prefix });
      const guard = new RedisGuardStore(client!, { keyPrefix: prefix });
      await records.setPolicy({ requireAll: true });
      await records.bumpGeneration('u');
      await guard.recordFailure('u', resolveLimits(), Date.now());
      await guard.countIpAttempt('192.0.2.2', resolveLimits());
      const found = await client!.keys(`${prefix}:*`);
      expect(found).to.have.length(4);
      for (const k of found) expect(k.startsWith(`${prefix}:`)).to.equal(true);
    });

    it('still works after the script cache is flushed (EVALSHA falls back to EVAL)', async () => {
      const guard = new RedisGuardStore(client!, { keyPrefix: freshPrefix() });
      // SCRIPT FLUSH on the server this file started; it only drops cached scripts.
      await client!.script('FLUSH');
      expect(await client!.script('EXISTS', ATTEMPT.sha)).to.deep.equal([0]);
      const out = await guard.attemptTotp('u', [{ deviceId: 'd', step: 5 }], resolveLimits(), Date.now(), 60_000, true);
      expect(out).to.deep.equal({ kind: 'accepted', deviceId: 'd', step: 5 });
    });

    it('stores times as exact integers (no float formatting of ms timestamps)', async () => {
      const prefix = freshPrefix();
      const guard = new RedisGuardStore(client!, { keyPrefix: prefix });
      const now = 1_799_999_999_999; // 13 digits; odd, so a float rounding would show
      const limits = resolveLimits({ maxFailures: 1, lockoutMs: 1_001 });
      expect(await guard.recordFailure('u', limits, now)).to.deep.equal({ kind: 'rejected', lockedForMs: 1_001 });
      expect(await client!.hget(redisKeys(prefix).failures('u'), 'lu')).to.equal(String(now + 1_001));
      expect(await guard.lockRemaining('u', now + 1)).to.equal(1_000);
    });
  });
});

describe('stores/redis (3-master cluster)', function () {
  this.timeout(30_000);
  let cluster: RedisCluster | undefined;
  let client: Cluster | undefined;

  before(async () => {
    cluster = await startRedisCluster();
    client = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  });

  after(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  guardStoreContract('RedisGuardStore on a cluster', async () => ({
    store: new RedisGuardStore(client!, { keyPrefix: freshPrefix() }),
    cleanup: noCleanup,
  }));
  recordStoreContract('RedisRecordStore on a cluster', async () => ({
    store: new RedisRecordStore(client!, { keyPrefix: freshPrefix() }),
    cleanup: noCleanup,
  }));

  describe('Cluster specifics', () => {
    it('spreads users over more than one master (so the contract really crossed slots)', async () => {
      const prefix = freshPrefix();
      const keys = redisKeys(prefix);
      const slots = new Set<number>();
      for (let i = 0; i < 20; i++) slots.add(Number(await client!.cluster('KEYSLOT', keys.record(`user-${i}`))));
      const masters = client!.nodes('master');
      expect(masters.length).to.equal(3);
      expect(slots.size).to.be.above(1);
    });

    it('keeps all of one user\'s keys on one slot, even with braces in the user id', async () => {
      const keys = redisKeys(freshPrefix());
      for (const id of ['alice', '{x}', 'a}b{c', 'ü:1']) {
        const ks = [keys.record(id), keys.steps(id), keys.failures(id), keys.enrolment(id, 'e1')];
        const slots = await Promise.all(ks.map((k) => client!.cluster('KEYSLOT', k)));
        expect(new Set(slots).size, id).to.equal(1);
      }
    });

    it('runs attemptTotp and resetUser for a user id containing braces', async () => {
      const guard = new RedisGuardStore(client!, { keyPrefix: freshPrefix() });
      const now = Date.now();
      for (const id of ['{x}', 'a}b{c']) {
        expect(await guard.attemptTotp(id, [{ deviceId: 'd', step: 1 }], resolveLimits(), now, 60_000, true)).to.deep.include({ kind: 'accepted' });
        await guard.resetUser(id);
        expect(await guard.attemptTotp(id, [{ deviceId: 'd', step: 1 }], resolveLimits(), now, 60_000, true)).to.deep.include({ kind: 'accepted' });
      }
    });
  });
});
