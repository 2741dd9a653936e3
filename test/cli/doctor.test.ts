/**
 * `koa-two-factor doctor` against redis-server processes this file starts:
 * one misconfigured on purpose (allkeys-lru, no persistence), one right
 * (noeviction, AOF), and a 3-master Cluster. The first fails with the
 * eviction line and warns about persistence; the others pass. On top: keys
 * no longer configured and guard keys without a TTL are counted, the other
 * commands walk every master of the Cluster, and a Cluster with uncovered
 * slots fails.
 */
import { expect } from 'chai';
import { Redis, type Cluster } from 'ioredis';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import { redisKeys } from '../../src/stores/redis-keys.ts';
import { resolveLimits } from '../../src/index.ts';
import { connectGuardCluster, startRedis, startRedisCluster, type RedisCluster, type RedisProcess } from '../support/redis-server.ts';
import { cli, newKey, seedUsers, type CliRun } from './helpers.ts';

/** The report line of check `name`, e.g. `FAIL  maxmemory-policy  allkeys-lru: …`. */
function line(run: CliRun, name: string): string {
  const found = run.stdout.split('\n').find((l) => new RegExp(`^(pass|WARN|FAIL)  ${name} `).test(l));
  expect(found, `a "${name}" line in:\n${run.stdout}`).to.be.a('string');
  return found!;
}

/** The line after check `name`'s: its advice. */
function adviceOf(run: CliRun, name: string): string {
  const lines = run.stdout.split('\n');
  return lines[lines.indexOf(line(run, name)) + 1]!.trim();
}

