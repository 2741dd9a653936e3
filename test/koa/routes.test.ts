/**
 * What the default routes promise beyond the happy path: CSRF, no caching,
 * secrets shown once, clear errors for stale or foreign enrolments.
 */
import { expect } from 'chai';
import { codeAt, enrol, startExample, type RunningExample } from '../support/example-server.ts';

describe('koa routes', () => {
  let ex: RunningExample;
  const logs: string[] = [];
  const realLog = console.log;

  before(async () => {
    ex = await startExample();
    console.log = (...args: unknown[]) => { logs.push(args.join(' ')); };
  });
  after(async () => {
    console.log = realLog;
    await ex.stop();
  });

  it('answers every 2FA route with Cache-Control: no-store', async () => {
    const c = await ex.login('bob');
    for (const res of [await c.get('/2fa'), await c.post('/2fa/setup', { json: {} }), await c.get('/2fa/verify', { accept: 'html' })]) {
      expect(res.headers.get('cache-control')).to.equal('no-store');
    }
  });

  it('refuses a form post without the CSRF token, and a cross-site JSON post', async () => {
    const c = await ex.login('bob');
    const form = await c.post('/2fa/verify', { form: { code: '123456' } });
    expect(form.status).to.equal(403);
    const cross = await c.post('/2fa/setup', { json: {}, headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(cross.status).to.equal(403);
    expect(cross.body.error).to.equal('csrf_failed');
    const originOnly = await c.post('/2fa/setup', { json: {}, headers: { origin: 'http://evil.example' } });
    expect(originOnly.status).to.equal(403);
    const sameOrigin = await c.post('/2fa/setup', { json: {}, headers: { origin: ex.url } });
    expect(sameOrigin.status).to.equal(201);
    const token = (await c.get('/2fa')).body.csrfToken;
    const withToken = await c.post('/2fa/setup', { form: { _csrf: token, name: 'Laptop' } });
    expect(withToken.status).to.equal(201);
    expect(withToken.text).to.include('Set up two-factor authentication');
  });

  it('asks for a login before anything else', async () => {
    const res = await ex.client().get('/2fa');
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('unauthenticated');
  });

  it('never shows or logs a secret after it is confirmed', async () => {
    const c = await ex.login('admin');
    logs.length = 0;
    const { secret } = await enrol(c);
    const later = [await c.get('/2fa'), await c.get('/2fa/verify', { accept: 'html' }), await c.get('/dashboard')];
    for (const res of later) expect(res.text).not.to.include(secret);
    expect(JSON.stringify(ex.audit)).not.to.include(secret);
    expect(logs.join('\n')).not.to.include(secret);
  });

  it('answers an unknown or foreign enrolment id with invalid_input', async () => {
    const alice = await ex.login('alice');
    const bob = await ex.login('bob');
    const mine = await alice.post('/2fa/setup', { json: {} });
    const foreign = await bob.post('/2fa/setup/confirm', { json: { enrolmentId: mine.body.enrolmentId, code: codeAt(mine.body.secret) } });
    expect(foreign.status).to.equal(400);
    expect(foreign.body.error).to.equal('invalid_input');
    const unknown = await bob.post('/2fa/setup/confirm', { json: { enrolmentId: 'nope', code: '123456' } });
    expect(unknown.status).to.equal(400);
  });

  it('lets an expired enrolment go', async () => {
    const short = await startExample({ twoFactor: { enrolmentTtlMs: 200 } });
    try {
      const c = await short.login('alice');
      const s = await c.post('/2fa/setup', { json: {} });
      await new Promise((r) => setTimeout(r, 300));
      const late = await c.post('/2fa/setup/confirm', { json: { enrolmentId: s.body.enrolmentId, code: codeAt(s.body.secret) } });
      expect(late.status).to.equal(400);
      expect((await c.get('/2fa')).body.state).to.equal('none');
    } finally {
      await short.stop();
    }
  });

  it('does not let a password-only session link another authenticator', async () => {
    const first = await ex.login('alice');
    await enrol(first);
    const passwordOnly = await ex.login('alice');
    const res = await passwordOnly.post('/2fa/setup', { json: {} });
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('second_factor_required');
  });

  it('binds the verified state to the user: logging in as another user in a verified session is not verified', async () => {
    const c = await ex.login('bob');
    await enrol(c);
    expect((await c.get('/dashboard')).status).to.equal(200);
    // admin has active 2FA (linked above); the same browser session switches to admin.
    const switched = await c.post('/login', { json: { username: 'admin', password: 'admin-password' } });
    expect(switched.status).to.equal(200);
    const res = await c.get('/dashboard');
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('second_factor_required');
  });
});
