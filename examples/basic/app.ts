/**
 * The example app: Koa + koa-session + koa-passport (passport-local) with
 * koa-two-factor mounted. In-memory stores by default; Redis for sessions
 * and 2FA when `redisUrl` is given.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import session from 'koa-session';
import passport from 'koa-passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { twoFactor, twoFactorErrors, DEFAULT_CONTENT_SECURITY_POLICY, type AuditEvent, type TwoFactorOptions } from '../../src/index.ts';
import { createRedisClient, whenReady } from '../../src/redis/index.ts';
import { exampleTwoFactorSettings, type ExampleEmail } from './settings.ts';
import { userDirectory, type User } from './users.ts';
import { memorySessionStore, redisSessionStore } from './session-stores.ts';
import { dashboardPage, loginPage, takeControlPage } from './pages.ts';

export interface ExampleOptions {
  /** Redis for sessions and 2FA stores; in memory when absent. */
  redisUrl?: string | undefined;
  /** Keys for secrets at rest (`id:base64key,…`); required with Redis. */
  encryptionKeys?: string | undefined;
  /** Extra 2FA options (tests tune limits and windows here). */
  twoFactor?: Partial<TwoFactorOptions> | undefined;
  /** Audit sink; default: one JSON line per event on stdout. */
  audit?: ((e: AuditEvent) => void) | undefined;
  /** Step-up freshness for "take control", in ms. Default: any verified session. */
  takeControlMaxAgeMs?: number | undefined;
  /** Cookie signing keys. Default: random per process. */
  cookieKeys?: string[] | undefined;
  /**
   * Emailed sign-in codes and security notices: over SMTP (`{ smtpUrl, from }`)
   * or printed on stdout (`'stdout'`, what `npm start` does without SMTP_URL).
   * Default: no email.
   */
  email?: ExampleEmail | undefined;
  /** scrypt cost N of the demo users' password hashes. Default: `DEFAULT_PASSWORD_COST` (2^14). */
  passwordCost?: number | undefined;
}

export interface ExampleApp {
  app: Koa;
  tf: ReturnType<typeof twoFactor>;
  /** Resolves when the stores can answer (Redis connected). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createExampleApp(o: ExampleOptions = {}): ExampleApp {
  const app = new Koa();
  app.keys = o.cookieKeys ?? [randomBytes(32).toString('base64')];
  let redis: Redis | undefined;
  if (o.redisUrl) redis = createRedisClient(o.redisUrl);

  const users = userDirectory(o.passwordCost);
  const tf = twoFactor({ ...exampleTwoFactorSettings(o, redis, users), ...o.twoFactor });

  passport.serializeUser((user: any, done) => done(null, (user as User).id));
  passport.deserializeUser((id: string, done) => done(null, users.findById(id) ?? false));
  passport.use(new LocalStrategy((username, password, done) => {
    users.checkPassword(username, password).then((user) => done(null, user ?? false), done);
  }));

  // First, so every error is answered as the contract says: a session store
  // that cannot answer (Redis down, paused, out of memory) is the package's
  // 503, an unreadable body (a plain one labelled gzip) a 400, never a 500.
  app.use(twoFactorErrors({ logger: o.twoFactor?.logger }));
  // The example's own pages use the package's layout, so the same strict policy fits them.
  app.use(async (ctx, next) => {
    await next();
    if (!ctx.response.is('html')) return;
    if (!ctx.response.get('Content-Security-Policy')) ctx.set('Content-Security-Policy', DEFAULT_CONTENT_SECURITY_POLICY);
    // Signed-in pages (the dashboard, a remote session id) must not be cached either.
    ctx.set('Cache-Control', 'no-store');
  });
  app.use(session({
    key: 'koa.sess', httpOnly: true, sameSite: 'lax', maxAge: 86_400_000,
    store: redis ? redisSessionStore(redis) : memorySessionStore(),
  }, app));
  // The 2FA routes parse their own bodies (and answer a malformed one with invalid_input).
  const parseBody = bodyParser({ enableTypes: ['json', 'form'], parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'] });
  app.use((ctx, next) => (ctx.path.startsWith(`${tf.prefix}/`) ? next() : parseBody(ctx, next)));
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(tf.gate);
  app.use(tf.routes);

  const router = new Router();
  const wantsJson = (ctx: Koa.Context) => ctx.accepts('html', 'json') === 'json';

  router.get('/', (ctx) => ctx.redirect(ctx.isAuthenticated() ? '/dashboard' : '/login'));
  router.get('/login', (ctx) => {
    ctx.type = 'html';
    ctx.body = loginPage();
  });
  router.post('/login', async (ctx, next) => {
    const body = (ctx.request.body ?? {}) as Record<string, unknown>;
    if (typeof body.username !== 'string' || typeof body.password !== 'string') {
      ctx.status = 400;
      ctx.body = wantsJson(ctx) ? { error: 'invalid_input', message: 'username and password are required' } : loginPage('Enter a username and a password.');
      return;
    }
    await passport.authenticate('local', async (err: unknown, user: User | false) => {
      if (err) throw err;
      if (!user) {
        ctx.status = 401;
        if (wantsJson(ctx)) ctx.body = { error: 'invalid_credentials', message: 'Wrong username or password.' };
        else { ctx.type = 'html'; ctx.body = loginPage('Wrong username or password.'); }
        return;
      }
      await ctx.login(user);
      const { state } = await tf.service.sessionState(user.id);
      const nextUrl = state === 'active' ? `${tf.prefix}/verify` : state === 'pending' ? `${tf.prefix}/setup` : '/dashboard';
      if (wantsJson(ctx)) ctx.body = { user, twoFactor: state, next: nextUrl };
      else ctx.redirect(nextUrl === '/dashboard' ? '/dashboard' : `${nextUrl}?returnTo=%2Fdashboard`);
    })(ctx, next);
  });
  router.post('/logout', async (ctx) => {
    await ctx.logout();
    ctx.session = null;
    if (wantsJson(ctx)) ctx.body = { ok: true };
    else ctx.redirect('/login');
  });
  router.get('/dashboard', async (ctx) => {
    if (!ctx.isAuthenticated()) return ctx.redirect('/login');
    const user = ctx.state.user as User;
    const { state } = await tf.service.sessionState(user.id);
    if (wantsJson(ctx)) ctx.body = { user, twoFactor: state };
    else { ctx.type = 'html'; ctx.body = dashboardPage(user, state === 'active'); }
  });
  // The privileged action: needs active 2FA, passed within maxAge if set.
  const stepUp = tf.requireStepUp({
    maxAge: o.takeControlMaxAgeMs,
    reason: 'Taking control of a remote session needs two-factor authentication.',
  });
  router.get('/remote/take-control', stepUp, (ctx) => {
    ctx.type = 'html';
    ctx.body = takeControlPage(ctx.state.user as User, tf.csrfToken(ctx));
  });
  router.post('/remote/take-control', stepUp, (ctx) => {
    const session = { id: randomBytes(8).toString('hex'), startedAt: new Date().toISOString() };
    if (wantsJson(ctx)) ctx.body = { started: true, session };
    else { ctx.type = 'html'; ctx.body = takeControlPage(ctx.state.user as User, tf.csrfToken(ctx), session.id); }
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  return {
    app, tf,
    ready: () => (redis ? whenReady(redis) : Promise.resolve()),
    async close() {
      if (redis) redis.disconnect();
    },
  };
}
