/**
 * `koa-two-factor stats` on a redis-server this file starts: its numbers are
 * the seeded data's (users by state, devices, locked out now, at the hard
 * cap, memory), in text and in JSON.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { resolveLimits } from '../../src/index.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { cli, newKey, seedUsers } from './helpers.ts';

describe('koa-two-factor stats', function () {
  this.timeout(30_000);
  let redis: RedisProcess;
  let client: Redis;
  let env: Record<string, string>;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    env = { REDIS_URL: redis.url };
    const { box } = newKey('k1');
    const records = new RedisRecordStore(client);
    const guard = new RedisGuardStore(client);
    await seedUsers(client, '2fa', box, 30);
    // One of them also has a passkey.
    await records.addDevice('user-0', { id: 'pk', name: 'Key', sealedSecret: '', passkey: { credentialId: 'cred', publicKey: 'pub', counter: 0 }, createdAt: 2, lastUsedAt: null }, 10);
    // Required by the admin, not set up: pending.
    await records.setRequired(['p-1', 'p-2', 'p-3', 'p-4', 'p-5'], true);
    // A record without devices and not required (after a reset): none.
    for (const id of ['n-1', 'n-2', 'n-3', 'n-4']) await records.bumpGeneration(id);
    // Locked out now: one failure with a budget of one.
    const lockAtOnce = resolveLimits({ maxFailures: 1 });
    for (const id of ['user-1', 'user-2', 'user-3']) await guard.recordFailure(id, lockAtOnce, Date.now());
    // At a hard cap of 10: ten failures in a window that allows twenty.
    const roomy = resolveLimits({ maxFailures: 20, hardCap: 20 });
    for (const id of ['user-4', 'user-5']) for (let i = 0; i < 10; i++) await guard.recordFailure(id, roomy, Date.now());
    // Below it: nine.
    for (let i = 0; i < 9; i++) await guard.recordFailure('user-6', roomy, Date.now());
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('counts users by state, devices, lockouts, the hard cap and memory', async () => {
    const run = await cli(['stats', '--json', '--hard-cap', '10'], env);
    expect(run.status, run.stderr).to.equal(0);
    const s = run.json();
    expect(s).to.include({ users: 39, active: 30, pending: 5, none: 4, requireAll: false, authenticatorApps: 30, passkeys: 1, lockedOut: 3, atHardCap: 2, hardCap: 10 });
    // 39 records and 6 failure budgets.
    expect(s.memory.keys).to.equal(45);
    expect(s.memory.bytes).to.be.greaterThan(s.memory.recordBytes);
    expect(s.memory.recordBytes).to.be.greaterThan(39 * 100);
    expect(s.memory.serverBytes).to.be.greaterThan(s.memory.bytes);

    const text = await cli(['stats', '--hard-cap', '10'], env);
    expect(text.status).to.equal(0);
    expect(text.stdout).to.match(/^users with a record +39$/m);
    expect(text.stdout).to.match(/^ {2}active \(2FA on\) +30$/m);
    expect(text.stdout).to.match(/^ {2}pending \(required, not set up\) +5$/m);
    expect(text.stdout).to.match(/^locked out now +3$/m);
    expect(text.stdout).to.match(/^at the hard cap \(10 failures\) +2$/m);
    expect(text.stdout).to.match(/^memory of the package's keys +[\d.]+ KB in 45 keys/m);
  });

  it('the default hard cap is 100; with 2FA required for all, users without a device are pending', async () => {
    await new RedisRecordStore(client).setPolicy({ requireAll: true });
    const s = (await cli(['stats', '--json'], env)).json();
    expect(s).to.include({ requireAll: true, active: 30, pending: 9, none: 0, atHardCap: 0, hardCap: 100 });
  });
});
