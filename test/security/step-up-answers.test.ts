/**
 * What `requireStepUp` answers in front of a privileged route: a refusal is
 * never cached by a browser or a proxy (a shared cache must not hand one
 * user's answer to another), a logged-out client is sent to the login page,
 * the "Activate now / later" page says why, and the CSRF check is off only
 * where the app turned it off itself.
 */
import { expect } from 'chai';
import { startMiniApp, type MiniApp } from '../support/mini-app.ts';

describe('security: requireStepUp\'s answers', () => {
  let app: MiniApp;
  before(async () => {
    app = await startMiniApp({
      bodyParser: true,
      routes(router, tf) {
        router.post('/action', tf.requireStepUp(), (ctx) => { ctx.body = { ran: true }; });
        router.get('/action', tf.requireStepUp(), (ctx) => { ctx.body = { ran: true }; });
        router.post('/own-csrf', tf.requireStepUp({ csrf: false }), (ctx) => { ctx.body = { ran: true }; });
      },
    });
  });
  after(async () => {
    await app?.stop();
  });

  it('refusals are marked no-store (JSON and pages)', async () => {
    const alice = await app.login('alice');
    const json = await alice.post('/action', { json: {} });
    expect(json.status).to.equal(403);
    expect(json.headers.get('cache-control')).to.equal('no-store');
    const page = await alice.get('/action', { accept: 'html' });
    expect(page.status).to.equal(403);
    expect(page.headers.get('cache-control')).to.equal('no-store');
  });

  it('the "Activate now / later" page gives the default reason when the route gives none', async () => {
    const bob = await app.login('bob');
    const page = await bob.get('/action', { accept: 'html' });
    expect(page.status).to.equal(403);
    expect(page.text).to.include('This action needs two-factor authentication.');
  });

  it('a logged-out client gets 401 unauthenticated with the login URL (JSON) or a redirect to it (browser)', async () => {
    const json = await fetch(`${app.url}/action`, { headers: { accept: 'application/json' } });
    expect(json.status).to.equal(401);
    expect(await json.json()).to.deep.include({ error: 'unauthenticated', loginUrl: '/login' });
    const page = await fetch(`${app.url}/action`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).to.equal(302);
    expect(page.headers.get('location')).to.equal('/login');
  });

  it('csrf: false leaves CSRF to the app (a token-less form reaches the next check); the default refuses it', async () => {
    const carol = await app.login('carol');
    const own = await carol.post('/own-csrf', { form: { a: '1' }, accept: 'json' });
    expect(own.status).to.equal(403);
    expect(own.body.error, 'refused for the missing 2FA, not for CSRF').to.equal('two_factor_setup_required');
    const guarded = await carol.post('/action', { form: { a: '1' }, accept: 'json' });
    expect(guarded.status).to.equal(403);
    expect(guarded.body.error).to.equal('csrf_failed');
  });
});
