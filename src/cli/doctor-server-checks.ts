/**
 * doctor's checks of the Redis server itself: reachable and fast, recent
 * enough, never evicting, persisting, a whole Cluster, the Lua scripts, the
 * clock. On a Cluster each check asks every master and reports the worst.
 */
import type { Redis } from 'ioredis';
import { STEP_TTL_SKEW_MS } from '../core/limits.ts';
import { DEFAULT_KEY_PREFIX, everyUserKey, redisKeys } from '../stores/redis-keys.ts';
import * as guardScripts from '../stores/redis-scripts.ts';
import * as recordScripts from '../stores/redis-record-scripts.ts';
import type { Script } from '../stores/redis-scripts.ts';
import { count, messageOf } from './cli-io.ts';
import type { Connection } from './connect.ts';
import { check, type Check, type CheckStatus } from './report.ts';
import { info } from './redis-info.ts';

/** Oldest Redis the package supports (what ioredis 6 needs; the README says the same). */
const MIN_REDIS_VERSION = [6, 2, 0];
/** Round trips: a verification makes two in a row under a 1 s deadline. */
const LATENCY_WARN_MS = 50;
const LATENCY_FAIL_MS = 250;
/** Clock offsets: under a second is NTP working; past the replay memory's margin for skew (STEP_TTL_SKEW_MS), a used code may be accepted again. */
const CLOCK_WARN_MS = 1000;
const CLOCK_FAIL_MS = STEP_TTL_SKEW_MS;
const CLUSTER_SLOTS = 16_384;
const NO_EVICTION_ADVICE = 'CONFIG SET maxmemory-policy noeviction (and set it in redis.conf), or give the package a Redis of its own';

/** `[label, value]` for every master, asked in parallel. */
async function eachMaster<T>(conn: Connection, ask: (node: Redis) => Promise<T>): Promise<[string, T][]> {
  const nodes = conn.masters();
  return Promise.all(nodes.map(async (n) => [conn.label(n), await ask(n)] as [string, T]));
}

/** "on 127.0.0.1:7001" on a Cluster, "" on one server. */
function where(conn: Connection, labels: string[]): string {
  return conn.isCluster ? ` on ${labels.join(', ')}` : '';
}

function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.includes('fail') ? 'fail' : statuses.includes('warn') ? 'warn' : 'pass';
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function connectionCheck(conn: Connection): Promise<Check> {
  const results = await eachMaster(conn, async (node) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = process.hrtime.bigint();
      await node.ping();
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(times);
  });
  const slowest = Math.max(...results.map(([, ms]) => ms));
  const status: CheckStatus = slowest >= LATENCY_FAIL_MS ? 'fail' : slowest >= LATENCY_WARN_MS ? 'warn' : 'pass';
  const nodes = conn.isCluster ? `${results.length} masters, slowest` : conn.target;
  return check('connection', status, `${nodes}: round trip ${slowest.toFixed(1)} ms (median of 5 PINGs)`,
    `a verification makes 2 round trips in a row under a 1 s deadline: put Redis near the app servers (under ${LATENCY_WARN_MS} ms)`);
}

export async function versionCheck(conn: Connection): Promise<Check> {
  const versions = await eachMaster(conn, async (node) => (await info(node, 'server'))['redis_version'] ?? '?');
  const tooOld = versions.filter(([, v]) => {
    const parts = v.split('.').map(Number);
    for (let i = 0; i < 3; i++) {
      if ((parts[i] ?? 0) !== MIN_REDIS_VERSION[i]) return (parts[i] ?? 0) < MIN_REDIS_VERSION[i]!;
    }
    return false;
  });
  const listed = [...new Set(versions.map(([, v]) => v))].join(', ');
  if (tooOld.length > 0) {
    return check('redis-version', 'fail', `Redis ${tooOld.map(([, v]) => v).join(', ')}${where(conn, tooOld.map(([l]) => l))}: older than ${MIN_REDIS_VERSION.join('.')}`,
      `upgrade to Redis ${MIN_REDIS_VERSION.join('.')} or later (the package is tested on 7.0)`);
  }
  return check('redis-version', 'pass', `Redis ${listed}`);
}

