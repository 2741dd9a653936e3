export type * from '../core/store-types.ts';
export { MemoryGuardStore } from './memory-guard-store.ts';
export { MemoryRecordStore } from './memory-record-store.ts';
export { RedisGuardStore, type RedisStoreOptions } from './redis-guard-store.ts';
export type { RedisClient } from './redis-scripts.ts';
export { RedisRecordStore } from './redis-record-store.ts';
export { redisKeys, DEFAULT_KEY_PREFIX } from './redis-keys.ts';
