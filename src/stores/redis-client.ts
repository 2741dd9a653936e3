/**
 * A Redis client configured for the guard path: with ioredis defaults a
 * command sent while Redis is down waits about 73 s in the offline queue; a
 * login must instead fail closed in about a second.
 */
import { Redis, type Cluster, type RedisOptions } from 'ioredis';

/** Per-command deadline on the guard path. */
export const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000;

/** ioredis' own option type clashes with its constructor under exactOptionalPropertyTypes. */
export type GuardRedisOptions = Omit<RedisOptions, 'replyMapping'>;

export const GUARD_REDIS_OPTIONS: GuardRedisOptions = {
  enableOfflineQueue: false,
  commandTimeout: DEFAULT_REDIS_COMMAND_TIMEOUT_MS,
  maxRetriesPerRequest: 1,
  // Keep reconnecting forever, backing off to 2 s: the app recovers by itself.
  retryStrategy: (times) => Math.min(times * 100, 2000),
};

/** A `Redis` for `url` (`redis://`, `rediss://` for TLS) with the options above. */
export function createRedisClient(url: string, options: GuardRedisOptions = {}, log: (message: string) => void = console.warn): Redis {
  const merged: GuardRedisOptions = { ...GUARD_REDIS_OPTIONS, ...options };
  const client = new Redis(url, merged);
  // Without a listener ioredis prints every reconnect failure; say it once per outage.
  let down = false;
  client.on('error', (err: Error) => {
    if (!down) log(`koa-two-factor: Redis unavailable (${err.message}); failing closed until it returns`);
    down = true;
  });
  client.on('ready', () => { down = false; });
  return client;
}

/**
 * Resolves once the client is connected. With the offline queue off, commands
 * sent before that fail, so an app should wait for this before it listens.
 */
export function whenReady(client: Redis | Cluster, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`));
    }, timeoutMs);
    function onReady() {
      clearTimeout(timer);
      resolve();
    }
    client.once('ready', onReady);
  });
}
