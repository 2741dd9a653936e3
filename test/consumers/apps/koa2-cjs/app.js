'use strict';
// An existing Koa 2 app (as koa-passport's own example is written), with koa-two-factor added.
const Koa = require('koa');
const Router = require('koa-router');
const bodyParser = require('koa-bodyparser');
const session = require('koa-session');
const passport = require('koa-passport');
const LocalStrategy = require('passport-local').Strategy;
const { twoFactor, twoFactorErrors } = require('koa-two-factor');

const users = [{ id: 1, username: 'alice', password: 'alice-password' }];

passport.serializeUser((user, done) => done(null, user.id));
passport.deserializeUser((id, done) => done(null, users.find((u) => u.id === id) || false));
passport.use(new LocalStrategy((username, password, done) => {
  const user = users.find((u) => u.username === username);
  done(null, user && user.password === password ? user : false);
}));

const tf = twoFactor({
  issuer: 'Koa 2 consumer',
  loginPath: '/',
  logoutPath: '/logout',
  logoutMethod: 'GET',
  encryptionKeys: process.env.TWO_FACTOR_KEYS,
  afterVerifyPath: '/app',
  getAccountName: (user) => user.username,
  logger: (message) => console.error(message),
});

const app = new Koa();
app.keys = ['koa2-consumer-cookie-key'];
app.use(twoFactorErrors());
app.use(bodyParser());
app.use(session({}, app));
app.use(passport.initialize());
app.use(passport.session());
app.use(tf.gate);
app.use(tf.routes);

const router = new Router();
router.get('/', (ctx) => {
  ctx.type = 'html';
  ctx.body = '<form method="post" action="/login"><input name="username"><input name="password" type="password"><button>Log in</button></form>';
});
router.post('/login', passport.authenticate('local', { successRedirect: '/app', failureRedirect: '/' }));
router.get('/logout', (ctx) => {
  ctx.logout();
  ctx.redirect('/');
});
router.get('/app', (ctx) => {
  if (!ctx.isAuthenticated()) return ctx.redirect('/');
  ctx.body = { user: ctx.state.user.username };
});
app.use(router.routes()).use(router.allowedMethods());

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
