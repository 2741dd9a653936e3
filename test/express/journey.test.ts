/**
 * The whole journey through the Express adapter, in an app written the way
 * Express + Passport apps are (test/support/careless-express-app.ts), on
 * Express 5 and Express 4: password login, the gate (a browser is sent to
 * the verify page, a JSON client gets 401), linking an authenticator (the
 * session id rotates, the passport login stays), the second factor, replay,
 * and CSRF on the 2FA routes.
 */
import { expect } from 'chai';
import { copyOf, currentCode, enrolOverJson, SESSION_COOKIE, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import { codeWithTimeLeft } from '../support/clock.ts';

for (const major of [5, 4] as const) {
  describe(`Express ${major} adapter: the login journey`, function () {
    let app: CarelessExpressApp;
    let secret: string;
    let backupCodes: string[];

    before(async () => {
      app = await startCarelessExpressApp({ express: major });
      ({ secret, backupCodes } = await enrolOverJson(await app.login()));
    });
    after(() => app.stop());
    afterEach(() => expect(app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

    it('linking the first authenticator rotates the session id and keeps the passport login', async () => {
      const fresh = await startCarelessExpressApp({ express: major });
      try {
        const client = await fresh.login();
        const before = client.cookie(SESSION_COOKIE);
        const setup = await client.post('/2fa/setup', { json: { name: 'Phone' } });
        expect(setup.status).to.equal(201);
        const confirm = await client.post('/2fa/setup/confirm', {
          json: { enrolmentId: setup.body.enrolmentId, code: await codeWithTimeLeft(setup.body.secret, 0) },
        });
        expect(confirm.status, confirm.text).to.equal(200);
        expect(confirm.body.state).to.equal('active');
        expect(confirm.body.backupCodes).to.have.length.greaterThan(0);
        expect(client.cookie(SESSION_COOKIE)).to.be.a('string').and.not.equal(before);
        const home = await client.get('/app');
        expect(home.status, home.text).to.equal(200);
        expect(home.body).to.deep.equal({ secret: 'the app', user: 'carol' });
        const status = await client.get('/2fa');
        expect(status.body.session.verified).to.equal(true);
        expect(status.body.state).to.equal('active');
      } finally {
        await fresh.stop();
      }
    });

    it('the gate sends a browser to /2fa/verify (303, returnTo) and answers a JSON client 401 second_factor_required', async () => {
      const half = await app.login();
      const page = await half.get('/app?tab=1', { accept: 'html' });
      expect(page.status).to.equal(303);
      expect(page.headers.get('location')).to.equal('/2fa/verify?returnTo=%2Fapp%3Ftab%3D1');
      const api = await half.get('/app');
      expect(api.status).to.equal(401);
      expect(api.body.error).to.equal('second_factor_required');
      expect(api.body.verifyUrl).to.equal('/2fa/verify');
      // The verify page itself is reachable, with a CSRF token in its form.
      const verifyPage = await half.get('/2fa/verify?returnTo=%2Fapp', { accept: 'html' });
      expect(verifyPage.status).to.equal(200);
      expect(verifyPage.text).to.match(/name="_csrf" value="[^"]+"/);
    });

    it('a right code opens the app; the same code is refused for another login (replay)', async () => {
      const half = await app.login();
      const code = await currentCode(secret);
      const ok = await half.post('/2fa/verify', { json: { code } });
      expect(ok.status, ok.text).to.equal(200);
      expect(ok.body).to.include({ verified: true, method: 'totp' });
      expect((await half.get('/app')).status).to.equal(200);

      const other = await app.login();
      const replay = await other.post('/2fa/verify', { json: { code } });
      expect(replay.status).to.equal(401);
      expect(replay.body.error).to.equal('invalid_code');
      expect((await other.get('/app')).status).to.equal(401);
    });

    it('a browser posting the verify form with its token is sent to returnTo (303) and is in', async () => {
      const half = await app.login();
      const form = await half.get('/2fa/verify?returnTo=%2Fapp', { accept: 'html' });
      const token = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
      const before = half.cookie(SESSION_COOKIE);
      const res = await half.post('/2fa/verify', { form: { _csrf: token, code: backupCodes.pop()!, returnTo: '/app' } });
      expect(res.status, res.text).to.equal(303);
      expect(res.headers.get('location')).to.equal('/app');
      expect(half.cookie(SESSION_COOKIE)).to.not.equal(before);
      expect((await half.get('/app')).status).to.equal(200);
    });

    describe('CSRF on the 2FA routes', () => {
      it('a form post without a token, or with a wrong one, is 403 csrf_failed', async () => {
        const half = await app.login();
        await half.get('/2fa/verify', { accept: 'html' });
        const code = await currentCode(secret);
        for (const form of [{ code }, { code, _csrf: 'not-the-token' }]) {
          const asBrowser = await half.post('/2fa/verify', { form });
          expect(asBrowser.status).to.equal(403);
          const asJson = await half.post('/2fa/verify', { form, accept: 'json' });
          expect(asJson.status).to.equal(403);
          expect(asJson.body.error).to.equal('csrf_failed');
        }
        // Nothing was checked: the session is still half logged in.
        expect((await half.get('/app')).status).to.equal(401);
      });

      it('a wrong x-csrf-token header is refused even on a JSON request', async () => {
        const half = await app.login();
        const res = await half.post('/2fa/verify', { json: { code: '000000' }, headers: { 'x-csrf-token': 'forged' } });
        expect(res.status).to.equal(403);
        expect(res.body.error).to.equal('csrf_failed');
      });

      it('a same-origin JSON request passes without a token (no Origin, or this server\'s Origin)', async () => {
        const half = await app.login();
        const noOrigin = await half.get('/2fa');
        expect(noOrigin.status).to.equal(200);
        const withOrigin = await half.post('/2fa/setup', { json: { name: 'Tablet' }, headers: { origin: app.url, 'sec-fetch-site': 'same-origin' } });
        // Past CSRF: the route itself answers (a half-logged-in user must verify first).
        expect(withOrigin.status).to.equal(401);
        expect(withOrigin.body.error).to.equal('second_factor_required');
      });

      it('a cross-site JSON request is refused: Sec-Fetch-Site cross-site, or a foreign Origin', async () => {
        const half = await app.login();
        const verified = copyOf(half);
        expect((await verified.post('/2fa/verify', { json: { code: backupCodes.pop()! } })).status).to.equal(200);
        for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }]) {
          const res = await verified.post('/2fa/setup', { json: { name: 'Attacker' }, headers });
          expect(res.status, JSON.stringify(headers)).to.equal(403);
          expect(res.body.error).to.equal('csrf_failed');
          const disable = await verified.post('/2fa/disable', { json: { code: '123456' }, headers });
          expect(disable.status).to.equal(403);
          expect(disable.body.error).to.equal('csrf_failed');
        }
      });
    });
  });
}
