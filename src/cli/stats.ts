/**
 * `koa-two-factor stats`: enrolled users by state, users locked out now and
 * at the hard cap, and the memory the package's keys take. One SCAN walk
 * over the prefix, each batch read in one pipeline per node.
 */
import { parseRedisKey, redisKeyPatterns, redisKeys } from '../stores/redis-keys.ts';
import { RedisRecordStore } from '../stores/redis-record-store.ts';
import { bytes, count, type CliIo } from './cli-io.ts';
import { connect, type ConnectOptions, type Connection } from './connect.ts';
import { info } from './redis-info.ts';
import { scanKeys } from './scan-users.ts';

export interface StatsOptions {
  connect: ConnectOptions;
  prefix: string;
  json: boolean;
  /** The app's `limits.hardCap`. */
  hardCap: number;
}

export interface Stats {
  /** Users with a record (users who never had 2FA nor a requirement have none). */
  users: number;
  /** By state, as the admin page shows it. */
  active: number;
  pending: number;
  none: number;
  requireAll: boolean;
  authenticatorApps: number;
  passkeys: number;
  /** Users whose failure budget is locked now. */
  lockedOut: number;
  /** Users whose consecutive failures reached the hard cap (TOTP refused until a backup code or a reset). */
  atHardCap: number;
  hardCap: number;
  memory: {
    /** Keys under the prefix. */
    keys: number;
    /** MEMORY USAGE of every key under the prefix. */
    bytes: number;
    /** Of which durable records and the policy. */
    recordBytes: number;
    /** `used_memory` of the server(s), for scale. */
    serverBytes: number;
  };
}

export async function collectStats(o: StatsOptions, conn: Connection): Promise<Stats> {
  const requireAll = (await conn.client.hget(redisKeys(o.prefix).policy(), 'requireAll')) === '1';
  const s: Stats = {
    users: 0, active: 0, pending: 0, none: 0, requireAll, authenticatorApps: 0, passkeys: 0,
    lockedOut: 0, atHardCap: 0, hardCap: o.hardCap, memory: { keys: 0, bytes: 0, recordBytes: 0, serverBytes: 0 },
  };
  const now = Date.now();
  const store = new RedisRecordStore(conn.client, { keyPrefix: o.prefix });
  for await (const { node, keys } of scanKeys(conn, redisKeyPatterns(o.prefix).all)) {
    const parsed = keys.map((k) => parseRedisKey(o.prefix, k));
    const failureKeys = keys.filter((_, i) => parsed[i]?.kind === 'failures');
    // The failure budget's fields as the ATTEMPT script (src/stores/redis-scripts.ts) writes them: locked-until, consecutive failures.
    const replies = (await node.pipeline([...keys.map((k) => ['memory', 'usage', k]), ...failureKeys.map((k) => ['hmget', k, 'lu', 'c'])]).exec()) ?? [];
    const userIds: string[] = [];
    parsed.forEach((p, i) => {
      if (!p) return;
      const size = Number(replies[i]?.[1] ?? 0);
      s.memory.keys++;
      s.memory.bytes += size;
      if (p.kind === 'record' || p.kind === 'policy') s.memory.recordBytes += size;
      if (p.kind === 'record' && p.userId !== undefined) userIds.push(p.userId);
    });
    failureKeys.forEach((_, j) => {
      const [lu, c] = (replies[keys.length + j]?.[1] ?? []) as (string | null)[];
      if (Number(lu) > now) s.lockedOut++;
      if (Number(c) >= o.hardCap) s.atHardCap++;
    });
    for (const record of await Promise.all(userIds.map((id) => store.get(id)))) {
      const passkeys = record.devices.filter((d) => d.passkey).length;
      s.users++;
      s.passkeys += passkeys;
      s.authenticatorApps += record.devices.length - passkeys;
      if (record.devices.length > 0) s.active++;
      else if (record.required || requireAll) s.pending++;
      else s.none++;
    }
  }
  for (const node of conn.masters()) s.memory.serverBytes += Number((await info(node, 'memory'))['used_memory'] ?? 0);
  return s;
}

export async function stats(o: StatsOptions, io: CliIo): Promise<number> {
  const conn = await connect(o.connect, io.env);
  try {
    const s = await collectStats(o, conn);
    if (o.json) {
      io.stdout(`${JSON.stringify(s)}\n`);
      return 0;
    }
    const rows: [string, string][] = [
      ['users with a record', count(s.users)],
      ['  active (2FA on)', count(s.active)],
      [`  pending (required${s.requireAll ? ' for all' : ''}, not set up)`, count(s.pending)],
      ['  none', count(s.none)],
      ['authenticator apps', count(s.authenticatorApps)],
      ['passkeys', count(s.passkeys)],
      ['locked out now', count(s.lockedOut)],
      [`at the hard cap (${count(s.hardCap)} failures)`, count(s.atHardCap)],
      ['memory of the package\'s keys', `${bytes(s.memory.bytes)} in ${count(s.memory.keys)} keys (records ${bytes(s.memory.recordBytes)}; Redis uses ${bytes(s.memory.serverBytes)} in all)`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    for (const [k, v] of rows) io.stdout(`${k.padEnd(width)}  ${v}\n`);
    if (s.requireAll) io.stdout('2FA is required for all: users who have not logged in since have no record yet and are not counted as pending\n');
    return 0;
  } finally {
    await conn.close();
  }
}
