/**
 * koa-session external stores: an in-memory one (so the session id exists
 * and can be rotated) and one on ioredis. Neither brings back a session that
 * was destroyed: a request still in flight at logout (or a login that
 * rotated the id) would otherwise write the old session back under its old
 * id, and a copy of that cookie would work again.
 */
import type { Redis } from 'ioredis';

type Sess = Record<string, unknown>;
const DAY = 86_400_000;
/** A destroyed id is remembered as long as any cookie for it can live. */
const TOMBSTONE_MS = DAY;
const TOMBSTONE = '"destroyed"';

function ttlOf(maxAge: number | 'session' | undefined): number {
  return typeof maxAge === 'number' ? maxAge : DAY;
}

export function memorySessionStore() {
  const data = new Map<string, { sess: Sess | null; expires: number }>();
  return {
    async get(key: string) {
      const e = data.get(key);
      if (!e || e.expires < Date.now()) return undefined;
      return e.sess ?? undefined;
    },
    async set(key: string, sess: Sess, maxAge: number | 'session' | undefined) {
      const e = data.get(key);
      if (e && e.sess === null && e.expires >= Date.now()) return;
      data.set(key, { sess, expires: Date.now() + ttlOf(maxAge) });
    },
    async destroy(key: string) {
      data.set(key, { sess: null, expires: Date.now() + TOMBSTONE_MS });
    },
  };
}

/** KEYS: session. ARGV: JSON, ttl ms, tombstone. Writes unless the id was destroyed. */
const SET_UNLESS_DESTROYED = `
if redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

export function redisSessionStore(redis: Redis, prefix = 'sess:') {
  return {
    async get(key: string) {
      const raw = await redis.get(prefix + key);
      return raw && raw !== TOMBSTONE ? (JSON.parse(raw) as Sess) : undefined;
    },
    async set(key: string, sess: Sess, maxAge: number | 'session' | undefined) {
      await redis.eval(SET_UNLESS_DESTROYED, 1, prefix + key, JSON.stringify(sess), ttlOf(maxAge), TOMBSTONE);
    },
    async destroy(key: string) {
      await redis.set(prefix + key, TOMBSTONE, 'PX', TOMBSTONE_MS);
    },
  };
}
