// A Koa 3 app in TypeScript (ESM, nodenext) with koa-two-factor added; 2FA state on the app's Redis.
import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import session from 'koa-session';
import passport from 'koa-passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { Redis } from 'ioredis';
import { twoFactor, twoFactorErrors, type TwoFactorOptions } from 'koa-two-factor';
import { GUARD_REDIS_OPTIONS, whenReady } from 'koa-two-factor/redis';

interface User { id: string; email: string; password: string }
const users: User[] = [{ id: 'u-1', email: 'alice@example.test', password: 'alice-password' }];

passport.serializeUser((user, done) => done(null, (user as User).id));
passport.deserializeUser((id: string, done) => done(null, users.find((u) => u.id === id) ?? false));
passport.use(new LocalStrategy({ usernameField: 'email' }, (email, password, done) => {
  const user = users.find((u) => u.email === email);
  done(null, user && user.password === password ? user : false);
}));

const redis = new Redis(process.env.REDIS_URL!, GUARD_REDIS_OPTIONS);
const options: TwoFactorOptions = {
  issuer: 'Koa 3 consumer',
  redis,
  encryptionKeys: process.env.TWO_FACTOR_KEYS,
  afterVerifyPath: '/account',
  getAccountName: (user: User) => user.email,
  logger: (message) => console.error(message),
};
const tf = twoFactor(options);

const app = new Koa();
app.keys = ['koa3-consumer-cookie-key'];
app.use(twoFactorErrors());
app.use(session({ sameSite: 'lax' }, app));
app.use(bodyParser());
app.use(passport.initialize());
app.use(passport.session());
app.use(tf.gate);
app.use(tf.routes);

const router = new Router();
router.post('/login', passport.authenticate('local', { successRedirect: '/account', failureRedirect: '/login' }));
router.post('/logout', async (ctx) => {
  await ctx.logout();
  ctx.session = null;
  ctx.redirect('/login');
});
router.get('/account', (ctx) => {
  if (!ctx.isAuthenticated()) return ctx.redirect('/login');
  ctx.body = { user: (ctx.state.user as User).email };
});
app.use(router.routes()).use(router.allowedMethods());

await whenReady(redis);
const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on ${typeof address === 'object' && address ? address.port : ''}`);
});
