/**
 * Walking the package's keys with SCAN (never KEYS: it blocks the server):
 * on a Cluster, every master in turn. SCAN returns every key that exists for
 * the whole walk at least once (some maybe twice); keys written meanwhile may
 * or may not appear.
 */
import type { Redis } from 'ioredis';
import { parseRedisKey, redisKeyPatterns } from '../stores/redis-keys.ts';
import type { Connection } from './connect.ts';

/** Keys asked for per SCAN call. */
const SCAN_COUNT = 1000;

/** Batches of the keys matching `pattern`, each with the node that holds them. */
export async function* scanKeys(conn: Connection, pattern: string, scanCount = SCAN_COUNT): AsyncGenerator<{ node: Redis; keys: string[] }> {
  for (const node of conn.masters()) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', scanCount);
      cursor = next;
      if (keys.length > 0) yield { node, keys };
    } while (cursor !== '0');
  }
}

/** How many keys match `pattern` (one SCAN walk). */
export async function countKeys(conn: Connection, pattern: string): Promise<number> {
  let n = 0;
  for await (const { keys } of scanKeys(conn, pattern)) n += keys.length;
  return n;
}

/** Batches of the ids of users who have a record (`<prefix>:{<id>}:record`). */
export async function* scanUsers(conn: Connection, prefix: string, scanCount = SCAN_COUNT): AsyncGenerator<string[]> {
  for await (const { keys } of scanKeys(conn, redisKeyPatterns(prefix).records, scanCount)) {
    const ids: string[] = [];
    for (const key of keys) {
      const parsed = parseRedisKey(prefix, key);
      if (parsed?.kind === 'record' && parsed.userId !== undefined) ids.push(parsed.userId);
    }
    if (ids.length > 0) yield ids;
  }
}

/** Up to `limit` users with a record (all of them when `limit` is Infinity), in SCAN's order. */
export async function sampleUsers(conn: Connection, prefix: string, limit: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const batch of scanUsers(conn, prefix)) {
    ids.push(...batch.slice(0, limit - ids.length));
    if (ids.length >= limit) break;
  }
  return ids;
}