describe('koa-two-factor doctor', function () {
  this.timeout(60_000);
  const current = newKey('k2');
  const older = newKey('k1');
  const keys = `${current.setting},${older.setting}`;
  let bad: RedisProcess;
  let good: RedisProcess;
  let cluster: RedisCluster;
  let goodClient: Redis;
  let clusterClient: Cluster;

  before(async () => {
    [bad, good, cluster] = await Promise.all([
      startRedis({ args: ['--maxmemory-policy', 'allkeys-lru'] }),
      startRedis({ args: ['--maxmemory-policy', 'noeviction', '--appendonly', 'yes'] }),
      startRedisCluster(),
    ]);
    // The harness starts Cluster nodes without persistence: turn AOF on, as production would.
    await Promise.all(cluster.nodes.map(async ({ host, port }) => {
      const node = new Redis({ host, port });
      await node.config('SET', 'appendonly', 'yes');
      node.disconnect();
    }));
    const badClient = new Redis(bad.url);
    goodClient = new Redis(good.url);
    clusterClient = await connectGuardCluster(cluster);
    await Promise.all([seedUsers(badClient, '2fa', current.box, 20), seedUsers(goodClient, '2fa', current.box, 50), seedUsers(clusterClient, '2fa', current.box, 50)]);
    badClient.disconnect();
  });
  after(async () => {
    goodClient?.disconnect();
    clusterClient?.disconnect();
    await Promise.all([bad?.stop(), good?.stop(), cluster?.stop()]);
  });

  it('fails a Redis that evicts (allkeys-lru) and warns that it does not persist: exit status 2', async () => {
    const run = await cli(['doctor', '--redis', bad.url], { TWO_FACTOR_KEYS: keys });
    expect(run.status, run.stdout + run.stderr).to.equal(2);
    expect(line(run, 'maxmemory-policy')).to.match(/^FAIL  maxmemory-policy +allkeys-lru: under memory pressure Redis evicts any key: failure counters and replay state/);
    expect(adviceOf(run, 'maxmemory-policy')).to.equal('→ CONFIG SET maxmemory-policy noeviction (and set it in redis.conf), or give the package a Redis of its own');
    expect(line(run, 'persistence')).to.match(/^WARN  persistence +neither AOF nor RDB snapshots: a restart loses every enrolment/);
    expect(adviceOf(run, 'persistence')).to.match(/^→ CONFIG SET appendonly yes/);
    for (const name of ['connection', 'redis-version', 'cluster-slots', 'lua-scripts', 'clock', 'encryption-keys', 'key-ttl']) {
      expect(line(run, name), name).to.match(/^pass /);
    }
    expect(run.stdout).to.match(/8 pass, 1 warn, 1 fail \(127\.0\.0\.1:\d+\): exit status 2\n$/);

    const json = (await cli(['doctor', '--json', '--redis', bad.url], { TWO_FACTOR_KEYS: keys })).json();
    expect(json).to.include({ status: 'fail', exitStatus: 2 });
    const byName = Object.fromEntries(json.checks.map((c: { name: string }) => [c.name, c]));
    expect(byName['maxmemory-policy']).to.include({ status: 'fail' });
    expect(byName['maxmemory-policy'].advice).to.contain('noeviction');
    expect(byName['persistence']).to.include({ status: 'warn' });
    expect(json.checks).to.have.length(10);
  });

  it('warns on volatile-* eviction, with the reason (exit status 1 once it persists)', async () => {
    const client = new Redis(bad.url);
    try {
      await client.config('SET', 'maxmemory-policy', 'volatile-lru');
      await client.config('SET', 'appendonly', 'yes');
      const run = await cli(['doctor', '--redis', bad.url], { TWO_FACTOR_KEYS: keys });
      expect(run.status, run.stdout).to.equal(1);
      expect(line(run, 'maxmemory-policy')).to.match(/^WARN  maxmemory-policy +volatile-lru: under memory pressure Redis evicts keys with a TTL: failure counters, lockouts and replay state/);
    } finally {
      await client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await client.config('SET', 'appendonly', 'no');
      client.disconnect();
    }
  });

  it('passes a Redis that never evicts and keeps an AOF: exit status 0, and --json parses', async () => {
    const run = await cli(['doctor', '--redis', good.url], { TWO_FACTOR_KEYS: keys });
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    expect(line(run, 'maxmemory-policy')).to.match(/^pass  maxmemory-policy +noeviction/);
    expect(line(run, 'persistence')).to.match(/^pass  persistence +AOF on/);
    expect(line(run, 'encryption-keys')).to.match(/50 sealed secrets of 50 users .*: all open with the first key "k2"/);
    const json = (await cli(['doctor', '--json'], { REDIS_URL: good.url, TWO_FACTOR_KEYS: keys })).json();
    expect(json).to.include({ status: 'pass', exitStatus: 0 });
    expect(json.checks.map((c: { status: string }) => c.status)).to.deep.equal(Array(10).fill('pass'));
  });

  it('counts secrets sealed with a key no longer configured, and with an older one; fails without TWO_FACTOR_KEYS', async () => {
    const gone = newKey('gone');
    const prefix = 'keys';
    await seedUsers(goodClient, prefix, current.box, 10, 'fine');
    await seedUsers(goodClient, prefix, gone.box, 3, 'lost');
    await seedUsers(goodClient, prefix, older.box, 2, 'old');
    // A box moved to another user does not open (the user id is its associated data).
    await new RedisRecordStore(goodClient, { keyPrefix: prefix }).addDevice('moved', { id: 'd1', name: 'x', sealedSecret: current.box.seal('S', 'someone-else'), createdAt: 1, lastUsedAt: null }, 10);
    const run = await cli(['doctor', '--all', '--prefix', prefix, '--redis', good.url], { TWO_FACTOR_KEYS: keys });
    expect(run.status).to.equal(2);
    expect(line(run, 'encryption-keys')).to.match(/^FAIL  encryption-keys +16 sealed secrets of 16 users: 3 sealed with a key no longer configured \("gone": 3\); 1 do not open with the key of their id/);
    expect(adviceOf(run, 'encryption-keys')).to.match(/add the missing key \(gone\) back to TWO_FACTOR_KEYS/);

    await goodClient.del(redisKeys(prefix).record('lost-0'), redisKeys(prefix).record('lost-1'), redisKeys(prefix).record('lost-2'), redisKeys(prefix).record('moved'));
    const stale = await cli(['doctor', '--all', '--prefix', prefix, '--redis', good.url], { TWO_FACTOR_KEYS: keys });
    expect(stale.status).to.equal(1);
    expect(line(stale, 'encryption-keys')).to.match(/^WARN  encryption-keys +12 sealed secrets of 12 users: all open; 2 sealed with a key listed after "k2"/);
    expect(adviceOf(stale, 'encryption-keys')).to.contain('rotate-keys');

    const noKeys = await cli(['doctor', '--prefix', prefix, '--redis', good.url], {});
    expect(noKeys.status).to.equal(2);
    expect(line(noKeys, 'encryption-keys')).to.match(/^FAIL  encryption-keys +TWO_FACTOR_KEYS is not set/);
  });

  it('counts guard keys without a TTL', async () => {
    const prefix = 'ttl';
    const guard = new RedisGuardStore(goodClient, { keyPrefix: prefix });
    await seedUsers(goodClient, prefix, current.box, 2);
    // Failure budgets written by the package: each with a TTL.
    await guard.recordFailure('user-0', resolveLimits(), Date.now());
    await guard.recordFailure('user-1', resolveLimits(), Date.now());
    expect(line(await cli(['doctor', '--prefix', prefix, '--redis', good.url], { TWO_FACTOR_KEYS: keys }), 'key-ttl')).to.match(/^pass  key-ttl +2 guard keys, each with a TTL; 2 durable keys/);
    // One that lost it (written by hand, or by an old version).
    await goodClient.persist(redisKeys(prefix).failures('user-1'));
    const run = await cli(['doctor', '--prefix', prefix, '--redis', good.url], { TWO_FACTOR_KEYS: keys });
    expect(run.status).to.equal(1);
    expect(line(run, 'key-ttl')).to.match(/^WARN  key-ttl +1 of 2 guard keys have no TTL \(failures: 1\): they never expire/);
  });

  it('passes a 3-master Cluster with persistence: all 16,384 slots served, every key of a user on one slot', async () => {
    const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    const run = await cli(['doctor', '--cluster', '--redis', seeds], { TWO_FACTOR_KEYS: keys });
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    expect(line(run, 'cluster-slots')).to.match(/^pass  cluster-slots +all 16,384 slots served \(3 ranges\) by 3 masters; cluster_state ok/);
    expect(line(run, 'user-slot')).to.match(/^pass  user-slot +the 9 keys of a user share one slot/);
    expect(line(run, 'encryption-keys')).to.match(/50 sealed secrets of 50 users/);
    expect(line(run, 'lua-scripts')).to.match(/scripts load on 3 masters/);

    // A Cluster node reached as a single server is a mistake doctor names.
    const single = await cli(['doctor', '--redis', cluster.servers[0]!.url], { TWO_FACTOR_KEYS: keys });
    expect(line(single, 'cluster-slots')).to.match(/^FAIL  cluster-slots +this server is a Cluster node, reached as a single server/);
  });

  it('rotate-keys, stats and reset-user walk every master of the Cluster', async () => {
    const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    const next = newKey('k3');
    const rotated = await cli(['rotate-keys', '--json', '--cluster', '--redis', seeds], { TWO_FACTOR_KEYS: `${next.setting},${keys}` });
    expect(rotated.status, rotated.stderr).to.equal(0);
    expect(rotated.json().devices).to.include({ resealed: 50, unopenable: 0 });
    const after = await cli(['doctor', '--all', '--cluster', '--redis', seeds], { TWO_FACTOR_KEYS: `${next.setting},${keys}` });
    expect(line(after, 'encryption-keys')).to.match(/^pass  encryption-keys +50 sealed secrets of 50 users: all open with the first key "k3"/);
    expect((await cli(['reset-user', 'user-7', '--cluster', '--redis', seeds], {})).status).to.equal(0);
    const stats = await cli(['stats', '--json', '--cluster', '--redis', seeds], {});
    expect(stats.json()).to.include({ users: 50, active: 49, none: 1 });
  });

  it('fails a Cluster with uncovered slots', async () => {
    const seeds = cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',');
    const owner = new Redis(cluster.servers[0]!.url);
    const ranges = await owner.cluster('SLOTS');
    const mine = ranges.find((r) => r[2]?.[1] === cluster.servers[0]!.port)!;
    await owner.cluster('DELSLOTSRANGE', mine[0], mine[0] + 99);
    owner.disconnect();
    const run = await cli(['doctor', '--json', '--cluster', '--redis', seeds], { TWO_FACTOR_KEYS: keys });
    expect(run.status).to.equal(2);
    const slots = run.json().checks.find((c: { name: string }) => c.name === 'cluster-slots');
    expect(slots.status).to.equal('fail');
    expect(slots.detail).to.match(/^16,284 of 16,384 slots served/);
  });
});
