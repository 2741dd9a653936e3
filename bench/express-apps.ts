/**
 * The Express twin of the Koa session app (bench/apps.ts), with and without
 * the 2FA gate, so the only difference between a pair is `tf.gate` +
 * `tf.router` (+ `twoFactorErrors()`, last, never reached on a 200):
 *
 *   express-session → express.json → passport-like user → [tf.gate → tf.router] → routes
 *
 * Sessions go to the same stores as the Koa apps' (bench/apps.ts: in memory,
 * or one Redis GET per request and a SET when the session changed), through
 * an express-session `Store`. Settings as koa-session's there: signed `sid`
 * cookie, a day, no rolling, no touch, nothing saved for an untouched session.
 */
import express, { type Express } from 'express';
import session, { type SessionData } from 'express-session';
import { twoFactorErrors, type ExpressTwoFactor } from '../src/express/index.ts';
import { SESSION_COOKIE, type SessionStore } from './apps.ts';

const DAY = 86_400_000;
type Sess = Record<string, unknown>;

/**
 * A bench session store as an express-session `Store`. What goes in is a
 * plain copy (as koa-session hands its stores `toJSON()`); what comes out is
 * a shallow copy with its own `cookie`, which express-session replaces in
 * place (koa-session copies the top-level fields the same way).
 */
class BenchStore extends session.Store {
  constructor(private readonly store: SessionStore) {
    super();
  }

  override get(sid: string, cb: (err: unknown, session?: SessionData | null) => void): void {
    this.store.get(sid).then((s) => cb(null, s ? ({ ...s, cookie: { ...(s['cookie'] as object) } } as unknown as SessionData) : null), cb);
  }

  override set(sid: string, sess: SessionData, cb?: (err?: unknown) => void): void {
    const left = sess.cookie?.expires ? new Date(sess.cookie.expires).getTime() - Date.now() : DAY;
    this.store.set(sid, JSON.parse(JSON.stringify(sess)) as Sess, left).then(() => cb?.(), (err: unknown) => cb?.(err));
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): void {
    this.store.destroy(sid).then(() => cb?.(), (err: unknown) => cb?.(err));
  }
}

export interface ExpressSessionAppOptions {
  keys: string[];
  store: SessionStore;
  /** Mounted (gate + router, and the error handler last) when given. */
  tf?: ExpressTwoFactor | undefined;
}

export function createExpressSessionApp(o: ExpressSessionAppOptions): Express {
  const app = express();
  // As Koa: no X-Powered-By, no ETag hashing of every answer.
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(session({
    name: SESSION_COOKIE, secret: o.keys, resave: false, saveUninitialized: false, rolling: false,
    cookie: { httpOnly: true, sameSite: 'lax', maxAge: DAY }, store: new BenchStore(o.store),
  }));
  app.use(express.json());
  // passport.session() with a deserializer that costs nothing.
  app.use((req, _res, next) => {
    const uid = (req.session as unknown as Sess | undefined)?.['uid'];
    if (typeof uid === 'string') req.user = { id: uid, username: uid };
    next();
  });
  if (o.tf) {
    app.use(o.tf.gate);
    app.use(o.tf.router);
  }
  // Password step of a real app, minus the password: the session now has a user.
  app.post('/login', (req, res) => {
    const uid = (req.body as { uid?: unknown } | undefined)?.uid;
    if (typeof uid !== 'string') {
      res.status(400).end();
      return;
    }
    (req.session as unknown as Sess)['uid'] = uid;
    res.json({ ok: true });
  });
  app.get('/protected', (req, res) => {
    const user = req.user as { id: string } | undefined;
    if (!user) {
      res.status(401).json({ error: 'unauthenticated' });
      return;
    }
    res.json({ ok: true, user: user.id });
  });
  if (o.tf) app.use(twoFactorErrors());
  return app;
}
