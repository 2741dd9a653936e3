// An Express 5 app (ES modules) with koa-two-factor added.
import express from 'express';
import session from 'express-session';
import passport from 'passport';
import { Strategy as LocalStrategy } from 'passport-local';
import { twoFactor, twoFactorErrors } from 'koa-two-factor/express';

const users = new Map([[7, { id: 7, username: 'alice', password: 'alice-password' }]]);

passport.serializeUser((user, done) => done(null, user.id));
passport.deserializeUser((id, done) => done(null, users.get(id) ?? false));
passport.use(new LocalStrategy((username, password, done) => {
  const user = [...users.values()].find((u) => u.username === username);
  done(null, user && user.password === password ? user : false);
}));

const tf = twoFactor({
  issuer: 'Express 5 consumer',
  encryptionKeys: process.env.TWO_FACTOR_KEYS,
  afterVerifyPath: '/dashboard',
  getAccountName: (user) => user.username,
  logger: (message) => console.error(message),
});

const app = express();
app.use(express.json());
app.use(express.urlencoded());
app.use(session({ name: 'sid', secret: 'express5-consumer-secret', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' } }));
app.use(passport.session());
app.use(tf.gate);
app.use(tf.router);

app.post('/login', passport.authenticate('local', { successRedirect: '/dashboard', failureRedirect: '/login' }));
app.post('/logout', (req, res, next) => {
  req.logout((err) => (err ? next(err) : req.session.regenerate(() => res.redirect('/login'))));
});
app.get('/dashboard', (req, res) => {
  if (!req.isAuthenticated()) return res.redirect('/login');
  res.json({ user: req.user.username });
});
app.use(twoFactorErrors());

const server = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
