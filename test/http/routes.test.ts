/**
 * What the default routes promise beyond the happy path: CSRF, no caching,
 * secrets shown once, clear errors for stale or foreign enrolments.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, describeEachExampleApp, enrol, startExample, type RunningExample } from '../support/example-server.ts';

describeEachExampleApp('2FA routes', (kind) => {
  let ex: RunningExample;
  const logs: string[] = [];
  const realLog = console.log;

  before(async () => {
    ex = await startExample({}, kind);
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

  describe('CSRF on the 2FA routes: only this session\'s own token counts', () => {
    // Its own app: the tests of the enclosing describe (which run first) link bob's and alice's authenticators.
    let app: RunningExample;
    before(async () => { app = await startExample({}, kind); });
    after(async () => { await app?.stop(); });
    /** A same-length token that is not the session's (one character changed). */
    const tweak = (token: string) => `${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`;

    it('refuses a wrong token and another session\'s token in the x-csrf-token header: 403 csrf_failed', async () => {
      const c = await app.login('bob');
      const own = (await c.get('/2fa')).body.csrfToken as string;
      const otherSession = (await (await app.login('bob')).get('/2fa')).body.csrfToken as string;
      const otherUser = (await (await app.login('alice')).get('/2fa')).body.csrfToken as string;
      expect(otherSession).to.be.a('string').and.not.equal(own);
      const tokens = [['wrong, same length', tweak(own)], ['wrong, short', 'x'], ["another session's of the same user", otherSession], ["another user's", otherUser]] as const;
      for (const [label, token] of tokens) {
        for (const [method, path] of [['POST', '/2fa/setup'], ['POST', '/2fa/verify'], ['POST', '/2fa/disable'], ['DELETE', '/2fa/devices/some-id']] as const) {
          const res = await c.request(method, path, { json: { name: 'Laptop', code: '123456' }, headers: { 'x-csrf-token': token } });
          expect(res.status, `${method} ${path}, ${label}: ${res.text}`).to.equal(403);
          expect(res.body.error, `${method} ${path}, ${label}`).to.equal('csrf_failed');
        }
      }
      // The session's own token passes the same request.
      const ok = await c.post('/2fa/setup', { json: { name: 'Laptop' }, headers: { 'x-csrf-token': own } });
      expect(ok.status, ok.text).to.equal(201);
    });

    it('refuses a wrong token and another session\'s token in the _csrf form field: 403 csrf_failed', async () => {
      const c = await app.login('bob');
      const own = (await c.get('/2fa')).body.csrfToken as string;
      const otherSession = (await (await app.login('bob')).get('/2fa')).body.csrfToken as string;
      const otherUser = (await (await app.login('alice')).get('/2fa')).body.csrfToken as string;
      const tokens = [['wrong, same length', tweak(own)], ['wrong, short', 'x'], ["another session's of the same user", otherSession], ["another user's", otherUser]] as const;
      for (const [label, token] of tokens) {
        for (const path of ['/2fa/setup', '/2fa/verify', '/2fa/disable', '/2fa/backup-codes']) {
          const json = await c.post(path, { form: { _csrf: token, name: 'Laptop', code: '123456' }, accept: 'json' });
          expect(json.status, `${path}, ${label}: ${json.text}`).to.equal(403);
          expect(json.body.error, `${path}, ${label}`).to.equal('csrf_failed');
          const page = await c.post(path, { form: { _csrf: token, name: 'Laptop', code: '123456' } });
          expect(page.status, `${path} (page), ${label}`).to.equal(403);
          expect(page.text, `${path} (page), ${label}`).not.to.include('Set up two-factor authentication');
        }
      }
      const ok = await c.post('/2fa/setup', { form: { _csrf: own, name: 'Laptop' } });
      expect(ok.status, ok.text).to.equal(201);
    });

    it('refuses a JSON post labelled cross-site or same-site by Sec-Fetch-Site, even without an Origin header', async () => {
      const c = await app.login('bob');
      for (const site of ['cross-site', 'same-site']) {
        for (const path of ['/2fa/setup', '/2fa/verify']) {
          const res = await c.post(path, { json: { name: 'Laptop', code: '123456' }, headers: { 'sec-fetch-site': site } });
          expect(res.status, `${path}, ${site}: ${res.text}`).to.equal(403);
          expect(res.body.error, `${path}, ${site}`).to.equal('csrf_failed');
        }
      }
      // What a browser sends for this site's own page, or a request typed in (none): let through.
      for (const site of ['same-origin', 'none']) {
        const res = await c.post('/2fa/setup', { json: { name: 'Laptop' }, headers: { 'sec-fetch-site': site } });
        expect(res.status, `${site}: ${res.text}`).to.equal(201);
      }
    });
  });

  describe('the gate: only paths under the prefix are 2FA routes', () => {
    let own: RunningExample;
    before(async () => { own = await startExample({}, kind); });
    after(async () => { await own?.stop(); });

    it('holds a password-only session of a 2FA user on /2faX, /2fa-admin and /2fa.json (JSON 401, a browser to verify)', async () => {
      await enrol(await own.login('alice'));
      const half = await own.login('alice');
      for (const path of ['/2faX', '/2fa-admin', '/2fa-admin/users', '/2fa.json', '/2fax/verify']) {
        const json = await half.get(path);
        expect(json.status, `${path}: ${json.text}`).to.equal(401);
        expect(json.body).to.include({ error: 'second_factor_required', verifyUrl: '/2fa/verify' });
        const page = await half.get(path, { accept: 'html' });
        expect(page.status, path).to.equal(303);
        expect(page.headers.get('location'), path).to.equal(`/2fa/verify?returnTo=${encodeURIComponent(path)}`);
      }
      // The prefix itself and what is under it are the 2FA routes: reachable.
      expect((await half.get('/2fa')).status).to.equal(200);
      expect((await half.get('/2fa/verify')).status).to.equal(200);
    });
  });

  describe('publicPaths: a string is one exact path, not a prefix', () => {
    let pub: RunningExample;
    before(async () => { pub = await startExample({ twoFactor: { publicPaths: ['/public', /^\/open\/[a-z]+$/] } }, kind); });
    after(async () => { await pub?.stop(); });

    it('lets a password-only session of a 2FA user reach /public only, never /public/secret, /publicity or /public/', async () => {
      await enrol(await pub.login('alice'));
      const half = await pub.login('alice');
      // Let through to the app (which has no such page: 404, not the gate's 401).
      for (const path of ['/public', '/public?x=1', '/open/door']) {
        const res = await half.get(path);
        expect(res.status, `${path}: ${res.text}`).to.equal(404);
      }
      for (const path of ['/public/secret', '/publicity', '/public/', '/public.json', '/open/door/2']) {
        const res = await half.get(path);
        expect(res.status, `${path}: ${res.text}`).to.equal(401);
        expect(res.body.error, path).to.equal('second_factor_required');
      }
      expect((await half.get('/dashboard')).status).to.equal(401);
    });
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
    const foreign = await bob.post('/2fa/setup/confirm', { json: { enrolmentId: mine.body.enrolmentId, code: await codeWithTimeLeft(mine.body.secret) } });
    expect(foreign.status).to.equal(400);
    expect(foreign.body.error).to.equal('invalid_input');
    const unknown = await bob.post('/2fa/setup/confirm', { json: { enrolmentId: 'nope', code: '123456' } });
    expect(unknown.status).to.equal(400);
  });

  it('lets an expired enrolment go', async () => {
    const short = await startExample({ twoFactor: { enrolmentTtlMs: 200 } }, kind);
    try {
      const c = await short.login('alice');
      const s = await c.post('/2fa/setup', { json: {} });
      await new Promise((r) => setTimeout(r, 300));
      const late = await c.post('/2fa/setup/confirm', { json: { enrolmentId: s.body.enrolmentId, code: await codeWithTimeLeft(s.body.secret) } });
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