/** What a `maxmemory-policy` means for the package: the check's status and why. */
function judgeEviction(policy: string): [CheckStatus, string] {
  if (policy === 'noeviction') return ['pass', 'noeviction: a full Redis refuses writes (the app answers 503) rather than forget'];
  if (policy.startsWith('allkeys-')) {
    return ['fail', `${policy}: under memory pressure Redis evicts any key: failure counters and replay state (guessing silently reopens) and durable records (users lose their second factor)`];
  }
  if (policy.startsWith('volatile-')) {
    return ['warn', `${policy}: under memory pressure Redis evicts keys with a TTL: failure counters, lockouts and replay state, which silently reopens guessing`];
  }
  return ['warn', `maxmemory_policy "${policy}" is not one the package knows`];
}

export async function evictionCheck(conn: Connection): Promise<Check> {
  const judged = (await eachMaster(conn, async (node) => (await info(node, 'memory'))['maxmemory_policy'] ?? 'unknown'))
    .map(([label, policy]) => ({ label, policy, verdict: judgeEviction(policy) }));
  const status = worst(judged.map((j) => j.verdict[0]));
  const those = judged.filter((j) => j.verdict[0] === status);
  return check('maxmemory-policy', status, `${those[0]!.verdict[1]}${status === 'pass' ? '' : where(conn, those.map((j) => j.label))}`, NO_EVICTION_ADVICE);
}

/** AOF on, or RDB save points, as the server reports them; null when CONFIG is not allowed. */
async function persistenceOf(node: Redis): Promise<{ aof: boolean; fsync: string; save: string | null }> {
  const aof = (await info(node, 'persistence'))['aof_enabled'] === '1';
  let save: string | null = null;
  let fsync = '';
  try {
    save = ((await node.config('GET', 'save')) as string[])[1] ?? '';
    fsync = ((await node.config('GET', 'appendfsync')) as string[])[1] ?? '';
  } catch {
    // CONFIG is often not allowed on managed Redis: AOF from INFO is all we know.
  }
  return { aof, fsync, save };
}

export async function persistenceCheck(conn: Connection): Promise<Check> {
  const states = await eachMaster(conn, persistenceOf);
  const none = states.filter(([, s]) => !s.aof && s.save === '');
  const unknown = states.filter(([, s]) => !s.aof && s.save === null);
  if (none.length > 0) {
    return check('persistence', 'warn', `neither AOF nor RDB snapshots${where(conn, none.map(([l]) => l))}: a restart loses every enrolment, backup code and the replay state`,
      'CONFIG SET appendonly yes (appendfsync everysec), and the same in redis.conf; or RDB snapshots plus replicas');
  }
  if (unknown.length > 0) {
    return check('persistence', 'warn', `AOF off and RDB save points unknown (CONFIG not allowed)${where(conn, unknown.map(([l]) => l))}`,
      'make sure the provider persists this Redis (AOF, or snapshots plus replicas)');
  }
  const s = states[0]![1];
  const detail = s.aof ? `AOF on${s.fsync ? ` (appendfsync ${s.fsync})` : ''}` : `RDB snapshots (save ${s.save}); AOF off: a crash loses what changed since the last snapshot`;
  return check('persistence', 'pass', detail);
}

/** Cluster: all 16,384 slots served and the state ok. One server: fine, unless it is a Cluster node reached without --cluster. */
export async function slotsCheck(conn: Connection): Promise<Check> {
  if (!conn.isCluster) {
    const enabled = (await info(conn.masters()[0]!, 'cluster'))['cluster_enabled'] === '1';
    if (enabled) return check('cluster-slots', 'fail', 'this server is a Cluster node, reached as a single server', 'run again with --cluster (and connect the app with ioredis\' Cluster)');
    return check('cluster-slots', 'pass', 'a single server (not a Cluster): nothing to cover');
  }
  // Each master's view: a node that lost slots knows at once, the others by gossip.
  const views = await eachMaster(conn, async (node) => {
    const ranges = (await node.cluster('SLOTS')) as [number, number, ...unknown[]][];
    return { ranges: ranges.length, served: ranges.reduce((n, [start, end]) => n + end - start + 1, 0) };
  });
  const least = Math.min(...views.map(([, v]) => v.served));
  const ranges = views[0]![1].ranges;
  const states = await eachMaster(conn, async (node) => (await info(node, 'cluster'))['cluster_enabled'] === '1'
    ? ((await node.cluster('INFO')) as string).match(/cluster_state:(\w+)/)?.[1] ?? '?' : 'disabled');
  const notOk = states.filter(([, s]) => s !== 'ok');
  if (least < CLUSTER_SLOTS || notOk.length > 0) {
    return check('cluster-slots', 'fail', `${count(least)} of ${count(CLUSTER_SLOTS)} slots served${notOk.length ? `; cluster_state ${notOk.map(([l, s]) => `${s} on ${l}`).join(', ')}` : ''}: users whose keys hash to an uncovered slot get 503, the others do not`,
      'assign the missing slots (redis-cli --cluster fix <host:port>) and wait for cluster_state:ok');
  }
  return check('cluster-slots', 'pass', `all ${count(CLUSTER_SLOTS)} slots served (${ranges === 1 ? '1 range' : `${ranges} ranges`}) by ${states.length} masters; cluster_state ok`);
}

