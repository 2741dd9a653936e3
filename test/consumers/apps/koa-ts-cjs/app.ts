// A TypeScript app compiled to CommonJS, with koa-two-factor's stores built by hand.
import Koa from 'koa';
import Router from '@koa/router';
import session from 'koa-session';
import passport from 'koa-passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { twoFactor, twoFactorErrors } from 'koa-two-factor';
import { RedisGuardStore, RedisRecordStore, type RecordStore } from 'koa-two-factor/stores';
import { createRedisClient, whenReady } from 'koa-two-factor/redis';

interface User { _id: string; name: string; password: string }
const users: User[] = [{ _id: '64b7f0c2a1', name: 'alice', password: 'alice-password' }];

passport.serializeUser((user, done) => done(null, (user as User)._id));
passport.deserializeUser((id: string, done) => done(null, users.find((u) => u._id === id) ?? false));
passport.use(new LocalStrategy((username, password, done) => {
  const user = users.find((u) => u.name === username);
  done(null, user && user.password === password ? user : false);
}));

async function main(): Promise<void> {
  const redis = createRedisClient(process.env.REDIS_URL!);
  const records: RecordStore = new RedisRecordStore(redis, { keyPrefix: 'consumer:' });
  const tf = twoFactor({
    issuer: 'TypeScript CommonJS consumer',
    records,
    guard: new RedisGuardStore(redis, { keyPrefix: 'consumer:' }),
    encryptionKeys: process.env.TWO_FACTOR_KEYS,
    prefix: '/security/2fa',
    afterVerifyPath: '/home',
    logger: (message) => console.error(message),
  });

  const app = new Koa();
  app.keys = ['ts-cjs-consumer-cookie-key'];
  app.use(twoFactorErrors());
  app.use(session({}, app));
  app.use(passport.initialize());
  app.use(passport.session());
  app.use(tf.gate);
  app.use(tf.routes);

  const router = new Router();
  // Its own login form reader: no body parser for the app's routes.
  router.post('/login', async (ctx, next) => {
    const raw = await new Promise<string>((resolve) => {
      let data = '';
      ctx.req.on('data', (chunk: Buffer) => { data += chunk.toString(); });
      ctx.req.on('end', () => resolve(data));
    });
    (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(raw));
    return passport.authenticate('local', { successRedirect: '/home', failureRedirect: '/login' })(ctx, next);
  });
  router.post('/logout', async (ctx) => {
    await ctx.logout();
    ctx.redirect('/login');
  });
  router.get('/home', (ctx) => {
    if (!ctx.isAuthenticated()) return ctx.redirect('/login');
    ctx.body = { user: (ctx.state.user as User).name };
  });
  app.use(router.routes()).use(router.allowedMethods());

  await whenReady(redis);
  const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const address = server.address();
    console.log(`listening on ${typeof address === 'object' && address ? address.port : ''}`);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
