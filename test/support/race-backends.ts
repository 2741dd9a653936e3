/**
 * Where the race tests run an example app: in-memory stores, one Redis
 * (sessions and 2FA state in it), or a 3-master Redis Cluster (2FA state in
 * it). Each starts its own servers and stops them. The failure budget is
 * raised and the per-IP limit turned off: every loser of a race is a
 * failure, and every request comes from 127.0.0.1, so the defaults would
 * turn the race into a lockout test (the budget is tested on its own).
 */
import type { Cluster } from 'ioredis';
import { SecretBox, type TwoFactorOptions } from '../../src/index.ts';
import type { ExampleAppOptions } from './example-server.ts';
import { connectGuardCluster, startRedis, startRedisCluster, type RedisCluster, type RedisProcess } from './redis-server.ts';

export const RACE_LIMITS: TwoFactorOptions['limits'] = { maxFailures: 1000, hardCap: 100_000, ipMaxFailures: 0 };

export interface RaceBackend {
  name: string;
  /** Starts the servers; the options that put the example app on them. */
  start(): Promise<ExampleAppOptions>;
  stop(): Promise<void>;
}

export function memoryBackend(): RaceBackend {
  return { name: 'in-memory stores', start: async () => ({ twoFactor: { limits: RACE_LIMITS } }), stop: async () => {} };
}

export function redisBackend(): RaceBackend {
  let server: RedisProcess | undefined;
  return {
    name: 'one Redis',
    async start() {
      server = await startRedis();
      return { redisUrl: server.url, twoFactor: { limits: RACE_LIMITS } };
    },
    async stop() { await server?.stop(); },
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
    async stop() {
      client?.disconnect();
      await cluster?.stop();
    },
  };
}