/** Every key of one user on one slot (CLUSTER KEYSLOT), or a script touching two of them fails with CROSSSLOT. */
export async function userSlotCheck(conn: Connection, prefix: string): Promise<Check> {
  if (!conn.isCluster) return check('user-slot', 'pass', 'a single server: every key of a user is on it');
  const client = conn.client as import('ioredis').Cluster;
  const keys = redisKeys(prefix);
  for (const userId of ['doctor-user', 'odd{id}:x', '']) {
    const names = everyUserKey(keys, userId);
    const slots = await Promise.all(names.map(async (k) => Number(await client.cluster('KEYSLOT', k))));
    if (new Set(slots).size !== 1) {
      return check('user-slot', 'fail', `the keys of user "${userId}" hash to slots ${[...new Set(slots)].join(', ')}: scripts would fail with CROSSSLOT`,
        `use a key prefix without { or } (now "${prefix}"; the default is "${DEFAULT_KEY_PREFIX}")`);
    }
  }
  return check('user-slot', 'pass', `the ${everyUserKey(keys, 'x').length} keys of a user share one slot (hash tag {<user id>})`);
}

/** Every Lua script of the stores, from their modules. */
export function allScripts(): Script[] {
  const isScript = (v: unknown): v is Script => typeof v === 'object' && v !== null && typeof (v as Script).lua === 'string' && typeof (v as Script).sha === 'string';
  return [...Object.values(guardScripts), ...Object.values(recordScripts)].filter(isScript);
}

export async function scriptsCheck(conn: Connection): Promise<Check> {
  const scripts = allScripts();
  const failures: string[] = [];
  await eachMaster(conn, async (node) => {
    for (const s of scripts) {
      try {
        const sha = await node.script('LOAD', s.lua);
        if (sha !== s.sha) failures.push(`${conn.label(node)}: digest ${String(sha)} ≠ ${s.sha}`);
      } catch (err) {
        failures.push(`${conn.label(node)}: ${messageOf(err)}`);
      }
    }
  });
  if (failures.length > 0) {
    return check('lua-scripts', 'fail', `${failures.length} of ${scripts.length * conn.masters().length} script loads failed (${failures[0]})`,
      'the package runs every decision as a Lua script: allow EVAL, EVALSHA and SCRIPT for its ACL user, and do not disable scripting');
  }
  return check('lua-scripts', 'pass', `${scripts.length} scripts load${conn.isCluster ? ` on ${conn.masters().length} masters` : ''}`);
}

export async function clockCheck(conn: Connection): Promise<Check> {
  const offsets = await eachMaster(conn, async (node) => {
    const before = Date.now();
    const [s, us] = await node.time();
    const after = Date.now();
    return Number(s) * 1000 + Number(us) / 1000 - (before + after) / 2;
  });
  const [label, offset] = offsets.reduce((a, b) => (Math.abs(b[1]) > Math.abs(a[1]) ? b : a));
  const abs = Math.abs(offset);
  const status: CheckStatus = abs > CLOCK_FAIL_MS ? 'fail' : abs > CLOCK_WARN_MS ? 'warn' : 'pass';
  const side = offset >= 0 ? 'ahead of' : 'behind';
  return check('clock', status, `Redis${conn.isCluster ? ` (${label})` : ''} is ${abs < 1 ? 'less than 1 ms' : `${Math.round(abs)} ms`} ${side} this host (TIME)`,
    `lockouts and used time steps are times written by one app server and read by another: run NTP (chrony, systemd-timesyncd) on every app host and on Redis; past ${CLOCK_FAIL_MS / 1000} s the replay memory's margin for clock differences is used up`);
}
