/**
 * Cross-site requests against `requireStepUp` in an app that has no body
 * parser of its own (or mounts it after the privileged route): the package
 * reads a form's `_csrf` field itself, so the app's own form works and a
 * forged one is refused; a request carrying the token in `x-csrf-token`
 * leaves the body to the app (a body the package cannot parse is not its
 * business then). And HEAD, like GET, never needs a token on the 2FA routes.
 */
import { expect } from 'chai';
import type { HttpClient } from '../support/http-client.ts';
import { enrolOver, startMiniApp, type MiniApp } from '../support/mini-app.ts';

describe('security: requireStepUp reads the CSRF form field itself (apps without a body parser)', () => {
  let app: MiniApp;
  let alice: HttpClient;
  /** alice's CSRF token, as the app would put it in its own form. */
  let token: string;

  before(async () => {
    app = await startMiniApp({
      routes(router, tf) {
        router.get('/action/token', (ctx) => { ctx.body = { token: tf.csrfToken(ctx) }; });
        router.post('/action', tf.requireStepUp(), (ctx) => { ctx.body = { ran: true }; });
      },
    });
    alice = await app.login('alice');
    await enrolOver(alice);
    token = (await alice.get('/action/token')).body.token;
    expect(token).to.be.a('string').with.length.above(20);
  });
  after(async () => {
    await app?.stop();
  });

  it('the app\'s own form (field _csrf, no body parser in the app) runs the action', async () => {
    const res = await alice.post('/action', { form: { _csrf: token }, accept: 'json' });
    expect(res.status, res.text).to.equal(200);
    expect(res.body.ran).to.equal(true);
  });

  it('a forged form (no _csrf, a wrong one, or an empty one) is refused with csrf_failed', async () => {
    for (const form of [{}, { _csrf: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}` }, { _csrf: '' }, { _csrf: 'x' }]) {
      const res = await alice.post('/action', { form, accept: 'json' });
      expect(res.status, JSON.stringify(form)).to.equal(403);
      expect(res.body.error, JSON.stringify(form)).to.equal('csrf_failed');
      expect(res.body.ran).to.equal(undefined);
    }
  });

  it('with the token in x-csrf-token the body is the app\'s: one the package could not parse still reaches the action', async () => {
    const res = await fetch(`${app.url}/action`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': token,
        cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: '{"not json',
    });
    expect(res.status, await res.clone().text()).to.equal(200);
    expect(((await res.json()) as { ran?: boolean }).ran).to.equal(true);
  });
});

describe('security: HEAD, like GET, reads a 2FA page without a CSRF token', () => {
  let app: MiniApp;
  before(async () => { app = await startMiniApp(); });
  after(async () => { await app?.stop(); });

  it('HEAD /2fa/setup and HEAD /2fa succeed with no token, while a POST without one is refused', async () => {
    const bob = await app.login('bob');
    for (const path of ['/2fa/setup', '/2fa']) {
      const get = await bob.get(path, { accept: 'html' });
      expect(get.status, `GET ${path}`).to.be.within(200, 299);
      const head = await bob.request('HEAD', path, { accept: 'html' });
      expect(head.status, `HEAD ${path}`).to.be.within(200, 299);
    }
    const post = await bob.post('/2fa/setup', { form: { name: 'Phone' }, accept: 'json' });
    expect(post.status).to.equal(403);
    expect(post.body.error).to.equal('csrf_failed');
  });
});
