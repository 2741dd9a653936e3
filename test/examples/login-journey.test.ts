/**
 * Issue #2's journey on the example app: login → setup → confirm → logout →
 * login → gate blocks /dashboard → verify → /dashboard opens, with the
 * session id rotated — on the in-memory stores and on a real Redis.
 */
import { expect } from 'chai';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { codeWithTimeLeft, describeEachExampleApp, enrol, startExample, type RunningExample } from '../support/example-server.ts';

const modes: ['memory' | 'redis'][] = [['memory'], ['redis']];

/** returnTo values that would send a browser to another host (each needs a right code of its own). */
const HOSTILE_RETURN_TO = [
  '//evil.example/',
  '/\\evil.example/',
  '\\\\evil.example/',
  '/\t/evil.example/',
  '/\n/evil.example/',
  'https://evil.example/',
  'http:evil.example',
  '/\\/evil.example/',
];

for (const [mode] of modes) {
  describeEachExampleApp(`login journey (${mode} stores)`, (kind) => {
    let redis: RedisProcess | undefined;
    let ex: RunningExample;
    /** alice's authenticator secret, linked by the first test. */
    let secret: string;

    before(async () => {
      if (mode === 'redis') redis = await startRedis();
      ex = await startExample({ redisUrl: redis?.url }, kind);
    });
    after(async () => {
      await ex?.stop();
      await redis?.stop();
    });

    it('links an authenticator, then requires it at the next login, rotating the session id', async () => {
      const c = await ex.login('alice');
      expect((await c.get('/dashboard')).status).to.equal(200);

      const setup = await c.post('/2fa/setup', { json: { name: 'Phone' } });
      expect(setup.status).to.equal(201);
      expect(setup.body.secret).to.match(/^[A-Z2-7]{32}$/);
      expect(setup.body.otpauthUri).to.match(/^otpauth:\/\/totp\//);
      expect(setup.body.qrSvg).to.match(/^<svg/);
      secret = setup.body.secret;

      // Not active before it is proven.
      expect((await c.get('/2fa')).body.state).to.equal('none');

      const confirm = await c.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code: await codeWithTimeLeft(secret, -1) } });
      expect(confirm.status).to.equal(200);
      expect(confirm.body.state).to.equal('active');
      expect(confirm.body.backupCodes).to.have.length(10);

      const status = await c.get('/2fa');
      expect(status.body).to.include({ state: 'active', backupCodesRemaining: 10 });
      expect(status.body.session.verified).to.equal(true);
      expect(status.text).not.to.include(secret);

      expect((await c.post('/logout', { json: {} })).status).to.equal(200);

      const again = await ex.login('alice');
      const blocked = await again.get('/dashboard');
      expect(blocked.status).to.equal(401);
      expect(blocked.body).to.include({ error: 'second_factor_required', verifyUrl: '/2fa/verify' });

      const sidBefore = again.cookie(ex.sessionCookie);
      expect(sidBefore).to.be.a('string');
      const verify = await again.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(verify.status).to.equal(200);
      expect(verify.body).to.include({ verified: true, method: 'totp', backupCodesRemaining: 10 });
      expect(again.cookie(ex.sessionCookie)).to.be.a('string').and.not.equal(sidBefore);

      const dash = await again.get('/dashboard');
      expect(dash.status).to.equal(200);
      expect(dash.body.user.username).to.equal('alice');
    });

    it('sends a browser to the verify page with returnTo, and back after the code', async () => {
      const c = ex.client();
      await c.post('/login', { form: { username: 'alice', password: 'alice-password' } });
      const blocked = await c.get('/dashboard', { accept: 'html' });
      expect(blocked.status).to.equal(303);
      expect(blocked.headers.get('location')).to.equal('/2fa/verify?returnTo=%2Fdashboard');

      const page = await c.get('/2fa/verify?returnTo=%2Fdashboard', { accept: 'html' });
      expect(page.status).to.equal(200);
      expect(page.text).to.include('autocomplete="one-time-code"');
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;

      const done = await c.post('/2fa/verify', { form: { _csrf: csrf, code: await codeWithTimeLeft(secret, 1), returnTo: '/dashboard' } });
      expect(done.status).to.equal(303);
      expect(done.headers.get('location')).to.equal('/dashboard');
      expect((await c.get('/dashboard', { accept: 'html' })).text).to.include('Signed in as');
    });

    it('never sends a browser to another host after verifying: a right code with a hostile returnTo lands on afterVerifyPath', async () => {
      // bob, so alice's codes stay hers; a backup code per try (each a right code).
      const { secret: bobSecret, backupCodes } = await enrol(await ex.login('bob'));
      const rightCodes = [await codeWithTimeLeft(bobSecret, 0), ...backupCodes];
      for (const [i, hostile] of HOSTILE_RETURN_TO.entries()) {
        const c = await ex.login('bob');
        // A link to the verify page carrying it (URL-encoded), as a phishing mail would.
        const page = await c.get(`/2fa/verify?returnTo=${encodeURIComponent(hostile)}`, { accept: 'html' });
        expect(page.status).to.equal(200);
        expect(page.text, JSON.stringify(hostile)).not.to.include('evil.example');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
        // The form posted as a browser does, with the hostile value in the body and in the query.
        const res = await c.post(`/2fa/verify?returnTo=${encodeURIComponent(hostile)}`, {
          form: { _csrf: csrf, code: rightCodes[i]!, returnTo: hostile },
          headers: { origin: ex.url, 'sec-fetch-site': 'same-origin' },
        });
        expect(res.status, `${JSON.stringify(hostile)}: ${res.text}`).to.equal(303);
        expect(res.headers.get('location'), JSON.stringify(hostile)).to.equal('/');
        expect((await c.get('/dashboard')).status, JSON.stringify(hostile)).to.equal(200);
      }

      // A wrong code re-renders the page; the hostile returnTo is dropped there too.
      const c = await ex.login('bob');
      const csrf = (await c.get('/2fa')).body.csrfToken;
      const res = await c.post('/2fa/verify', { form: { _csrf: csrf, code: '000000', returnTo: '//evil.example/' } });
      expect(res.status).to.equal(401);
      expect(res.text).not.to.include('evil.example');
    });
  });
}

