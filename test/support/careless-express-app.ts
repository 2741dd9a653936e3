/**
 * A small Express app written the way Express + Passport apps usually are
 * (express-session's and passport-local's READMEs), with the package's
 * Express adapter mounted as its README says — the twin of careless-app.ts:
 *
 * - express-session with its MemoryStore, or connect-redis 7 over an ioredis
 *   client (`resave: false, saveUninitialized: true`, as in its README);
 * - passport 0.7 + passport-local, login with `keepSessionInfo` (so that a
 *   `returnTo` survives the login) unless told otherwise, and "remember me"
 *   (a 30-day session cookie) when the login form says so;
 * - `express.json()` / `express.urlencoded()` mounted first for every route,
 *   or only on the app's own login route (then the package reads its bodies);
 * - logout the careless way: `req.logout(cb)` alone, no `session.destroy()`,
 *   and a second logout route the gate is not told about;
 * - a route that writes the session after a while (a page-view counter), so a
 *   request in flight at logout writes the old session back;
 * - a route with the classic slip of a missing `return` after a refusal;
 * - a privileged action behind `tf.requireStepUp()` with a form page posting
 *   to it with `tf.csrfToken(req)`, and one that needs a recent second factor;
 * - Express 5 (`express`) or Express 4 (`express4`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import express5, { type Express, type RequestHandler } from 'express';
import session from 'express-session';
import RedisStore from 'connect-redis';
import { Redis } from 'ioredis';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { generateCode, SecretBox, twoFactor, twoFactorErrors, type ExpressTwoFactor, type ExpressTwoFactorOptions } from '../../src/express/index.ts';
import { createRedisClient, whenReady } from '../../src/redis/index.ts';
import { codeWithTimeLeft } from './clock.ts';
import { HttpClient } from './http-client.ts';

const require = createRequire(import.meta.url);

/** Cookie name: express-session's default. */
export const SESSION_COOKIE = 'connect.sid';
/** The session cookie's lifetime after a login with "remember me". */
export const REMEMBER_ME_MS = 30 * 86_400_000;

export interface CarelessExpressOptions {
  /** Express major version. Default 5. */
  express?: 4 | 5 | undefined;
  /** express-session's MemoryStore (default) or connect-redis 7 on `redisUrl`. */
  sessions?: 'memory' | 'redis' | undefined;
  /** Redis for the 2FA stores (and the sessions with `sessions: 'redis'`); in memory without it. */
  redisUrl?: string | undefined;
  /** `plain`: `new Redis(url, { maxRetriesPerRequest: 1 })` (default); `fail-fast`: the package's `createRedisClient`. */
  redisClient?: 'plain' | 'fail-fast' | undefined;
  /** `global`: express.json() + express.urlencoded() before everything (default); `login-only`: on the login route alone. */
  bodyParsers?: 'global' | 'login-only' | undefined;
  /** How users carry their id. Default `id` (a number). */
  userShape?: 'id' | '_id' | 'no-id' | undefined;
  /** `app.set('trust proxy', …)`: `true` (trust every hop), a hop count, or addresses. Unset by default. */
  trustProxy?: boolean | number | string | undefined;
  /** passport's `keepSessionInfo` on login. Default true. */
  keepSessionInfo?: boolean | undefined;
  /** `maxAge` of `POST/GET /remote/sudo`'s requireStepUp. Default 300 ms. */
  sudoMaxAgeMs?: number | undefined;
  /** The app's own middleware between passport and the package (a request timeout, say). */
  beforePackage?: RequestHandler[] | undefined;
  twoFactor?: Partial<ExpressTwoFactorOptions> | undefined;
}

export interface CarelessExpressApp {
  url: string;
  tf: ExpressTwoFactor;
  /** What the package logged (twoFactor's and twoFactorErrors' loggers). */
  logs: string[];
  /** Errors that reached Express' own final handler (would be a 500). */
  unhandled: unknown[];
  client(): HttpClient;
  /** Logs in with the password only (form post, as a login page does), with "remember me" if asked. */
  login(client?: HttpClient, rememberMe?: boolean): Promise<HttpClient>;
  /** How many `GET /slow?hold=1` requests are waiting for `releaseHeld()`. */
  heldRequests(): number;
  /** Lets every held `GET /slow?hold=1` request finish (each then writes the session). */
  releaseHeld(): void;
  stop(): Promise<void>;
}

