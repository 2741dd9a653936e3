/**
 * koa-session external stores: an in-memory one (so the session id exists
 * and can be rotated) and one on ioredis.
 */
import type { Redis } from 'ioredis';

type Sess = Record<string, unknown>;
const DAY = 86_400_000;

function ttlOf(maxAge: number | 'session' | undefined): number {
  return typeof maxAge === 'number' ? maxAge : DAY;
}

export function memorySessionStore() {
  const data = new Map<string, { sess: Sess; expires: number }>();
  return {
    async get(key: string) {
      const e = data.get(key);
      if (!e || e.expires < Date.now()) return undefined;
      return e.sess;
    },
    async set(key: string, sess: Sess, maxAge: number | 'session' | undefined) {
      data.set(key, { sess, expires: Date.now() + ttlOf(maxAge) });
    },
    async destroy(key: string) {
      data.delete(key);
    },
  };
}

export function redisSessionStore(redis: Redis, prefix = 'sess:') {
  return {
    async get(key: string) {
      const raw = await redis.get(prefix + key);
      return raw ? (JSON.parse(raw) as Sess) : undefined;
    },
    async set(key: string, sess: Sess, maxAge: number | 'session' | undefined) {
      await redis.set(prefix + key, JSON.stringify(sess), 'PX', ttlOf(maxAge));
    },
    async destroy(key: string) {
      await redis.del(prefix + key);
    },
  };
}
