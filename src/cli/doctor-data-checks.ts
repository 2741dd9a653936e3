/**
 * doctor's checks of what the package stored: that the configured keys open
 * the sealed secrets (and how many need another key or a rotation), and
 * that every key has the lifetime it should (guard state a TTL, durable
 * records none).
 */
import { SecretDecryptionError } from '../core/encryption.ts';
import { DURABLE_KEY_KINDS, parseRedisKey, redisKeyPatterns, type RedisKeyKind } from '../stores/redis-keys.ts';
import { RedisRecordStore } from '../stores/redis-record-store.ts';
import { count, plural } from './cli-io.ts';
import type { Connection } from './connect.ts';
import type { CliKeys } from './keys.ts';
import { check, type Check } from './report.ts';
import { sampleUsers, scanKeys } from './scan-users.ts';

/** Users read at a time. */
const CONCURRENCY = 200;

export interface SealedCounts {
  users: number;
  secrets: number;
  /** Opened with the first (current) key. */
  current: number;
  /** Opened with an older listed key: `rotate-keys` re-seals them. */
  stale: number;
  /** Sealed with a key id not in TWO_FACTOR_KEYS, by id. */
  unknownKey: Record<string, number>;
  /** Sealed with a listed key id but not opening: another key under that id, or altered. */
  failed: number;
}

/** Opens every sealed secret of `userIds` with the configured keys and counts the outcomes. */
export async function countSealed(conn: Connection, prefix: string, keys: CliKeys, userIds: string[]): Promise<SealedCounts> {
  const store = new RedisRecordStore(conn.client, { keyPrefix: prefix });
  const c: SealedCounts = { users: userIds.length, secrets: 0, current: 0, stale: 0, unknownKey: {}, failed: 0 };
  for (let i = 0; i < userIds.length; i += CONCURRENCY) {
    const records = await Promise.all(userIds.slice(i, i + CONCURRENCY).map((id) => store.get(id)));
    for (const record of records) {
      for (const d of record.devices) {
        if (!d.sealedSecret) continue; // a passkey: nothing secret stored
        c.secrets++;
        const id = keys.box.keyIdOf(d.sealedSecret) ?? '';
        if (!keys.ids.includes(id)) {
          c.unknownKey[id] = (c.unknownKey[id] ?? 0) + 1;
          continue;
        }
        try {
          keys.box.open(d.sealedSecret, record.userId);
          if (id === keys.ids[0]) c.current++;
          else c.stale++;
        } catch (err) {
          if (!(err instanceof SecretDecryptionError)) throw err;
          c.failed++;
        }
      }
    }
  }
  return c;
}

export async function encryptionKeysCheck(conn: Connection, prefix: string, keys: CliKeys | undefined, sample: number): Promise<Check> {
  if (!keys) {
    return check('encryption-keys', 'fail', 'TWO_FACTOR_KEYS is not set: cannot tell whether the app\'s keys open the stored secrets',
      'run doctor with TWO_FACTOR_KEYS set as the app has it (id1:key1,id2:key2)');
  }
  const userIds = await sampleUsers(conn, prefix, sample);
  const c = await countSealed(conn, prefix, keys, userIds);
  const scope = `${plural(c.secrets, 'sealed secret')} of ${plural(c.users, 'user')}${Number.isFinite(sample) ? ` (a sample of up to ${count(sample)}; --all for every user)` : ''}`;
  const unknown = Object.entries(c.unknownKey);
  const unknownTotal = unknown.reduce((n, [, k]) => n + k, 0);
  if (unknownTotal > 0 || c.failed > 0) {
    const parts: string[] = [];
    if (unknownTotal > 0) parts.push(`${count(unknownTotal)} sealed with a key no longer configured (${unknown.map(([id, k]) => `"${id}": ${count(k)}`).join(', ')})`);
    if (c.failed > 0) parts.push(`${count(c.failed)} do not open with the key of their id (another key under that id, or altered)`);
    const advice = unknownTotal > 0
      ? `add the missing key${unknown.length > 1 ? 's' : ''} (${unknown.map(([id]) => id).join(', ')}) back to TWO_FACTOR_KEYS after the first key, then run rotate-keys; without it those users get 503 at every verification`
      : 'compare TWO_FACTOR_KEYS with the app\'s setting; a secret that no key opens is lost: reset-user that user';
    return check('encryption-keys', 'fail', `${scope}: ${parts.join('; ')}`, advice);
  }
  if (c.stale > 0) {
    return check('encryption-keys', 'warn', `${scope}: all open; ${count(c.stale)} sealed with a key listed after "${keys.ids[0]}"`,
      'run koa-two-factor rotate-keys to re-seal them with the first key');
  }
  return check('encryption-keys', 'pass', `${scope}: all open with the first key "${keys.ids[0]}"`);
}

/** Keys per kind missing the lifetime they should have. */
export async function keyLifetimesCheck(conn: Connection, prefix: string): Promise<Check> {
  let guard = 0;
  let durable = 0;
  const guardWithout: Partial<Record<RedisKeyKind, number>> = {};
  const durableWith: Partial<Record<RedisKeyKind, number>> = {};
  for await (const { node, keys } of scanKeys(conn, redisKeyPatterns(prefix).all)) {
    const ttls = (await node.pipeline(keys.map((k) => ['pttl', k])).exec()) ?? [];
    keys.forEach((key, i) => {
      const p = parseRedisKey(prefix, key);
      if (!p) return;
      const ttl = Number(ttls[i]?.[1]);
      if (DURABLE_KEY_KINDS.has(p.kind)) {
        durable++;
        if (ttl >= 0) durableWith[p.kind] = (durableWith[p.kind] ?? 0) + 1;
      } else {
        guard++;
        if (ttl === -1) guardWithout[p.kind] = (guardWithout[p.kind] ?? 0) + 1;
      }
    });
  }
  const list = (m: Partial<Record<RedisKeyKind, number>>) => Object.entries(m).map(([k, n]) => `${k}: ${count(n)}`).join(', ');
  const sum = (m: Partial<Record<RedisKeyKind, number>>) => Object.values(m).reduce((a, b) => a + b, 0);
  if (sum(durableWith) > 0) {
    return check('key-ttl', 'fail', `${count(sum(durableWith))} durable keys have a TTL (${list(durableWith)}): when it runs out users lose their second factor`,
      `remove it (PERSIST <key>); find who set it: the package never does`);
  }
  if (sum(guardWithout) > 0) {
    return check('key-ttl', 'warn', `${count(sum(guardWithout))} of ${plural(guard, 'guard key')} have no TTL (${list(guardWithout)}): they never expire`,
      `the package gives each a lifetime (README, Keys and lifetimes): look at them (redis-cli --scan --pattern '${prefix}:*'), then delete them or set a TTL`);
  }
  return check('key-ttl', 'pass', `${plural(guard, 'guard key')}, each with a TTL; ${plural(durable, 'durable key')} (records, policy) without one`);
}
