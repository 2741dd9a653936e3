'use strict';
// An existing Express 4 app with koa-two-factor added.
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const LocalStrategy = require('passport-local').Strategy;
const { twoFactor, twoFactorErrors } = require('koa-two-factor/express');

const users = [{ _id: '507f1f77bcf86cd799439011', username: 'alice', password: 'alice-password' }];

passport.serializeUser((user, done) => done(null, user._id));
passport.deserializeUser((id, done) => done(null, users.find((u) => u._id === id) || false));
passport.use(new LocalStrategy((username, password, done) => {
  const user = users.find((u) => u.username === username);
  done(null, user && user.password === password ? user : false);
}));

const tf = twoFactor({
  issuer: 'Express 4 consumer',
  logoutMethod: 'POST',
  encryptionKeys: process.env.TWO_FACTOR_KEYS,
  afterVerifyPath: '/profile',
  getAccountName: (user) => user.username,
  logger: (message) => console.error(message),
});

const app = express();
app.set('trust proxy', 1);
app.use(express.urlencoded({ extended: false }));
app.use(session({ secret: 'express4-consumer-secret', resave: false, saveUninitialized: false }));
app.use(passport.session());
app.use(tf.gate);
app.use(tf.router);

app.post('/login', passport.authenticate('local', { successRedirect: '/profile', failureRedirect: '/login' }));
app.post('/logout', (req, res, next) => {
  req.logout((err) => (err ? next(err) : res.redirect('/login')));
});
app.get('/profile', (req, res) => {
  if (!req.isAuthenticated()) return res.redirect('/login');
  res.json({ user: req.user.username });
});
app.use(twoFactorErrors());

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
