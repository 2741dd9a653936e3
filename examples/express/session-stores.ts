/**
 * express-session stores: its MemoryStore and connect-redis 7 on ioredis,
 * each taught not to bring back a session that was destroyed (the same rule
 * as examples/basic/session-stores.ts): a request still in flight at logout
 * (or a login that rotated the id) would otherwise write or touch the old
 * session back under its old id, and a copy of that cookie would work again.
 * A destroyed id is remembered (a tombstone) as long as any cookie for it
 * can live.
 */
import session, { type SessionData } from 'express-session';
import RedisStore from 'connect-redis';
import type { Redis } from 'ioredis';

const DAY = 86_400_000;
/** A destroyed id is remembered as long as any cookie for it can live. */
const TOMBSTONE_MS = DAY;
const TOMBSTONE = '"destroyed"';

type Callback = (err?: unknown) => void;

/** Milliseconds the session's cookie has left (express-session stores its expiry), else a day. */
function ttlOf(sess: SessionData): number {
  const expires = sess.cookie?.expires;
  return expires ? new Date(expires).getTime() - Date.now() : DAY;
}

/** express-session's MemoryStore with tombstones. */
export class MemorySessionStore extends session.MemoryStore {
  /** Destroyed ids → until when they stay destroyed; insertion order is expiry order. */
  private readonly destroyed = new Map<string, number>();

  private isDestroyed(sid: string): boolean {
    const until = this.destroyed.get(sid);
    return until !== undefined && until >= Date.now();
  }

  override get(sid: string, callback: (err: any, session?: SessionData | null) => void): void {
    if (this.isDestroyed(sid)) setImmediate(callback, null, null);
    else super.get(sid, callback);
  }

  override set(sid: string, sess: SessionData, callback?: Callback): void {
    if (this.isDestroyed(sid)) { if (callback) setImmediate(callback); return; }
    super.set(sid, sess, callback);
  }

  override touch(sid: string, sess: SessionData, callback?: () => void): void {
    if (this.isDestroyed(sid)) { if (callback) setImmediate(callback); return; }
    super.touch(sid, sess, callback);
  }

  override destroy(sid: string, callback?: Callback): void {
    const now = Date.now();
    // Forget tombstones no cookie can use any more (the oldest come first).
    for (const [old, until] of this.destroyed) {
      if (until >= now) break;
      this.destroyed.delete(old);
    }
    this.destroyed.delete(sid);
    this.destroyed.set(sid, now + TOMBSTONE_MS);
    super.destroy(sid, callback);
  }
}

/** KEYS: session. ARGV: JSON, ttl ms, tombstone. Writes unless the id was destroyed. */
const SET_UNLESS_DESTROYED = `
if redis.call('GET', KEYS[1]) == ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/** KEYS: session. ARGV: ttl ms, tombstone. Extends a live session, never a tombstone. */
const TOUCH_UNLESS_DESTROYED = `
if redis.call('GET', KEYS[1]) == ARGV[2] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[1])`;

/**
 * connect-redis 7 on the app's ioredis client, with tombstones: `get`,
 * `set`, `touch` and `destroy` are replaced (a write or a touch checks for
 * the tombstone in the same Lua script, so a request in flight cannot slip
 * between the check and the write); the rest (`all`, `ids`, `clear`…) is
 * connect-redis' own.
 */
export class RedisSessionStore extends RedisStore {
  constructor(private readonly redis: Redis, prefix = 'sess:') {
    super({ client: redis, prefix });
  }

  override async get(sid: string, callback: (err?: unknown, data?: any) => void = () => {}): Promise<void> {
    let sess: SessionData | null;
    try {
      const raw = await this.redis.get(this.prefix + sid);
      sess = raw && raw !== TOMBSTONE ? (JSON.parse(raw) as SessionData) : null;
    } catch (err) {
      return callback(err);
    }
    // Outside the try: an error thrown by the rest of the request is not a store error.
    callback(null, sess);
  }

  override async set(sid: string, sess: SessionData, callback: Callback = () => {}): Promise<void> {
    const ttl = ttlOf(sess);
    if (ttl <= 0) return this.destroy(sid, callback);
    try {
      await this.redis.eval(SET_UNLESS_DESTROYED, 1, this.prefix + sid, JSON.stringify(sess), ttl, TOMBSTONE);
    } catch (err) {
      return callback(err);
    }
    callback();
  }

  override async touch(sid: string, sess: SessionData, callback: Callback = () => {}): Promise<void> {
    try {
      await this.redis.eval(TOUCH_UNLESS_DESTROYED, 1, this.prefix + sid, Math.max(ttlOf(sess), 1), TOMBSTONE);
    } catch (err) {
      return callback(err);
    }
    callback();
  }

  override async destroy(sid: string, callback: Callback = () => {}): Promise<void> {
    try {
      await this.redis.set(this.prefix + sid, TOMBSTONE, 'PX', TOMBSTONE_MS);
    } catch (err) {
      return callback(err);
    }
    callback();
  }
}

export function memorySessionStore(): MemorySessionStore {
  return new MemorySessionStore();
}

export function redisSessionStore(redis: Redis, prefix = 'sess:'): RedisSessionStore {
  return new RedisSessionStore(redis, prefix);
}