type AppUser = Record<string, unknown> & { username: string; password: string };

/** Serves any Node request handler (an Express app is one) on a free loopback port. */
export async function serveOnLoopback(handler: RequestListener): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function expressOf(major: 4 | 5): typeof express5 {
  return major === 4 ? (require('express4') as typeof express5) : express5;
}

export async function startCarelessExpressApp(o: CarelessExpressOptions = {}): Promise<CarelessExpressApp> {
  const express = expressOf(o.express ?? 5);
  const shape = o.userShape ?? 'id';
  const carol: AppUser = shape === 'id' ? { id: 7, username: 'carol', password: 'carol-pw' }
    : shape === '_id' ? { _id: '65f1c0ffee0000000000abcd', username: 'carol', password: 'carol-pw' }
      : { username: 'carol', password: 'carol-pw' };
  const users = [carol];

  // This app's own Passport (the default instance is process-wide).
  const auth = new passport.Passport();
  auth.serializeUser<string>((user, done) => done(null, (user as AppUser).username));
  auth.deserializeUser<string>((name, done) => done(null, users.find((u) => u.username === name) ?? false));
  auth.use(new LocalStrategy((username, password, done) => {
    done(null, users.find((u) => u.username === username && u.password === password) ?? false);
  }));

  const logs: string[] = [];
  let redis: Redis | undefined;
  if (o.redisUrl && o.redisClient === 'fail-fast') {
    redis = createRedisClient(o.redisUrl, {}, (m) => { logs.push(m); });
    await whenReady(redis);
  } else if (o.redisUrl) {
    redis = new Redis(o.redisUrl, { maxRetriesPerRequest: 1 });
    // Errors are expected while a test stops Redis.
    redis.on('error', () => {});
  }
  const unhandled: unknown[] = [];
  const tf = twoFactor({
    redis,
    encryptionKeys: redis ? `c1:${SecretBox.randomKey()}` : undefined,
    logger: (m) => { logs.push(m); },
    publicPaths: ['/', '/login'],
    // Each app its own keys: tests share one Redis and one user name.
    redisKeyPrefix: `careless-express-${randomBytes(4).toString('hex')}`,
    ...o.twoFactor,
  });

  const app: Express = express();
  if (o.trustProxy !== undefined) app.set('trust proxy', o.trustProxy);
  if ((o.bodyParsers ?? 'global') === 'global') {
    app.use(express.json());
    app.use(express.urlencoded({ extended: false }));
  }
  app.use(session({
    secret: 'careless-express-test-secret',
    resave: false,
    saveUninitialized: true,
    ...(o.sessions === 'redis' && redis
      ? { store: new RedisStore({ client: redis, prefix: `careless-express-sess-${randomBytes(4).toString('hex')}:` }) }
      : {}),
  }));
  app.use(auth.initialize());
  app.use(auth.session());
  for (const handler of o.beforePackage ?? []) app.use(handler);
  app.use(tf.gate);
  app.use(tf.router);

  const loginParsers: RequestHandler[] = o.bodyParsers === 'login-only' ? [express.urlencoded({ extended: false })] : [];
  app.get('/', (req, res) => {
    const s = req.session as unknown as { views?: number };
    s.views = (s.views ?? 0) + 1;
    res.send(`home, ${s.views} views`);
  });
  app.get('/login', (_req, res) => { res.send('<form method="post" action="/login">login form</form>'); });
  // "Remember me", as the tutorials do it: a longer cookie for this session.
  app.post('/login', ...loginParsers, auth.authenticate('local', { failureRedirect: '/login', keepSessionInfo: o.keepSessionInfo ?? true }), (req, res) => {
    if ((req.body as Record<string, unknown> | undefined)?.remember) req.session.cookie.maxAge = REMEMBER_ME_MS;
    res.redirect('/app');
  });
  const logout: RequestHandler = (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect('/')));
  };
  // The logout the gate knows about (its default `logoutPath`)…
  app.get('/logout', logout);
  // …and one it does not.
  app.get('/signout', logout);
  app.get('/app', (req, res) => {
    if (!req.isAuthenticated()) return res.redirect('/login');
    res.json({ secret: 'the app', user: (req.user as AppUser).username });
  });
  // A classic slip: no `return` after the refusal. Express' second `res.json` throws, so the client still gets the refusal.
  app.get('/report', (req, res) => {
    if (req.query.as !== 'admin') res.status(403).json({ error: 'admins only' });
    res.json({ report: 'salaries' });
  });
  const held: (() => void)[] = [];
  app.get('/slow', async (req, res) => {
    if (req.query.hold) await new Promise<void>((resolve) => { held.push(resolve); });
    const s = req.session as unknown as { views?: number };
    s.views = (s.views ?? 0) + 1;
    res.json({ slow: true, views: s.views });
  });

  // The privileged action and its form page.
  const takeControl = tf.requireStepUp({ reason: 'Taking control of a remote session needs two-factor authentication.' });
  app.get('/remote/take-control', takeControl, (req, res) => {
    res.type('html').send(`<form method="post" action="/remote/take-control"><input type="hidden" name="_csrf" value="${tf.csrfToken(req)}"><button>Take control</button></form>`);
  });
  app.post('/remote/take-control', takeControl, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    res.json({ started: true, target: body.target ?? null });
  });
  const sudo = tf.requireStepUp({ maxAge: o.sudoMaxAgeMs ?? 300 });
  app.get('/remote/sudo', sudo, (_req, res) => { res.send('sudo page'); });
  app.post('/remote/sudo', sudo, (_req, res) => { res.json({ sudo: true }); });

  app.use(twoFactorErrors({ logger: (m) => { logs.push(m); } }));
  // Whatever is left would be Express' own 500 page: recorded for the tests.
  app.use(((err, _req, res, _next) => {
    unhandled.push(err);
    if (res.headersSent) res.destroy();
    else res.status(500).type('text').send('unhandled');
  }) as express5.ErrorRequestHandler);

  const served = await serveOnLoopback(app as unknown as RequestListener);
  const url = served.url;
  return {
    url, tf, logs, unhandled,
    client: () => new HttpClient(url),
    heldRequests: () => held.length,
    releaseHeld() {
      for (const release of held.splice(0)) release();
    },
    async login(client = new HttpClient(url), rememberMe = false) {
      const res = await client.post('/login', { form: { username: 'carol', password: 'carol-pw', ...(rememberMe ? { remember: 'on' } : {}) } });
      if (res.status !== 302 || res.headers.get('location') !== '/app') throw new Error(`login failed: ${res.status} ${res.headers.get('location')}`);
      return client;
    },
    async stop() {
      for (const release of held.splice(0)) release();
      await served.stop();
      redis?.disconnect();
    },
  };
}

/**
 * Links an authenticator over HTTP as a JSON client (the session is then
 * verified) and returns its secret and backup codes. The code is of the
 * previous time step, so the current one stays free for the test.
 */
export async function enrolOverJson(client: HttpClient): Promise<{ secret: string; backupCodes: string[] }> {
  const setup = await client.post('/2fa/setup', { json: { name: 'Phone' } });
  if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
  const secret = setup.body.secret as string;
  const code = await codeWithTimeLeft(secret, -1);
  const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code } });
  if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${confirm.text}`);
  return { secret, backupCodes: confirm.body.backupCodes as string[] };
}

/** The code of the current step, with time left to use it. */
export function currentCode(secret: string): Promise<string> {
  return codeWithTimeLeft(secret, 0);
}

export { generateCode };

/** A second client holding the same cookies (a copy of the browser's cookie jar). */
export function copyOf(client: HttpClient): HttpClient {
  const copy = new HttpClient(client.baseUrl);
  for (const [name, value] of client.cookies) copy.cookies.set(name, value);
  return copy;
}
