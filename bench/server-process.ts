/**
 * The app servers, in their own process so that the load generator
 * (autocannon, in the parent) does not share their event loop. Started by
 * bench/run.ts with `fork`; talks over IPC; exits when the parent goes away.
 *
 * Apps (each on a free loopback port):
 *   memGated / memPlain     in-memory sessions, with / without the 2FA gate
 *   redisGated / redisPlain Redis sessions, with / without the 2FA gate
 *   verify                  = redisGated with X-Forwarded-For trusted (one client IP per user)
 *   bare, totp              reference points
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';
import { twoFactor, createRedisClient } from '../src/index.ts';
import { createBareApp, createSessionApp, createTotpApp, memorySessionStore, redisSessionStore } from './apps.ts';

export const APP_NAMES = ['memGated', 'memPlain', 'redisGated', 'redisPlain', 'verify', 'bare', 'totp'] as const;
export type AppName = (typeof APP_NAMES)[number];

export type ToServer =
  | { type: 'init'; redisUrl: string; encryptionKeys: string }
  | { type: 'cpu'; id: number }
  | { type: 'stop' };

export type FromServer =
  | { type: 'ready'; ports: Record<AppName, number> }
  | { type: 'cpu'; id: number; userMicros: number; systemMicros: number }
  | { type: 'error'; message: string };

function send(m: FromServer): void {
  process.send?.(m);
}

function listen(app: Koa): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

const servers: Server[] = [];
let closeRedis: (() => void) | undefined;

async function init(redisUrl: string, encryptionKeys: string): Promise<void> {
  // One client for sessions and 2FA, like examples/basic/app.ts.
  const redis = createRedisClient(redisUrl);
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    redis.once('error', reject);
  });
  closeRedis = () => redis.disconnect();
  const tf = twoFactor({ issuer: 'bench', redis, encryptionKeys, logger: () => {} });
  const keys = [randomBytes(32).toString('base64')];
  // Each pair shares its session store and cookie keys: one cookie works on both.
  const memStore = memorySessionStore();
  const redisStore = redisSessionStore(redis);
  const apps: Record<AppName, Koa> = {
    memGated: createSessionApp({ keys, store: memStore, tf }),
    memPlain: createSessionApp({ keys, store: memStore }),
    redisGated: createSessionApp({ keys, store: redisStore, tf }),
    redisPlain: createSessionApp({ keys, store: redisStore }),
    verify: createSessionApp({ keys, store: redisStore, tf, proxy: true }),
    bare: createBareApp(),
    totp: createTotpApp(),
  };
  const ports = {} as Record<AppName, number>;
  for (const name of APP_NAMES) {
    const s = await listen(apps[name]);
    servers.push(s);
    ports[name] = (s.address() as AddressInfo).port;
  }
  send({ type: 'ready', ports });
}

async function stop(): Promise<void> {
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  closeRedis?.();
  process.exit(0);
}

process.on('message', (m: ToServer) => {
  if (m.type === 'init') {
    init(m.redisUrl, m.encryptionKeys).catch((err: unknown) => send({ type: 'error', message: String(err) }));
  } else if (m.type === 'cpu') {
    const u = process.cpuUsage();
    send({ type: 'cpu', id: m.id, userMicros: u.user, systemMicros: u.system });
  } else if (m.type === 'stop') {
    void stop();
  }
});
// The parent died or closed the channel: do not linger.
process.on('disconnect', () => process.exit(0));
