/**
 * The example app on Express: Express 5 + express-session + passport 0.7
 * (passport-local) with the package's Express adapter mounted. The same
 * users, pages, routes and HTTP answers as the Koa example
 * (examples/basic/app.ts). In-memory stores by default; Redis for sessions
 * (connect-redis) and 2FA when `redisUrl` is given.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { twoFactor, twoFactorErrors, DEFAULT_CONTENT_SECURITY_POLICY, type ExpressTwoFactorOptions } from '../../src/express/index.ts';
import { createRedisClient, whenReady } from '../../src/redis/index.ts';
import type { ExampleOptions } from '../basic/app.ts';
import { exampleTwoFactorSettings } from '../basic/settings.ts';
import { userDirectory, type User } from '../basic/users.ts';
import { dashboardPage, loginPage, takeControlPage } from '../basic/pages.ts';
import { memorySessionStore, redisSessionStore } from './session-stores.ts';

/** The session cookie's name (the Koa example's is koa-session's `koa.sess`). */
export const SESSION_COOKIE = 'sid';
const DAY = 86_400_000;
const COOKIE = { path: '/', httpOnly: true, sameSite: 'lax' } as const;

/** The Koa example's options; `twoFactor` takes the Express adapter's (callbacks get `req`, not `ctx`). */
export interface ExpressExampleOptions extends Omit<ExampleOptions, 'twoFactor'> {
  /** Extra 2FA options (tests tune limits and windows here). */
  twoFactor?: Partial<ExpressTwoFactorOptions> | undefined;
}

