/**
 * Where the race tests run an example app: in-memory stores, one Redis
 * (sessions and 2FA state in it), or a 3-master Redis Cluster (2FA state in
 * it). Each starts its own servers and stops them. The failure budget is
 * raised and the per-IP limit turned off: every loser of a race is a
 * failure, and every request comes from 127.0.0.1, so the defaults would
 * turn the race into a lockout test (the budget is tested on its own).
 */
import type { Cluster, Redis } from 'ioredis';
import { MemoryGuardStore, MemoryRecordStore, RedisRecordStore, SecretBox, type RecordStore, type TwoFactorOptions } from '../../src/index.ts';
import { createRedisClient } from '../../src/redis/index.ts';
import type { ExampleAppOptions } from './example-server.ts';
import { connectGuardCluster, startRedis, startRedisCluster, type RedisCluster, type RedisProcess } from './redis-server.ts';

export const RACE_LIMITS: TwoFactorOptions['limits'] = { maxFailures: 1000, hardCap: 100_000, ipMaxFailures: 0 };

export interface RaceBackend {
  name: string;
  /** Starts the servers; the options that put the example app on them. */
  start(): Promise<ExampleAppOptions>;
  /** The records the app started by `start()` reads and writes (to reset a user between rounds, or explain a failure). */
  records(): RecordStore;
  stop(): Promise<void>;
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('race backend not started');
  return value;
}

export function memoryBackend(): RaceBackend {
  let records: MemoryRecordStore | undefined;
  return {
    name: 'in-memory stores',
    async start() {
      records = new MemoryRecordStore();
      return { twoFactor: { records, guard: new MemoryGuardStore(), limits: RACE_LIMITS } };
    },
    records: () => started(records),
    stop: async () => {},
  };
}

export function redisBackend(): RaceBackend {
  let server: RedisProcess | undefined;
  let admin: Redis | undefined;
  return {
    name: 'one Redis (sessions and 2FA state in it)',
    async start() {
      server = await startRedis();
      admin = createRedisClient(server.url);
      return { redisUrl: server.url, twoFactor: { limits: RACE_LIMITS } };
    },
    records: () => new RedisRecordStore(started(admin)),
    async stop() {
      admin?.disconnect();
      await server?.stop();
    },
  };
}

export function clusterBackend(): RaceBackend {
  let cluster: RedisCluster | undefined;
  let client: Cluster | undefined;
  return {
    name: 'a 3-master Redis Cluster',
    async start() {
      cluster = await startRedisCluster();
      client = await connectGuardCluster(cluster);
      // Sessions stay in memory: the example takes a Redis URL only.
      return { encryptionKeys: `t1:${SecretBox.randomKey()}`, twoFactor: { redis: client, limits: RACE_LIMITS } };
    },
    records: () => new RedisRecordStore(started(client)),
    async stop() {
      client?.disconnect();
      await cluster?.stop();
    },
  };
}
