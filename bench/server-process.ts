/**
 * The app servers, in their own process so that the load generator
 * (autocannon, in the parent) does not share their event loop. Started by
 * bench/run.ts with `fork`; talks over IPC; exits when the parent goes away.
 *
 * Apps (each on a free loopback port):
 *   memGated / memPlain     in-memory sessions, with / without the 2FA gate
 *   redisGated / redisPlain Redis sessions, with / without the 2FA gate
 *   exMemGated / exMemPlain, exRedisGated / exRedisPlain
 *                           the same four on Express (bench/express-apps.ts)
 *   verify                  = redisGated with X-Forwarded-For trusted (one client IP per user)
 *   bare, totp              reference points
 */
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { twoFactor } from '../src/index.ts';
import { createRedisClient } from '../src/redis/index.ts';
import { twoFactor as expressTwoFactor } from '../src/express/index.ts';
import { createBareApp, createSessionApp, createTotpApp, memorySessionStore, redisSessionStore } from './apps.ts';
import { createExpressSessionApp } from './express-apps.ts';

export const APP_NAMES = ['memGated', 'memPlain', 'redisGated', 'redisPlain', 'exMemGated', 'exMemPlain', 'exRedisGated', 'exRedisPlain', 'verify', 'bare', 'totp'] as const;
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

function listen(handler: RequestListener): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer(handler).listen(0, '127.0.0.1', () => resolve(s));
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
  const etf = expressTwoFactor({ issuer: 'bench', redis, encryptionKeys, logger: () => {} });
  const keys = [randomBytes(32).toString('base64')];
  // Each pair shares its session store and cookie keys: one cookie works on both.
  const memStore = memorySessionStore();
  const redisStore = redisSessionStore(redis);
  const exMemStore = memorySessionStore();
  const koa = (app: { callback(): RequestListener }): RequestListener => app.callback();
  const apps: Record<AppName, RequestListener> = {
    memGated: koa(createSessionApp({ keys, store: memStore, tf })),
    memPlain: koa(createSessionApp({ keys, store: memStore })),
    redisGated: koa(createSessionApp({ keys, store: redisStore, tf })),
    redisPlain: koa(createSessionApp({ keys, store: redisStore })),
    exMemGated: createExpressSessionApp({ keys, store: exMemStore, tf: etf }),
    exMemPlain: createExpressSessionApp({ keys, store: exMemStore }),
    exRedisGated: createExpressSessionApp({ keys, store: redisStore, tf: etf }),
    exRedisPlain: createExpressSessionApp({ keys, store: redisStore }),
    verify: koa(createSessionApp({ keys, store: redisStore, tf, proxy: true })),
    bare: koa(createBareApp()),
    totp: koa(createTotpApp()),
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
