/**
 * A small app written the way many koa-passport apps are (koa-passport's own
 * example among them), with the package mounted as the README says: cookie
 * sessions by default or a naive ioredis session store that saves whatever
 * it is given, logout with `ctx.logout()` alone (no `ctx.session = null`),
 * users kept as shared objects, numeric or Mongo-style `_id` ids, a second
 * logout route the gate is not told about, passport 0.6 (koa-passport 6) or
 * passport 0.4 (koa-passport 4, no session regeneration on login).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import session from 'koa-session';
import { Strategy as LocalStrategy } from 'passport-local';
import { Redis } from 'ioredis';
import { SecretBox, twoFactor, type TwoFactorOptions } from '../../src/index.ts';
import { HttpClient } from './http-client.ts';
import { listenOnLoopback } from './listen.ts';

const require = createRequire(import.meta.url);

export interface CarelessOptions {
  /** `cookie` (koa-session's default, the whole session in the cookie) or `redis` (needs `redisUrl`). */
  sessions: 'cookie' | 'redis';
  /** Redis for the session store and the 2FA stores (2FA stays in memory without it). */
  redisUrl?: string | undefined;
  /** koa-passport 6 (passport 0.6) or koa-passport 4 (passport 0.4). Default 0.6. */
  passport?: '0.4' | '0.6' | undefined;
  /** How users carry their id. Default `id` (a number). */
  userShape?: 'id' | '_id' | 'no-id' | undefined;
  /** Koa's `app.proxy`. */
  proxy?: boolean | undefined;
  twoFactor?: Partial<TwoFactorOptions> | undefined;
}

export interface CarelessApp {
  url: string;
  tf: ReturnType<typeof twoFactor>;
  /** What the package logged. */
  logs: string[];
  client(): HttpClient;
  /** Logs in with the password only (form post, as the login page does). */
  login(client?: HttpClient): Promise<HttpClient>;
  /** How many `GET /slow?hold=1` requests are inside the route, waiting for `releaseHeld()`. */
  heldRequests(): number;
  /** Lets every held `GET /slow?hold=1` request finish. */
  releaseHeld(): void;
  stop(): Promise<void>;
}

type AppUser = Record<string, unknown> & { username: string; password: string };

export async function startCarelessApp(o: CarelessOptions): Promise<CarelessApp> {
  const shape = o.userShape ?? 'id';
  // One shared object per user, handed out by both the strategy and deserializeUser.
  const carol: AppUser = shape === 'id' ? { id: 7, username: 'carol', password: 'carol-pw' }
    : shape === '_id' ? { _id: '65f1c0ffee0000000000abcd', username: 'carol', password: 'carol-pw' }
      : { username: 'carol', password: 'carol-pw' };
  const users = [carol];

  const { KoaPassport } = require(o.passport === '0.4' ? 'koa-passport-v4' : 'koa-passport') as { KoaPassport: new () => any };
  const passport = new KoaPassport();
  passport.serializeUser((user: AppUser, done: (e: unknown, id?: string) => void) => done(null, user.username));
  passport.deserializeUser((name: string, done: (e: unknown, u?: AppUser | false) => void) => done(null, users.find((u) => u.username === name) ?? false));
  passport.use(new LocalStrategy((username, password, done) => {
    const user = users.find((u) => u.username === username && u.password === password);
    done(null, user ?? false);
  }));

  const redis = o.redisUrl ? new Redis(o.redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
  const logs: string[] = [];
  const tf = twoFactor({
    redis,
    encryptionKeys: redis ? `c1:${SecretBox.randomKey()}` : undefined,
    logger: (m) => { logs.push(m); },
    publicPaths: ['/', '/login'],
    // Each app its own keys: tests share one Redis and one user name.
    redisKeyPrefix: `careless-${randomBytes(4).toString('hex')}`,
    ...o.twoFactor,
  });

  const app = new Koa();
  app.keys = ['careless-app-test-key'];
  if (o.proxy) app.proxy = true;
  app.use(session({
    key: 'careless.sess',
    ...(o.sessions === 'redis' && redis ? {
      store: {
        // The 15-line store people write: saves whatever it is given.
        async get(key: string) {
          const raw = await redis.get(`careless-sess:${key}`);
          return raw ? JSON.parse(raw) : undefined;
        },
        async set(key: string, sess: unknown) {
          await redis.set(`careless-sess:${key}`, JSON.stringify(sess), 'PX', 86_400_000);
        },
        async destroy(key: string) {
          await redis.del(`careless-sess:${key}`);
        },
      },
    } : {}),
  }, app));
  app.use(bodyParser());
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(tf.gate);
  app.use(tf.routes);

  const router = new Router();
  router.get('/', (ctx) => { ctx.body = 'home'; });
  router.get('/login', (ctx) => { ctx.body = 'login form'; });
  router.post('/login', passport.authenticate('local', { successRedirect: '/app', failureRedirect: '/login' }));
  // The logout the gate knows about (its default `logoutPath`)…
  router.get('/logout', (ctx) => {
    ctx.logout();
    ctx.redirect('/');
  });
  // …and one it does not.
  router.get('/signout', (ctx) => {
    ctx.logout();
    ctx.redirect('/');
  });
  router.get('/app', (ctx) => {
    if (!ctx.isAuthenticated()) return ctx.redirect('/login');
    ctx.body = { secret: 'the app', user: (ctx.state.user as AppUser).username };
  });
  // A request that is still running when the user logs out elsewhere: for
  // `ms`, or (`hold=1`) until the test releases it.
  const held: (() => void)[] = [];
  router.get('/slow', async (ctx) => {
    if (ctx.query.hold) await new Promise<void>((resolve) => { held.push(resolve); });
    else await new Promise((resolve) => setTimeout(resolve, Number(ctx.query.ms ?? 300)));
    ctx.body = { slow: true };
  });
  app.use(router.routes());

  const { server, url } = await listenOnLoopback(app);
  return {
    url, tf, logs,
    client: () => new HttpClient(url),
    heldRequests: () => held.length,
    releaseHeld() {
      for (const release of held.splice(0)) release();
    },
    async login(client = new HttpClient(url)) {
      const res = await client.post('/login', { form: { username: 'carol', password: 'carol-pw' } });
      if (res.status !== 302 || res.headers.get('location') !== '/app') throw new Error(`login failed: ${res.status} ${res.headers.get('location')}`);
      return client;
    },
    async stop() {
      for (const release of held.splice(0)) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis?.disconnect();
    },
  };
}

/** A second client holding the same cookies (a copy of the browser's cookie jar). */
export function copyOf(client: HttpClient): HttpClient {
  const copy = new HttpClient(client.baseUrl);
  for (const [name, value] of client.cookies) copy.cookies.set(name, value);
  return copy;
}
