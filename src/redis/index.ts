/**
 * koa-two-factor/redis: an ioredis client with the fail-closed settings the
 * guard path needs. The only entry that loads ioredis (an optional peer
 * dependency): the stores take any client, the app's own included.
 */
export { createRedisClient, whenReady, GUARD_REDIS_OPTIONS, DEFAULT_REDIS_COMMAND_TIMEOUT_MS, type GuardRedisOptions } from '../stores/redis-client.ts';
