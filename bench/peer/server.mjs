/**
 * The peer app of the side-by-side bench (bench/peer.ts): better-auth with
 * its two-factor plugin, served over node:http on a free loopback port.
 *
 *   database          the in-memory adapter (it always runs transactions:
 *                     sign-up's user + account writes go through one)
 *   secondaryStorage  @better-auth/redis-storage on ioredis: sessions and
 *                     verification values (the 2FA challenge) live in Redis
 *   rateLimit         off
 *   password hash     one salted SHA-256 instead of the default scrypt: it
 *                     runs only while users are prepared (sign-up, enable,
 *                     sign-in), never in the measured TOTP verification, and
 *                     scrypt would make preparing 2,200 users take minutes
 *
 * Plain JavaScript so that the main typecheck never needs this folder's
 * install. Same IPC protocol as bench/server-process.ts: `init` → `ready`,
 * `cpu` → process.cpuUsage(), `stop`; exits when the parent goes away.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { toNodeHandler } from 'better-auth/node';
import { twoFactor } from 'better-auth/plugins/two-factor';
import { redisStorage } from '@better-auth/redis-storage';
import { Redis } from 'ioredis';

const sha256 = (salt, password) => createHash('sha256').update(`${salt}:${password}`).digest();

/** Preparation only (see above). */
const cheapPasswords = {
  hash: async (password) => {
    const salt = randomBytes(16).toString('hex');
    return `${salt}:${sha256(salt, password).toString('hex')}`;
  },
  verify: async ({ hash, password }) => {
    const [salt, hex] = hash.split(':');
    return timingSafeEqual(Buffer.from(hex, 'hex'), sha256(salt, password));
  },
};

let server;
let redis;

function send(m) {
  process.send?.(m);
}

/** Listens first: better-auth wants its base URL (origin checks), which holds the port. */
async function init(redisUrl) {
  redis = new Redis(redisUrl);
  await new Promise((resolve, reject) => {
    redis.once('ready', resolve);
    redis.once('error', reject);
  });
  let handle = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  server = createServer((req, res) => handle(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const auth = betterAuth({
    appName: 'bench',
    baseURL: `http://127.0.0.1:${port}`,
    secret: randomBytes(32).toString('base64'),
    database: memoryAdapter({ user: [], session: [], account: [], verification: [], twoFactor: [] }),
    secondaryStorage: redisStorage({ client: redis }),
    emailAndPassword: { enabled: true, password: cheapPasswords },
    plugins: [twoFactor({ issuer: 'bench' })],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { disabled: true },
  });
  handle = toNodeHandler(auth);
  send({ type: 'ready', port });
}

async function stop() {
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  redis?.disconnect();
  process.exit(0);
}

process.on('message', (m) => {
  if (m.type === 'init') {
    init(m.redisUrl).catch((err) => send({ type: 'error', message: String(err?.stack ?? err) }));
  } else if (m.type === 'cpu') {
    const u = process.cpuUsage();
    send({ type: 'cpu', id: m.id, userMicros: u.user, systemMicros: u.system });
  } else if (m.type === 'stop') {
    void stop();
  }
});
process.on('disconnect', () => process.exit(0));
