/**
 * Integration mistakes the package cannot fix are said once in the log, not
 * hidden: a session middleware that cannot rotate the session id (koa-session
 * 5), and a gate mounted before `passport.session()` (it then sees every
 * request as logged out).
 */
import { expect } from 'chai';
import Koa from 'koa';
import session from 'koa-session';
import passport from 'koa-passport';
import { twoFactor } from '../../src/index.ts';
import { HttpClient } from '../support/http-client.ts';
import { listenOnLoopback } from '../support/listen.ts';
import { enrolOver, startMiniApp } from '../support/mini-app.ts';

describe('integration warnings, once each', () => {
  it('a session middleware without regenerate() (koa-session 5): the second factor still works, and the log says the id is not rotated, once', async () => {
    const app = await startMiniApp({ session: 'koa-session5' });
    try {
      for (const name of ['erin', 'frank']) {
        const c = await app.login(name);
        await enrolOver(c);
        const status = await c.get('/2fa');
        expect(status.body.session.verified, `${name} verified`).to.equal(true);
      }
      const warnings = app.logs.filter((l) => l.includes('no regenerate()'));
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include('session fixation');
    } finally {
      await app.stop();
    }
  });

  it('koa-session 7 rotates and says nothing about it', async () => {
    const app = await startMiniApp();
    try {
      await enrolOver(await app.login('gina'));
      expect(app.logs.filter((l) => l.includes('regenerate'))).to.deep.equal([]);
    } finally {
      await app.stop();
    }
  });

  it('a gate mounted before passport.session() is named in the log once', async () => {
    const logs: string[] = [];
    const tf = twoFactor({ logger: (l) => logs.push(l) });
    const users = new Map([['7', { id: '7', username: 'hank' }]]);
    const auth = new passport.KoaPassport();
    auth.serializeUser((user: any, done) => done(null, (user as { id: string }).id));
    auth.deserializeUser((id: string, done) => done(null, users.get(id) ?? false));
    const app = new Koa();
    app.keys = ['warnings-test'];
    app.use(session({ key: 'w.sess' }, app));
    app.use(auth.initialize());
    app.use(async (ctx, next) => {
      if (ctx.path === '/login') {
        await ctx.login(users.get('7')!);
        ctx.body = { ok: true };
        return;
      }
      await next();
    });
    app.use(tf.gate); // the mistake: before passport.session()
    app.use(auth.session());
    app.use((ctx) => { ctx.body = { user: ctx.state.user ?? null }; });
    const { server, url } = await listenOnLoopback(app);
    try {
      const c = new HttpClient(url);
      expect((await c.post('/login', { json: {} })).status).to.equal(200);
      for (let i = 0; i < 3; i++) expect((await c.get('/page')).status).to.equal(200);
      const warnings = logs.filter((l) => l.includes('Mount tf.gate after passport.session()'));
      expect(warnings).to.have.length(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
