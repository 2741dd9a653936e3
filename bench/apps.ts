/**
 * The Koa apps under load. One "session app" shape, with and without the
 * 2FA gate, so the only difference between the pairs is `tf.gate` +
 * `tf.routes`:
 *
 *   koa-session → bodyparser → passport-like user → [tf.gate → tf.routes] → router
 *
 * The passport-like middleware does what `passport.session()` does for a
 * serialized id with a free deserializer: `ctx.state.user` from the session.
 * Plus two reference apps: a bare endpoint, and one doing only the TOTP HMACs.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import session from 'koa-session';
import type { Redis } from 'ioredis';
import { generateSecret, matchTimeStep, resolveTotpOptions, type TwoFactor } from '../src/index.ts';

type Sess = Record<string, unknown>;
const DAY = 86_400_000;
const ttlOf = (maxAge: number | 'session' | undefined): number => (typeof maxAge === 'number' ? maxAge : DAY);

export interface SessionStore {
  get(key: string): Promise<Sess | undefined>;
  set(key: string, sess: Sess, maxAge: number | 'session' | undefined): Promise<void>;
  destroy(key: string): Promise<void>;
}

/** Sessions in this process's memory (koa-session external store, so ids exist and rotate). */
export function memorySessionStore(): SessionStore {
  const data = new Map<string, { sess: Sess; expires: number }>();
  return {
    async get(key) {
      const e = data.get(key);
      return e && e.expires >= Date.now() ? e.sess : undefined;
    },
    async set(key, sess, maxAge) { data.set(key, { sess, expires: Date.now() + ttlOf(maxAge) }); },
    async destroy(key) { data.delete(key); },
  };
}

/** Sessions on ioredis: one GET per request, SET when the session changed. */
export function redisSessionStore(redis: Redis, prefix = 'sess:'): SessionStore {
  return {
    async get(key) {
      const raw = await redis.get(prefix + key);
      return raw ? (JSON.parse(raw) as Sess) : undefined;
    },
    async set(key, sess, maxAge) { await redis.set(prefix + key, JSON.stringify(sess), 'PX', ttlOf(maxAge)); },
    async destroy(key) { await redis.del(prefix + key); },
  };
}

export interface SessionAppOptions {
  keys: string[];
  store: SessionStore;
  /** Mounted (gate + routes) when given. */
  tf?: TwoFactor | undefined;
  /** Trust X-Forwarded-For (one proxy): the verification storm sends one client IP per user. */
  proxy?: boolean | undefined;
}

export const SESSION_COOKIE = 'sid';

export function createSessionApp(o: SessionAppOptions): Koa {
  const app = new Koa();
  app.keys = o.keys;
  if (o.proxy) {
    app.proxy = true;
    app.maxIpsCount = 1;
  }
  app.use(session({ key: SESSION_COOKIE, httpOnly: true, sameSite: 'lax', maxAge: DAY, store: o.store }, app));
  app.use(bodyParser({ enableTypes: ['json'], parsedMethods: ['POST'] }));
  // passport.session() with a deserializer that costs nothing.
  app.use(async (ctx, next) => {
    const uid = ctx.session?.['uid'];
    if (typeof uid === 'string') ctx.state['user'] = { id: uid, username: uid };
    await next();
  });
  if (o.tf) {
    app.use(o.tf.gate);
    app.use(o.tf.routes);
  }
  const router = new Router();
  // Password step of a real app, minus the password: the session now has a user.
  router.post('/login', (ctx) => {
    const uid = (ctx.request.body as { uid?: unknown } | undefined)?.uid;
    if (typeof uid !== 'string' || !ctx.session) {
      ctx.status = 400;
      return;
    }
    ctx.session['uid'] = uid;
    ctx.body = { ok: true };
  });
  router.get('/protected', (ctx) => {
    const user = ctx.state['user'] as { id: string } | undefined;
    if (!user) {
      ctx.status = 401;
      ctx.body = { error: 'unauthenticated' };
      return;
    }
    ctx.body = { ok: true, user: user.id };
  });
  app.use(router.routes());
  return app;
}

/** No session, no middleware: Koa's floor on this machine. */
export function createBareApp(): Koa {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  return app;
}

/**
 * Only the CPU work of a TOTP check, for one device with window ±1: a code
 * that matches no step, so all three HMACs run (the worst case; a right
 * code stops at its step). No store, no session, no AES.
 */
export function createTotpApp(): Koa {
  const app = new Koa();
  const secret = generateSecret();
  const totp = resolveTotpOptions({ window: 1 });
  let code = 0;
  app.use((ctx) => {
    // A different (almost always wrong) 6-digit code each time.
    code = (code + 7919) % 1_000_000;
    const step = matchTimeStep(secret, String(code).padStart(6, '0'), Date.now(), totp);
    ctx.body = { ok: true, step };
  });
  return app;
}
