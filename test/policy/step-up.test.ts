/**
 * Issue #5, step-up: `requireStepUp({ maxAge, reason })` in front of the
 * example's "take control" action. No 2FA → setup (then back here); a
 * password-only session never runs it; `maxAge` asks for a fresh code through
 * `/2fa/step-up`, which shares the replay state and the failure budget with
 * `/2fa/verify`; without `maxAge` any verified session is enough.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { csrfOf, hiddenOf, linkHref, loginAndEnrol, secretOf, sessionCsrf, wrongCode } from './helpers.ts';

const ACTION = '/remote/take-control';
/** maxAge of the action in the tests that use one: staleness comes from moving the clock past it, never from a slow machine. */
const MAX_AGE_MS = 60_000;
const ENCODED = encodeURIComponent(ACTION);

/** Asserts the privileged action ran (JSON). */
async function expectRuns(c: HttpClient): Promise<void> {
  const res = await c.post(ACTION, { json: {} });
  expect(res.status, res.text).to.equal(200);
  expect(res.body.started).to.equal(true);
  expect(res.body.session.id).to.be.a('string');
}

describeEachExampleApp('policy: requireStepUp on /remote/take-control', (kind) => {
  describe('without maxAge', () => {
    let ex: RunningExample;
    /** alice's browser-like session, verified when she linked her authenticator. */
    let alice: HttpClient;
    let aliceSecret: string;

    before(async () => { ex = await startExample({ twoFactor: { stateCacheMs: 0 } }, kind); });
    after(async () => {
      resetClock();
      await ex?.stop();
    });

    it('answers a user without 2FA with 403 two_factor_setup_required and a setup URL that comes back', async () => {
      alice = await ex.login('alice');
      const res = await alice.post(ACTION, { json: {} });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('two_factor_setup_required');
      expect(res.body.started).to.equal(undefined);
      // A POST without a Referer falls back to afterVerifyPath.
      expect(res.body.setupUrl).to.equal('/2fa/setup?returnTo=%2F');

      // From a page of this site, back to that page.
      const fromPage = await alice.post(ACTION, { json: {}, headers: { referer: `${ex.url}${ACTION}` } });
      expect(fromPage.status).to.equal(403);
      expect(fromPage.body.setupUrl).to.equal(`/2fa/setup?returnTo=${ENCODED}`);
      // Never another site's page.
      const foreign = await alice.post(ACTION, { json: {}, headers: { referer: 'http://evil.example/steal' } });
      expect(foreign.body.setupUrl).to.equal('/2fa/setup?returnTo=%2F');
    });

    it('shows a browser "Activate now" (setup, then back) and "Activate later", whatever the Referer', async () => {
      const page = await alice.get(ACTION, { accept: 'html' });
      expect(page.status).to.equal(403);
      expect(page.headers.get('content-type')).to.match(/text\/html/);
      expect(page.text).to.include('Taking control of a remote session needs two-factor authentication.');
      expect(linkHref(page.text, 'Activate now')).to.equal(`/2fa/setup?returnTo=${ENCODED}`);
      expect(linkHref(page.text, 'Activate later')).to.equal('/');

      const fromDashboard = await alice.get(ACTION, { accept: 'html', headers: { referer: `${ex.url}/dashboard` } });
      expect(fromDashboard.status).to.equal(403);
      expect(linkHref(fromDashboard.text, 'Activate later')).to.equal('/dashboard');

      // A broken, relative or foreign Referer is ignored, never a 500.
      for (const referer of ['not a url', '/relative', 'http://evil.example/x']) {
        const res = await alice.get(ACTION, { accept: 'html', headers: { referer } });
        expect(res.status, referer).to.equal(403);
        expect(linkHref(res.text, 'Activate later'), referer).to.equal('/');
      }

      const form = await alice.post(ACTION, { form: { _csrf: await sessionCsrf(alice) }, headers: { referer: `${ex.url}${ACTION}` } });
      expect(form.status).to.equal(403);
      expect(linkHref(form.text, 'Activate now')).to.equal(`/2fa/setup?returnTo=${ENCODED}`);
      expect(form.text).not.to.include('Remote session started');
    });

    it('after setup through the pages, Continue goes back to the action, which then runs', async () => {
      const setup = await alice.get(`/2fa/setup?returnTo=${ENCODED}`, { accept: 'html' });
      expect(setup.status).to.equal(200);
      expect(hiddenOf(setup.text, 'returnTo')).to.equal(ACTION);
      aliceSecret = secretOf(setup.text);

      const done = await alice.post('/2fa/setup/confirm', {
        form: {
          _csrf: csrfOf(setup.text),
          enrolmentId: hiddenOf(setup.text, 'enrolmentId')!,
          code: await codeWithTimeLeft(aliceSecret, -1),
          returnTo: ACTION,
        },
      });
      expect(done.status).to.equal(200);
      expect(done.text).to.include("You're good to go");
      expect(linkHref(done.text, 'Continue')).to.equal(ACTION);

      const page = await alice.get(ACTION, { accept: 'html' });
      expect(page.status).to.equal(200);
      await expectRuns(alice);
    });

    it('never runs the action for a password-only session of a user with 2FA: the gate asks for the code first', async () => {
      const half = await ex.login('alice');
      const json = await half.post(ACTION, { json: {} });
      expect(json.status).to.equal(401);
      expect(json.body).to.include({ error: 'second_factor_required', verifyUrl: '/2fa/verify' });
      expect(json.body.started).to.equal(undefined);

      const get = await half.get(ACTION, { accept: 'html' });
      expect(get.status).to.equal(303);
      expect(get.headers.get('location')).to.equal(`/2fa/verify?returnTo=${ENCODED}`);

      const form = await half.post(ACTION, { form: {} });
      expect(form.status).to.equal(303);
      expect(form.headers.get('location')).to.equal('/2fa/verify');
      expect(form.text).not.to.include('Remote session started');
    });

    it('without maxAge, a session verified long ago still runs the action', async () => {
      // Half a day later (the sessions live a day): longer than any default a maxAge could fall back to.
      advanceClock(12 * 3_600_000);
      await expectRuns(alice);
      const page = await alice.get(ACTION, { accept: 'html' });
      expect(page.status).to.equal(200);
      expect(aliceSecret).to.match(/^[A-Z2-7]{32}$/);
    });
  });

  describe('when the gate lets the path through (publicPaths)', () => {
    let ex: RunningExample;
    before(async () => { ex = await startExample({ twoFactor: { stateCacheMs: 0, publicPaths: [ACTION] } }, kind); });
    after(async () => { await ex?.stop(); });

    it('requireStepUp itself answers a password-only session with step_up_required', async () => {
      await loginAndEnrol(ex, 'bob');
      const half = await ex.login('bob');
      const json = await half.post(ACTION, { json: {} });
      expect(json.status).to.equal(403);
      expect(json.body.error).to.equal('step_up_required');
      expect(json.body.stepUpUrl).to.equal('/2fa/step-up?returnTo=%2F');
      expect(json.body.started).to.equal(undefined);

      const get = await half.get(ACTION, { accept: 'html' });
      expect(get.status).to.equal(302);
      expect(get.headers.get('location')).to.equal(`/2fa/step-up?returnTo=${ENCODED}`);
    });
  });

  describe(`with maxAge (takeControlMaxAgeMs: ${MAX_AGE_MS} ms, the clock moved past it)`, () => {
    let ex: RunningExample;
    let alice: HttpClient;
    let aliceSecret: string;

    // The clock only moves forward within this describe (verifiedAt values stay in its past).
    before(async () => { ex = await startExample({ takeControlMaxAgeMs: MAX_AGE_MS, twoFactor: { stateCacheMs: 0 } }, kind); });
    after(async () => {
      resetClock();
      await ex?.stop();
    });

    it('runs right after the second factor, asks for a step-up once maxAge has passed, and runs again after it', async () => {
      const e = await loginAndEnrol(ex, 'alice');
      alice = e.client;
      aliceSecret = e.secret;
      await expectRuns(alice);

      advanceClock(MAX_AGE_MS + 1_000);
      const stale = await alice.post(ACTION, { json: {} });
      expect(stale.status).to.equal(403);
      expect(stale.body.error).to.equal('step_up_required');
      expect(stale.body.stepUpUrl).to.equal('/2fa/step-up?returnTo=%2F');
      expect(stale.body.started).to.equal(undefined);
      // Only the action asks: the rest of the app is open to the verified session.
      expect((await alice.get('/dashboard')).status).to.equal(200);

      const before = (await alice.get('/2fa/step-up')).body;
      expect(before.verified).to.equal(true);
      const stepUp = await alice.post('/2fa/step-up', { json: { code: await codeWithTimeLeft(aliceSecret, 0) } });
      expect(stepUp.status).to.equal(200);
      expect(stepUp.body).to.include({ verified: true, method: 'totp' });
      expect(new Date(stepUp.body.verifiedAt).getTime()).to.be.greaterThan(new Date(before.verifiedAt).getTime());
      await expectRuns(alice);
    });

    it('sends a browser through the step-up page and back to the action', async () => {
      advanceClock(MAX_AGE_MS + 1_000);
      const get = await alice.get(ACTION, { accept: 'html' });
      expect(get.status).to.equal(302);
      const stepUpUrl = `/2fa/step-up?returnTo=${ENCODED}`;
      expect(get.headers.get('location')).to.equal(stepUpUrl);

      // A form posted from the action's page is sent to ask, then back to that page (303: not replayed).
      const form = await alice.post(ACTION, { form: { _csrf: await sessionCsrf(alice) }, headers: { referer: `${ex.url}${ACTION}` } });
      expect(form.status).to.equal(303);
      expect(form.headers.get('location')).to.equal(stepUpUrl);
      expect(form.text).not.to.include('Remote session started');

      const page = await alice.get(stepUpUrl, { accept: 'html' });
      expect(page.status).to.equal(200);
      expect(page.text).to.include('action="/2fa/step-up"');
      const done = await alice.post('/2fa/step-up', { form: { _csrf: csrfOf(page.text), code: await codeWithTimeLeft(aliceSecret, 1), returnTo: ACTION } });
      expect(done.status).to.equal(303);
      expect(done.headers.get('location')).to.equal(ACTION);

      expect((await alice.get(ACTION, { accept: 'html' })).status).to.equal(200);
      const ran = await alice.post(ACTION, { form: { _csrf: await sessionCsrf(alice) } });
      expect(ran.status).to.equal(200);
      expect(ran.text).to.include('Remote session started');
    });

    it('refuses a step-up code already used to verify (replay) with 401 invalid_code, and the replay refreshes nothing', async () => {
      const { secret } = await loginAndEnrol(ex, 'bob');
      const second = await ex.login('bob');
      const code = await codeWithTimeLeft(secret, 0);
      expect((await second.post('/2fa/verify', { json: { code } })).status).to.equal(200);

      // maxAge passes: the action asks for a step-up, as it must after the replay below.
      advanceClock(MAX_AGE_MS + 1_000);
      const before = (await second.get('/2fa/step-up')).body;
      expect(before.verified).to.equal(true);
      expect((await second.post(ACTION, { json: {} })).body.error).to.equal('step_up_required');

      const replay = await second.post('/2fa/step-up', { json: { code } });
      expect(replay.status).to.equal(401);
      expect(replay.body.error).to.equal('invalid_code');

      // Had the replay refreshed the verification, verifiedAt would be now and the action would run.
      expect((await second.get('/2fa/step-up')).body).to.deep.equal(before);
      const res = await second.post(ACTION, { json: {} });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('step_up_required');
    });

    it('counts step-up failures in the same budget as verify: 3 on step-up + 2 on verify → 429', async () => {
      // The user named "admin" is only a third user here.
      const { client: verified, secret } = await loginAndEnrol(ex, 'admin');
      const wrong = wrongCode(secret);
      for (let i = 0; i < 3; i++) {
        const res = await verified.post('/2fa/step-up', { json: { code: wrong } });
        expect(res.status, `step-up failure ${i + 1}`).to.equal(401);
        expect(res.body.error).to.equal('invalid_code');
      }
      const half = await ex.login('admin');
      for (let i = 0; i < 2; i++) {
        const res = await half.post('/2fa/verify', { json: { code: wrong } });
        expect(res.status, `verify failure ${i + 1}`).to.equal(401);
      }
      // Locked now, even with the right code, on both challenges.
      const verify = await half.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(verify.status).to.equal(429);
      expect(verify.body.error).to.equal('too_many_attempts');
      expect(Number(verify.headers.get('retry-after'))).to.be.greaterThan(0);
      const stepUp = await verified.post('/2fa/step-up', { json: { code: await codeWithTimeLeft(secret, 1) } });
      expect(stepUp.status).to.equal(429);
      expect(stepUp.body.error).to.equal('too_many_attempts');
      expect(ex.audit.filter((e) => e.type === 'lockout' && e.userId === '3')).to.have.length(1);
    });
  });
});
