export type * from '../core/store-types.ts';
export { MemoryGuardStore } from './memory-guard-store.ts';
export { MemoryRecordStore } from './memory-record-store.ts';
export { RedisGuardStore, type RedisStoreOptions } from './redis-guard-store.ts';
export { RedisRecordStore } from './redis-record-store.ts';
export { createRedisClient, whenReady, GUARD_REDIS_OPTIONS, DEFAULT_REDIS_COMMAND_TIMEOUT_MS } from './redis-client.ts';
export { redisKeys, DEFAULT_KEY_PREFIX } from './redis-keys.ts';