export interface ExpressExampleApp {
  app: express.Express;
  tf: ReturnType<typeof twoFactor>;
  /** Resolves when the stores can answer (Redis connected). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export function createExpressExampleApp(o: ExpressExampleOptions = {}): ExpressExampleApp {
  const app = express();
  // As Koa: no X-Powered-By, no ETags (nor 304s) on the app's answers.
  app.disable('x-powered-by');
  app.set('etag', false);
  const cookieKeys = o.cookieKeys ?? [randomBytes(32).toString('base64')];
  let redis: Redis | undefined;
  if (o.redisUrl) redis = createRedisClient(o.redisUrl);

  const users = userDirectory(o.passwordCost);
  const tf = twoFactor({ ...exampleTwoFactorSettings(o, redis, users), ...o.twoFactor });

  // Passport of this app alone (passport's default instance is process-wide).
  const auth = new passport.Passport();
  auth.serializeUser<string>((user, done) => done(null, (user as User).id));
  auth.deserializeUser<string>((id, done) => done(null, users.findById(id) ?? false));
  auth.use(new LocalStrategy((username, password, done) => {
    users.checkPassword(username, password).then((user) => done(null, user ?? false), done);
  }));

  // The example's own pages use the package's layout, so the same strict policy fits them.
  app.use(htmlHeaders);
  app.use(session({
    name: SESSION_COOKIE, secret: cookieKeys, resave: false, saveUninitialized: false,
    cookie: { ...COOKIE, maxAge: DAY },
    store: redis ? redisSessionStore(redis) : memorySessionStore(),
  }));
  // The 2FA routes parse their own bodies (and answer a malformed one with invalid_input).
  // Limits as the Koa example's body parser: JSON 1 MB, forms 56 kB.
  const parseJson = express.json({ limit: '1mb' });
  const parseForm = express.urlencoded({ extended: false, limit: '56kb' });
  app.use((req, res, next) => {
    if (req.path.startsWith(`${tf.prefix}/`)) return next();
    parseJson(req, res, (err?: unknown) => (err ? next(err) : parseForm(req, res, next)));
  });
  app.use(auth.initialize());
  app.use(auth.session());
  app.use(tf.gate);
  app.use(tf.router);

  const wantsJson = (req: Request) => req.accepts(['html', 'json']) === 'json';
  const sendPage = (res: Response, html: string, status = 200) => { res.status(status).type('html').send(html); };

  app.route('/')
    .get((req, res) => res.redirect(req.isAuthenticated() ? '/dashboard' : '/login'))
    .all(allowOnly('HEAD, GET'));
  app.route('/login')
    .get((_req, res) => sendPage(res, loginPage()))
    .post(async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body.username !== 'string' || typeof body.password !== 'string') {
        if (wantsJson(req)) res.status(400).json({ error: 'invalid_input', message: 'username and password are required' });
        else sendPage(res, loginPage('Enter a username and a password.'), 400);
        return;
      }
      const user = await new Promise<User | false>((resolve, reject) => {
        auth.authenticate('local', (err: unknown, u: User | false) => (err ? reject(err) : resolve(u)))(req, res, reject);
      });
      if (!user) {
        if (wantsJson(req)) res.status(401).json({ error: 'invalid_credentials', message: 'Wrong username or password.' });
        else sendPage(res, loginPage('Wrong username or password.'), 401);
        return;
      }
      // passport ≥ 0.6 regenerates the session (a new id) on login.
      await sessionStep(req, (done) => req.login(user, done));
      const { state } = await tf.service.sessionState(user.id);
      const nextUrl = state === 'active' ? `${tf.prefix}/verify` : state === 'pending' ? `${tf.prefix}/setup` : '/dashboard';
      if (wantsJson(req)) res.json({ user, twoFactor: state, next: nextUrl });
      else res.redirect(nextUrl === '/dashboard' ? '/dashboard' : `${nextUrl}?returnTo=%2Fdashboard`);
    })
    .all(allowOnly('HEAD, GET, POST'));
  app.route('/logout')
    .post(async (req, res) => {
      await sessionStep(req, (done) => req.logout(done));
      // As the Koa example's `ctx.session = null`: the session ends in the store and the cookie goes.
      await sessionStep(req, (done) => req.session.destroy(done));
      res.clearCookie(SESSION_COOKIE, COOKIE);
      if (wantsJson(req)) res.json({ ok: true });
      else res.redirect('/login');
    })
    .all(allowOnly('POST'));
  app.route('/dashboard')
    .get(async (req, res) => {
      if (!req.isAuthenticated()) return res.redirect('/login');
      const user = req.user as User;
      const { state } = await tf.service.sessionState(user.id);
      if (wantsJson(req)) res.json({ user, twoFactor: state });
      else sendPage(res, dashboardPage(user, state === 'active'));
    })
    .all(allowOnly('HEAD, GET'));
  // The privileged action: needs active 2FA, passed within maxAge if set.
  const stepUp = tf.requireStepUp({
    maxAge: o.takeControlMaxAgeMs,
    reason: 'Taking control of a remote session needs two-factor authentication.',
  });
  app.route('/remote/take-control')
    .get(stepUp, (req, res) => sendPage(res, takeControlPage(req.user as User, tf.csrfToken(req))))
    .post(stepUp, (req, res) => {
      const remote = { id: randomBytes(8).toString('hex'), startedAt: new Date().toISOString() };
      if (wantsJson(req)) res.json({ started: true, session: remote });
      else sendPage(res, takeControlPage(req.user as User, tf.csrfToken(req), remote.id));
    })
    .all(allowOnly('HEAD, GET, POST'));
  // Koa's answer to a path nobody serves: a plain 404 (Express' own is an HTML page).
  app.use((_req, res) => { res.status(404).type('text').send('Not Found'); });
  // Last, so every error is answered as the contract says: a session store
  // that cannot answer (Redis down, paused, out of memory) is the package's
  // 503, an unreadable body (a plain one labelled gzip) a 400, never
  // Express' HTML error page with a stack.
  app.use(twoFactorErrors({ logger: o.twoFactor?.logger }));

  return {
    app, tf,
    ready: () => (redis ? whenReady(redis) : Promise.resolve()),
    async close() {
      if (redis) redis.disconnect();
    },
  };
}

/**
 * The Koa example's page headers, on every HTML answer of the app: its CSP
 * unless the answer has one, and no caching (the dashboard, a remote session
 * id). Express has no "after the route" step, so they are set as the
 * headers go out.
 */
function htmlHeaders(_req: Request, res: Response, next: NextFunction): void {
  const writeHead = res.writeHead;
  res.writeHead = function (this: Response, ...args: unknown[]) {
    if (/^text\/html\b/i.test(String(this.getHeader('content-type') ?? ''))) {
      if (!this.getHeader('content-security-policy')) this.setHeader('Content-Security-Policy', DEFAULT_CONTENT_SECURITY_POLICY);
      this.setHeader('Cache-Control', 'no-store');
    }
    return (writeHead as (...a: unknown[]) => Response).apply(this, args);
  } as Response['writeHead'];
  next();
}

/**
 * A session step that talks to the store (passport's login and logout,
 * destroy). When the store fails, express-session would still write the
 * session back as the answer goes out, waiting on the failing store a
 * second time (and reporting that failure after the answer): the session is
 * dropped from the request first, and the error goes on to the 503.
 */
function sessionStep(req: Request, step: (done: (err?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    step((err) => {
      if (!err) return resolve();
      delete (req as { session?: unknown }).session;
      reject(err);
    });
  });
}

/** The methods @koa/router knows; others are 501 there. */
const ROUTER_METHODS = new Set(['HEAD', 'OPTIONS', 'GET', 'PUT', 'PATCH', 'POST', 'DELETE']);

/** What @koa/router's allowedMethods() answers for a known path and another method: 405 (OPTIONS 200, unknown methods 501) with Allow. */
function allowOnly(allow: string): RequestHandler {
  return (req, res) => {
    res.set('Allow', allow).type('text');
    if (req.method === 'OPTIONS') res.status(200).send('');
    else if (!ROUTER_METHODS.has(req.method)) res.status(501).send('Not Implemented');
    else res.status(405).send('Method Not Allowed');
  };
}
