/**
 * The smallest app the package can be mounted in, for tests that need to
 * control what the example app decides for them: no passport (the user is
 * whoever `POST /login?as=NAME` named, kept in the session), no body parser
 * unless asked for (so what the package reads itself is visible), the
 * in-memory stores, and the app's own routes given by the test.
 */
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import session from 'koa-session';
import { createRequire } from 'node:module';
import { generateCode, twoFactor, type TwoFactorOptions } from '../../src/index.ts';
import { HttpClient } from './http-client.ts';

/** koa-session 5, as older apps run it: no `regenerate()`. */
const sessionV5: unknown = createRequire(import.meta.url)('koa-session5');
import { listenOnLoopback } from './listen.ts';

export interface MiniApp {
  url: string;
  tf: ReturnType<typeof twoFactor>;
  /** What the package logged. */
  logs: string[];
  /** A new cookie jar, logged in (password only) as `name`. */
  login(name: string): Promise<HttpClient>;
  stop(): Promise<void>;
}

export interface MiniAppOptions {
  twoFactor?: Partial<TwoFactorOptions> | undefined;
  /** Mount @koa/bodyparser for the app's own routes (not under the 2FA prefix). Default false. */
  bodyParser?: boolean | undefined;
  /** The session middleware: koa-session 7 (default) or koa-session 5 (no `regenerate()`). */
  session?: 'koa-session' | 'koa-session5' | undefined;
  /** The app's own routes, mounted after the gate and the 2FA routes. */
  routes?: ((router: Router, tf: ReturnType<typeof twoFactor>) => void) | undefined;
}

export async function startMiniApp(o: MiniAppOptions = {}): Promise<MiniApp> {
  const logs: string[] = [];
  const tf = twoFactor({
    issuer: 'Mini',
    getUser: (ctx) => {
      const name = (ctx.session as { user?: unknown } | null)?.user;
      return typeof name === 'string' ? { id: name, username: name } : undefined;
    },
    getAccountName: (u: { username: string }) => u.username,
    logger: (line) => logs.push(line),
    ...o.twoFactor,
  });
  const app = new Koa();
  app.keys = ['mini-app-test-key'];
  const sessionMiddleware = o.session === 'koa-session5' ? (sessionV5 as unknown as typeof session) : session;
  app.use(sessionMiddleware({ key: 'mini.sess', sameSite: 'lax' }, app));
  if (o.bodyParser) {
    const parse = bodyParser({ enableTypes: ['json', 'form'] });
    app.use((ctx, next) => (ctx.path.startsWith(`${tf.prefix}/`) ? next() : parse(ctx, next)));
  }
  // Before the gate, as a login route is: no user yet.
  app.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || ctx.path !== '/login') return next();
    (ctx.session as { user?: string }).user = String(ctx.query.as);
    ctx.body = { ok: true };
  });
  app.use(tf.gate);
  app.use(tf.routes);
  const router = new Router();
  o.routes?.(router, tf);
  app.use(router.routes());
  const { server, url } = await listenOnLoopback(app);
  return {
    url, tf, logs,
    async login(name) {
      const c = new HttpClient(url);
      const res = await c.post(`/login?as=${encodeURIComponent(name)}`, { json: {} });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
      return c;
    },
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Links an authenticator for the logged-in `client` over HTTP (this session
 * is then verified) and returns its secret. The code is of the previous time
 * step, so the current one stays free for the test.
 */
export async function enrolOver(client: HttpClient): Promise<string> {
  const setup = await client.post('/2fa/setup', { json: { name: 'Phone' } });
  if (setup.status !== 201) throw new Error(`setup failed: ${setup.status} ${setup.text}`);
  const secret = setup.body.secret as string;
  const confirm = await client.post('/2fa/setup/confirm', {
    json: { enrolmentId: setup.body.enrolmentId, code: generateCode(secret, Date.now() - 30_000) },
  });
  if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${confirm.text}`);
  return secret;
}
