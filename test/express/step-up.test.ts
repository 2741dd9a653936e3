/**
 * `tf.requireStepUp()` in front of an Express app's privileged action
 * (Express 5 and 4): without 2FA a browser is offered "Activate now / later"
 * (403); with 2FA passed too long ago (`maxAge`) it is sent to the step-up
 * page and back; a form posted without the page's token never reaches the
 * action, nor does a cross-site JSON request.
 */
import { expect } from 'chai';
import { currentCode, enrolOverJson, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpClient } from '../support/http-client.ts';

const SUDO_MAX_AGE_MS = 300;

function csrfOf(html: string): string {
  return /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
}

for (const major of [5, 4] as const) {
  describe(`Express ${major} adapter: requireStepUp`, () => {
    let app: CarelessExpressApp;
    let secret: string;
    let backupCodes: string[];
    let verified: HttpClient;

    before(async () => {
      app = await startCarelessExpressApp({ express: major, sudoMaxAgeMs: SUDO_MAX_AGE_MS });
      verified = await app.login();
      ({ secret, backupCodes } = await enrolOverJson(verified));
    });
    after(() => app.stop());
    afterEach(() => expect(app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

    it('a browser without 2FA gets the "Activate now / later" page (403); a JSON client two_factor_setup_required', async () => {
      const other = await startCarelessExpressApp({ express: major });
      try {
        const client = await other.login();
        const page = await client.get('/remote/take-control', { accept: 'html', headers: { referer: `${other.url}/app` } });
        expect(page.status).to.equal(403);
        expect(page.headers.get('content-type')).to.match(/^text\/html/);
        expect(page.text).to.include('Activate now').and.include('Activate later');
        expect(page.text).to.include('Taking control of a remote session needs two-factor authentication.');
        expect(page.text).to.include('href="/2fa/setup?returnTo=%2Fremote%2Ftake-control"');
        expect(page.text).to.include('href="/app"');
        const json = await client.get('/remote/take-control');
        expect(json.status).to.equal(403);
        expect(json.body.error).to.equal('two_factor_setup_required');
        // A form post does not reach the action either.
        const token = csrfOf((await client.get('/2fa/verify', { accept: 'html' })).text);
        const post = await client.post('/remote/take-control', { form: { _csrf: token } });
        expect(post.status).to.equal(403);
        expect(post.text).to.include('Activate now');
      } finally {
        await other.stop();
      }
    });

    it('nobody logged in: a browser is sent to the login page, a JSON client 401', async () => {
      const anonymous = app.client();
      const page = await anonymous.get('/remote/take-control', { accept: 'html' });
      expect(page.status).to.equal(302);
      expect(page.headers.get('location')).to.equal('/login');
      const json = await anonymous.get('/remote/take-control');
      expect(json.status).to.equal(401);
      expect(json.body.error).to.equal('unauthenticated');
    });

    it('a verified session reaches the form page and its form (with the token) reaches the action', async () => {
      const page = await verified.get('/remote/take-control', { accept: 'html' });
      expect(page.status).to.equal(200);
      const res = await verified.post('/remote/take-control', { form: { _csrf: csrfOf(page.text), target: 'pc-7' }, accept: 'json' });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ started: true, target: 'pc-7' });
    });

    it('a form posted without the token, or with a wrong one, is 403 and never reaches the action', async () => {
      for (const form of [{ target: 'pc-7' }, { target: 'pc-7', _csrf: 'wrong' }]) {
        const page = await verified.post('/remote/take-control', { form });
        expect(page.status).to.equal(403);
        expect(page.text).to.not.include('started');
        const json = await verified.post('/remote/take-control', { form, accept: 'json' });
        expect(json.status).to.equal(403);
        expect(json.body.error).to.equal('csrf_failed');
      }
    });

    it('a same-origin JSON request reaches the action; a cross-site one does not', async () => {
      const same = await verified.post('/remote/take-control', { json: { target: 'pc-8' }, headers: { origin: app.url } });
      expect(same.status, same.text).to.equal(200);
      for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { origin: 'https://evil.example' }]) {
        const res = await verified.post('/remote/take-control', { json: { target: 'pc-8' }, headers });
        expect(res.status, JSON.stringify(headers)).to.equal(403);
        expect(res.body.error).to.equal('csrf_failed');
      }
    });

    it('2FA passed longer ago than maxAge: a browser is sent to /2fa/step-up?returnTo=…, and back after a code', async () => {
      const client = await app.login();
      expect((await client.post('/2fa/verify', { json: { code: backupCodes.pop()! } })).status).to.equal(200);
      await new Promise((resolve) => setTimeout(resolve, SUDO_MAX_AGE_MS + 50));

      const page = await client.get('/remote/sudo?x=1', { accept: 'html' });
      expect(page.status).to.equal(302);
      expect(page.headers.get('location')).to.equal('/2fa/step-up?returnTo=%2Fremote%2Fsudo%3Fx%3D1');
      const json = await client.get('/remote/sudo');
      expect(json.status).to.equal(403);
      expect(json.body.error).to.equal('step_up_required');
      expect(json.body.stepUpUrl).to.equal('/2fa/step-up?returnTo=%2Fremote%2Fsudo');
      // A form post is sent to step up and back to the page it was posted from (303).
      const stepUpPage = await client.get('/2fa/step-up?returnTo=%2Fremote%2Fsudo', { accept: 'html' });
      const token = csrfOf(stepUpPage.text);
      const post = await client.post('/remote/sudo', { form: { _csrf: token }, headers: { referer: `${app.url}/remote/take-control` } });
      expect(post.status).to.equal(303);
      expect(post.headers.get('location')).to.equal('/2fa/step-up?returnTo=%2Fremote%2Ftake-control');

      const stepped = await client.post('/2fa/step-up', { form: { _csrf: token, code: await currentCode(secret), returnTo: '/remote/sudo' } });
      expect(stepped.status, stepped.text).to.equal(303);
      expect(stepped.headers.get('location')).to.equal('/remote/sudo');
      expect((await client.get('/remote/sudo', { accept: 'html' })).status).to.equal(200);
    });

    it('a password-only session of a user with 2FA is stopped by the gate before the action', async () => {
      const half = await app.login();
      const page = await half.get('/remote/take-control', { accept: 'html' });
      expect(page.status).to.equal(303);
      expect(page.headers.get('location')).to.equal('/2fa/verify?returnTo=%2Fremote%2Ftake-control');
    });
  });
}
