/**
 * Remembered browsers (issue 16): "Don't ask for a code on this browser for
 * N days" must stay that browser's, that user's and that long. A remembered
 * browser skips the code at a later password login (as method `remembered`,
 * audited); nothing is remembered unless asked; another browser, another
 * user or a copied cookie after a "Forget" gets nothing; the token expires,
 * rotates once a day (a copy made before stops working) and ends at every
 * revocation; it is never a fresh second factor for a step-up with maxAge;
 * the per-user cap drops the oldest; required users can be left out. Both
 * example apps in memory; the core again on one Redis, where the Lua
 * scripts decide.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { REMEMBERED_TOKEN_ROTATION_MS } from '../../src/core/remembered-browsers.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { codeAt, describeEachExampleApp, startExample, type ExampleAppOptions, type ExampleKind, type RunningExample } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { inParallel, storeReady, tally } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

const DAY_MS = 24 * 60 * 60_000;
const ALICE = '1';
const BOB = '2';
const COOKIE_PREFIX = 'tf_remember.';
/** What the 2FA routes name a browser by: its User-Agent. */
const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const ACTION = '/remote/take-control';

/** The remembered-browser cookie of `uid` (its per-user suffix is keyed, so it is asked of the app). */
function cookieNameOf(ex: RunningExample, uid: string): string {
  return `${COOKIE_PREFIX}${ex.app.tf.service.rememberedCookieSuffix(uid)}`;
}

/** The names of the remembered-browser cookies a browser holds. */
function rememberCookies(c: HttpClient): string[] {
  return [...c.cookies.keys()].filter((name) => name.startsWith(COOKIE_PREFIX));
}

/** The Set-Cookie line of an answer for the cookie `name`, if it sets one. */
function setCookieLine(res: HttpResponse, name: string): string | undefined {
  return res.headers.getSetCookie().find((line) => line.startsWith(`${name}=`));
}

/**
 * How long a Set-Cookie line keeps its cookie, in ms from `now`: Max-Age
 * when the framework writes one (Express), else Expires (Koa's `cookies`
 * module writes only Expires, computed from the same maxAge).
 */
function lifetimeMs(line: string, now: number): number {
  const maxAge = /;\s*max-age=(\d+)/i.exec(line);
  if (maxAge) return Number(maxAge[1]) * 1000;
  const expires = /;\s*expires=([^;]+)/i.exec(line);
  if (!expires) throw new Error(`no lifetime in ${line}`);
  return Date.parse(expires[1]!) - now;
}

/** A new "browser" that holds `cookies` (copied from another) and logs in as `username` with the password. */
async function loginHolding(ex: RunningExample, username: string, cookies: Iterable<[string, string]>): Promise<HttpClient> {
  const c = ex.client();
  for (const [name, value] of cookies) c.cookies.set(name, value);
  await passwordLogin(c, username);
  return c;
}

async function passwordLogin(c: HttpClient, username: string): Promise<void> {
  const res = await c.post('/login', { json: { username, password: `${username}-password` } });
  expect(res.status, res.text).to.equal(200);
}

/** Logs out and in again with the password in the same browser (its cookie jar, remembered cookie included, stays). */
async function signInAgain(c: HttpClient, username: string): Promise<void> {
  expect((await c.post('/logout', { json: {} })).status).to.equal(200);
  await passwordLogin(c, username);
}

/** A gated page lets the password-only login through, as verified by the remembered browser. */
async function expectLetThrough(c: HttpClient, why?: string): Promise<HttpResponse> {
  const res = await c.get('/dashboard');
  expect(res.status, `${why ?? ''} ${res.text}`).to.equal(200);
  expect((await c.get('/2fa')).body.session, why).to.include({ verified: true, method: 'remembered' });
  return res;
}

/** A gated page asks the password-only login for its second factor. */
async function expectAskedForCode(c: HttpClient, why?: string): Promise<void> {
  const res = await c.get('/dashboard');
  expect(res.status, `${why ?? ''} ${res.text}`).to.equal(401);
  expect(res.body.error, why).to.equal('second_factor_required');
  expect((await c.get('/2fa')).body.session, why).to.include({ verified: false, method: null });
}

interface Enrolled {
  /** The session that linked the authenticator: verified, and recent enough for account actions. */
  setup: HttpClient;
  secret: string;
  backupCodes: string[];
}

/**
 * Links an authenticator with the code of the current time step. A test
 * here needs one more code at most (`laterCode`): a step's code is still
 * good in the next step, so neither waits for time left in the step.
 */
async function linkAuthenticator(client: HttpClient, name = 'Phone'): Promise<{ secret: string; deviceId: string; backupCodes: string[] }> {
  const setup = await client.post('/2fa/setup', { json: { name } });
  expect(setup.status, setup.text).to.equal(201);
  const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code: codeAt(setup.body.secret, 0) } });
  expect(confirm.status, confirm.text).to.equal(200);
  return { secret: setup.body.secret, deviceId: confirm.body.deviceId, backupCodes: confirm.body.backupCodes };
}

/** A code of the step after the one `linkAuthenticator` used: a later step, so no replay, and inside the window. */
function laterCode(secret: string): string {
  return codeAt(secret, 1);
}

async function enrolled(ex: RunningExample, username: string): Promise<Enrolled> {
  const setup = await ex.login(username);
  return { setup, ...(await linkAuthenticator(setup)) };
}

interface Remembered {
  browser: HttpClient;
  /** The verify answer that remembered it. */
  res: HttpResponse;
  /** Its id in the lists (from the audit event). */
  id: string;
}

/** A new browser of `username` that passes the second factor with `code` and asks to be remembered. */
async function rememberNewBrowser(ex: RunningExample, username: string, code: string): Promise<Remembered> {
  const browser = await ex.login(username);
  const before = ex.audit.length;
  const res = await browser.post('/2fa/verify', { json: { code, remember: true }, headers: { 'user-agent': FIREFOX_ON_LINUX } });
  expect(res.status, res.text).to.equal(200);
  expect(res.body).to.include({ verified: true, remembered: true });
  const event = ex.audit.slice(before).find((e) => e.type === 'browser.remembered');
  expect(event, 'a browser.remembered audit event').to.not.equal(undefined);
  return { browser, res, id: String(event!.detail?.browserId) };
}

/** The remembered browsers `c` (a verified session) lists: ids, oldest first. */
async function listedIds(c: HttpClient): Promise<string[]> {
  const res = await c.get('/2fa');
  expect(res.status, res.text).to.equal(200);
  expect(res.body.session.verified, 'the list is for a verified session').to.equal(true);
  return (res.body.rememberedBrowsers as { id: string }[]).map((b) => b.id);
}

/**
 * Starts an example whose 2FA service and in-memory stores run on the
 * test's clock. They take `Date.now` when they are built
 * (test/support/clock.ts); installed first (advanceClock(0)), the test
 * clock is what they take, so advanceClock moves expiry and rotation for
 * them too. TOTP codes are only used before the clock moves.
 */
async function startOnTestClock(o: ExampleAppOptions, kind: ExampleKind): Promise<RunningExample> {
  advanceClock(0);
  return startExample({ ...o, twoFactor: { rememberBrowser: { days: 30 }, ...o.twoFactor } }, kind);
}

describeEachExampleApp('security: remembered browsers', function (kind) {
  this.timeout(20_000);
  let ex: RunningExample | undefined;

  /** A fresh app for each test: no test sees another's browsers, codes or budget. */
  async function start(o: ExampleAppOptions = {}): Promise<RunningExample> {
    ex = await startExample({ ...o, twoFactor: { rememberBrowser: { days: 30 }, ...o.twoFactor } }, kind);
    return ex;
  }

  afterEach(async () => {
    resetClock();
    await ex?.stop();
    ex = undefined;
  });

  describe('remembering (days: 30)', () => {
    it('skips the code after a logout and a password login on the remembered browser: method remembered, audited', async () => {
      const ex = await start();
      const { secret } = await enrolled(ex, 'alice');
      const { browser, res, id } = await rememberNewBrowser(ex, 'alice', laterCode(secret));
      expect(res.body).to.include({ verified: true, method: 'totp', remembered: true });
      expect(rememberCookies(browser)).to.deep.equal([cookieNameOf(ex, ALICE)]);
      const remembered = ex.audit.filter((e) => e.type === 'browser.remembered');
      expect(remembered).to.have.length(1);
      expect(remembered[0]).to.deep.include({ userId: ALICE, outcome: 'success' });
      expect(remembered[0]!.detail).to.include({ browserId: id, name: 'Firefox on Linux' });

      await signInAgain(browser, 'alice');
      const auditMark = ex.audit.length;
      await expectLetThrough(browser);
      const used = ex.audit.slice(auditMark).filter((e) => e.type === 'verification.succeeded');
      expect(used).to.have.length(1);
      expect(used[0]).to.deep.include({ userId: ALICE, outcome: 'success' });
      expect(used[0]!.detail).to.include({ method: 'remembered', browserId: id, endpoint: 'remembered' });

      // The whole app is open to it, a step-up without maxAge included, and the account lists the browser.
      expect((await browser.get('/2fa/verify')).body).to.include({ verified: true });
      expect((await browser.post(ACTION, { json: {} })).status, 'a step-up without maxAge').to.equal(200);
      const status = (await browser.get('/2fa')).body;
      expect(status.rememberedBrowsers).to.have.length(1);
      expect(status.rememberedBrowsers[0]).to.include({ id, name: 'Firefox on Linux' });
      expect(Date.parse(status.rememberedBrowsers[0].expiresAt) - Date.parse(status.rememberedBrowsers[0].createdAt)).to.equal(30 * DAY_MS);
      expect(status.rememberedBrowsers[0]).to.not.have.property('tokenHash');
    });

    it('sets the cookie HttpOnly, SameSite=Lax, on path /, for 30 days, and keeps the token out of the answer and the audit', async () => {
      const ex = await start();
      const { backupCodes } = await enrolled(ex, 'alice');
      const { browser, res } = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);
      const name = cookieNameOf(ex, ALICE);
      const line = setCookieLine(res, name);
      expect(line, res.headers.getSetCookie().join('\n')).to.be.a('string');
      expect(line).to.match(/;\s*httponly/i);
      expect(line).to.match(/;\s*samesite=lax/i);
      expect(line).to.match(/;\s*path=\/(;|$)/i);
      expect(lifetimeMs(line!, Date.now())).to.be.within(30 * DAY_MS - 10_000, 30 * DAY_MS + 1_000);
      const token = browser.cookie(name)!;
      // 256 random bits, base64url.
      expect(token).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(res.text).to.not.include(token);
      expect(JSON.stringify(ex.audit)).to.not.include(token);
      // The cookie's name gives the user id away to nobody, and is the user's own.
      expect(name.slice(COOKIE_PREFIX.length)).to.not.equal(ALICE);
      expect(cookieNameOf(ex, BOB)).to.not.equal(name);
    });

    it('remembers a browser whose form has the box ticked (remember=on)', async () => {
      const ex = await start();
      const { backupCodes } = await enrolled(ex, 'alice');
      const browser = await ex.login('alice');
      const csrf = (await browser.get('/2fa')).body.csrfToken as string;
      const res = await browser.post('/2fa/verify', { form: { _csrf: csrf, code: backupCodes[0]!, remember: 'on', returnTo: '/dashboard' } });
      expect(res.status, res.text).to.equal(303);
      expect(res.headers.get('location')).to.equal('/dashboard');
      expect(rememberCookies(browser)).to.deep.equal([cookieNameOf(ex, ALICE)]);
      await signInAgain(browser, 'alice');
      await expectLetThrough(browser);
    });

    it('remembers nothing when the box is not ticked: no cookie, no entry, a code at the next login', async () => {
      const ex = await start();
      const { setup, backupCodes } = await enrolled(ex, 'alice');
      const bodies: Record<string, unknown>[] = [{}, { remember: false }, { remember: 'no' }];
      for (const [i, extra] of bodies.entries()) {
        const browser = await ex.login('alice');
        const res = await browser.post('/2fa/verify', { json: { code: backupCodes[i]!, ...extra } });
        expect(res.status, res.text).to.equal(200);
        expect(res.body, JSON.stringify(extra)).to.not.have.property('remembered');
        expect(rememberCookies(browser), JSON.stringify(extra)).to.deep.equal([]);
        if (i === 0) {
          await signInAgain(browser, 'alice');
          await expectAskedForCode(browser);
        }
      }

      expect(ex.audit.filter((e) => e.type === 'browser.remembered')).to.deep.equal([]);
      expect(await listedIds(setup)).to.deep.equal([]);
    });

    it('does nothing for another browser, nor for another user: alice\'s cookie in bob\'s browser, under her name or under his', async () => {
      const ex = await start();
      const { backupCodes } = await enrolled(ex, 'alice');
      const { backupCodes: bobCodes } = await enrolled(ex, 'bob');
      const { browser: alice, id } = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);

      const other = await ex.login('alice');
      await expectAskedForCode(other, 'another browser of alice');
      expect((await other.get('/2fa')).body, 'a password alone lists no browsers').to.not.have.property('rememberedBrowsers');

      const token = alice.cookie(cookieNameOf(ex, ALICE))!;
      const bob = await loginHolding(ex, 'bob', [[cookieNameOf(ex, ALICE), token], [cookieNameOf(ex, BOB), token]]);
      await expectAskedForCode(bob, 'bob');
      expect(ex.audit.filter((e) => e.type === 'verification.succeeded' && e.detail?.method === 'remembered')).to.deep.equal([]);

      // Nor can bob, verified, forget alice's browser by its id.
      expect((await bob.post('/2fa/verify', { json: { code: bobCodes[0] } })).status).to.equal(200);
      const forget = await bob.post(`/2fa/browsers/${encodeURIComponent(id)}/forget`, { json: {} });
      expect(forget.status).to.equal(400);
      expect(forget.body.error).to.equal('invalid_input');

      // Alice's own browser is untouched by all that.
      await signInAgain(alice, 'alice');
      await expectLetThrough(alice);
    });

    it('lets a copy of the cookie in another browser of alice through, as the same browser, until she forgets it', async () => {
      // What a copy is: the token is the remembered browser's second factor,
      // so a copy (with alice's password) passes like the original, and is
      // listed as the same browser. It stops at a Forget (here), at expiry,
      // or when the original rotates the token first (see rotation below).
      const ex = await start();
      const { setup, backupCodes } = await enrolled(ex, 'alice');
      const { browser, id } = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);
      const name = cookieNameOf(ex, ALICE);
      const copy = await loginHolding(ex, 'alice', [[name, browser.cookie(name)!]]);
      await expectLetThrough(copy, 'the copy');
      await signInAgain(browser, 'alice');
      await expectLetThrough(browser, 'the original, after the copy was used');
      expect(await listedIds(setup)).to.deep.equal([id]);

      const forget = await setup.post(`/2fa/browsers/${encodeURIComponent(id)}/forget`, { json: {} });
      expect(forget.status, forget.text).to.equal(200);
      expect(ex.audit.filter((e) => e.type === 'browser.forgotten').map((e) => e.detail?.browserId)).to.deep.equal([id]);
      for (const [c, why] of [[copy, 'the copy'], [browser, 'the original']] as const) {
        await signInAgain(c, 'alice');
        await expectAskedForCode(c, why);
      }
      expect(await listedIds(setup)).to.deep.equal([]);
      // Forgotten twice: there is no such browser any more.
      expect((await setup.post(`/2fa/browsers/${encodeURIComponent(id)}/forget`, { json: {} })).status).to.equal(400);
    });

    it('is no fresh second factor: a step-up with maxAge still asks for a code right after a remembered login', async () => {
      const ex = await start({ takeControlMaxAgeMs: 60_000 });
      const { secret, backupCodes } = await enrolled(ex, 'alice');
      const { browser } = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);
      await signInAgain(browser, 'alice');
      await expectLetThrough(browser);

      const refused = await browser.post(ACTION, { json: {} });
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.body.error).to.equal('step_up_required');
      expect(refused.body.started).to.equal(undefined);
      const page = await browser.get(ACTION, { accept: 'html' });
      expect(page.status).to.equal(302);
      expect(page.headers.get('location')).to.equal(`/2fa/step-up?returnTo=${encodeURIComponent(ACTION)}`);

      const stepUp = await browser.post('/2fa/step-up', { json: { code: laterCode(secret) } });
      expect(stepUp.status, stepUp.text).to.equal(200);
      expect(stepUp.body).to.include({ verified: true, method: 'totp' });
      const ran = await browser.post(ACTION, { json: {} });
      expect(ran.status, ran.text).to.equal(200);
      expect(ran.body.started).to.equal(true);
    });
  });

  describe('revocation: the remembered browser asks for a code again', () => {
    /**
     * Alice's setup session, a browser remembered with a backup code, and
     * her authenticator's secret. That a remembered browser passes is
     * proven above; here its cookie and its entry are the control.
     */
    async function oneRemembered(ex: RunningExample) {
      const e = await enrolled(ex, 'alice');
      const remembered = await rememberNewBrowser(ex, 'alice', e.backupCodes[0]!);
      expect(rememberCookies(remembered.browser)).to.deep.equal([cookieNameOf(ex, ALICE)]);
      expect(await listedIds(e.setup)).to.deep.equal([remembered.id]);
      return { ...e, ...remembered };
    }

    async function expectAskedAgain(browser: HttpClient): Promise<void> {
      await signInAgain(browser, 'alice');
      await expectAskedForCode(browser, 'after the revocation');
    }

    it('turning 2FA off (and turning it on again does not bring it back)', async () => {
      const ex = await start();
      const r = await oneRemembered(ex);
      const off = await r.setup.post('/2fa/disable', { json: { code: laterCode(r.secret) } });
      expect(off.status, off.text).to.equal(200);
      expect(await listedIds(r.setup)).to.deep.equal([]);
      await linkAuthenticator(r.setup, 'New phone');
      await expectAskedAgain(r.browser);
    });

    it('an admin reset (and a new authenticator afterwards does not bring it back)', async () => {
      const ex = await start();
      const { setup: admin } = await enrolled(ex, 'admin');
      const r = await oneRemembered(ex);
      const reset = await admin.post(`/2fa/admin/users/${ALICE}/reset`, { json: { password: 'admin-password' } });
      expect(reset.status, reset.text).to.equal(200);
      expect(await ex.app.tf.service.listRememberedBrowsers(ALICE)).to.deep.equal([]);
      await linkAuthenticator(await ex.login('alice'), 'New phone');
      await expectAskedAgain(r.browser);
    });

    it('new backup codes', async () => {
      const ex = await start();
      const r = await oneRemembered(ex);
      const res = await r.setup.post('/2fa/backup-codes', { json: { code: laterCode(r.secret) } });
      expect(res.status, res.text).to.equal(200);
      expect(await listedIds(r.setup)).to.deep.equal([]);
      await expectAskedAgain(r.browser);
    });

    it('removing one of two authenticators (the generation moves; the browser was remembered at the old one)', async () => {
      const ex = await start();
      const r = await oneRemembered(ex);
      const { deviceId } = await linkAuthenticator(r.setup, 'Tablet');
      const res = await r.setup.post(`/2fa/devices/${deviceId}/remove`, { json: { code: laterCode(r.secret) } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ state: 'active' });
      expect(await listedIds(r.setup)).to.deep.equal([]);
      await expectAskedAgain(r.browser);
    });

    it('forget one: that browser asks for a code, another remembered browser still does not', async () => {
      const ex = await start();
      const r = await oneRemembered(ex);
      const other = await rememberNewBrowser(ex, 'alice', r.backupCodes[1]!);
      const res = await r.setup.post(`/2fa/browsers/${encodeURIComponent(r.id)}/forget`, { json: {} });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ forgotten: 1 });
      expect(await listedIds(r.setup)).to.deep.equal([other.id]);
      await expectAskedAgain(r.browser);
      await signInAgain(other.browser, 'alice');
      await expectLetThrough(other.browser, 'the other browser');
      // DELETE does the same.
      expect((await r.setup.delete(`/2fa/browsers/${encodeURIComponent(other.id)}`, { json: {} })).status).to.equal(200);
      await expectAskedAgain(other.browser);
    });

    it('forget all, from a remembered browser: its own cookie is cleared, and every other browser asks too', async () => {
      const ex = await start();
      const r = await oneRemembered(ex);
      const other = await rememberNewBrowser(ex, 'alice', r.backupCodes[1]!);
      const res = await r.browser.post('/2fa/browsers/forget-all', { json: {} });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ forgotten: 'all' });
      expect(rememberCookies(r.browser)).to.deep.equal([]);
      expect(ex.audit.filter((e) => e.type === 'browser.forgotten').map((e) => e.detail?.all)).to.deep.equal([true]);
      expect(await listedIds(r.setup)).to.deep.equal([]);
      await expectAskedAgain(r.browser);
      await expectAskedAgain(other.browser);
    });
  });

  describe('the per-user cap (maxPerUser: 3)', () => {
    it('drops the oldest when a 4th browser is remembered: its cookie stops working, the 3 newest still pass', async () => {
      const ex = await start({ twoFactor: { rememberBrowser: { days: 30, maxPerUser: 3 } } });
      const { setup, backupCodes } = await enrolled(ex, 'alice');
      const browsers: Remembered[] = [];
      for (let i = 0; i < 4; i++) browsers.push(await rememberNewBrowser(ex, 'alice', backupCodes[i]!));
      expect(await listedIds(setup)).to.deep.equal(browsers.slice(1).map((b) => b.id));
      await signInAgain(browsers[0]!.browser, 'alice');
      await expectAskedForCode(browsers[0]!.browser, 'the oldest');
      for (const [i, b] of browsers.slice(1).entries()) {
        await signInAgain(b.browser, 'alice');
        await expectLetThrough(b.browser, `browser ${i + 2}`);
      }
    });
  });

  describe('allowForRequiredUsers: false', () => {
    it('does not remember a required user, nor let a cookie from before the requirement through', async () => {
      const ex = await start({ twoFactor: { rememberBrowser: { days: 30, allowForRequiredUsers: false } } });
      const { setup: admin } = await enrolled(ex, 'admin');
      const { backupCodes } = await enrolled(ex, 'alice');
      const before = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);
      await signInAgain(before.browser, 'alice');
      await expectLetThrough(before.browser, 'not yet required');

      const required = await admin.put('/2fa/admin/users/required', { json: { userIds: [ALICE], required: true, password: 'admin-password' } });
      expect(required.status, required.text).to.equal(200);
      await signInAgain(before.browser, 'alice');
      await expectAskedForCode(before.browser, 'the cookie from before the requirement');

      const browser = await ex.login('alice');
      const res = await browser.post('/2fa/verify', { json: { code: backupCodes[1], remember: true } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ verified: true });
      expect(res.body).to.not.have.property('remembered');
      expect(rememberCookies(browser)).to.deep.equal([]);
      expect(ex.audit.filter((e) => e.type === 'browser.remembered')).to.have.length(1);
    });
  });

  describe('time (the app on the test clock)', () => {
    it('expires after `days`: the cookie passes a minute before, and asks for a code a minute after', async () => {
      ex = await startOnTestClock({ twoFactor: { rememberBrowser: { days: 1 } } }, kind);
      const { backupCodes } = await enrolled(ex, 'alice');
      const { browser } = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);
      const name = cookieNameOf(ex, ALICE);
      const token = browser.cookie(name);

      advanceClock(DAY_MS - 60_000);
      await signInAgain(browser, 'alice');
      await expectLetThrough(browser, 'a minute before it expires');
      expect(browser.cookie(name), 'not rotated: less than a day since it was set').to.equal(token);

      advanceClock(2 * 60_000);
      // A browser sends an expired cookie no more; a copy, or a browser with a wrong clock, still may.
      await signInAgain(browser, 'alice');
      await expectAskedForCode(browser, 'a minute after it expired');
      expect(await ex.app.tf.service.listRememberedBrowsers(ALICE)).to.deep.equal([]);
    });

    it(`rotates the token once ${REMEMBERED_TOKEN_ROTATION_MS / DAY_MS} day has passed: a new cookie for the rest of the time, the old token refused`, async () => {
      ex = await startOnTestClock({}, kind);
      const { backupCodes } = await enrolled(ex, 'alice');
      const { browser } = await rememberNewBrowser(ex, 'alice', backupCodes[0]!);
      const rememberedAt = Date.now();
      const name = cookieNameOf(ex, ALICE);
      const oldToken = browser.cookie(name)!;

      advanceClock(REMEMBERED_TOKEN_ROTATION_MS - 60_000);
      await signInAgain(browser, 'alice');
      const early = await expectLetThrough(browser, 'within the first day');
      expect(setCookieLine(early, name), 'no new cookie within the first day').to.equal(undefined);
      expect(browser.cookie(name)).to.equal(oldToken);

      advanceClock(2 * 60_000);
      await signInAgain(browser, 'alice');
      const rotated = await expectLetThrough(browser, 'the use that rotates');
      const line = setCookieLine(rotated, name);
      expect(line, 'a new cookie').to.be.a('string');
      const newToken = browser.cookie(name)!;
      expect(newToken).to.match(/^[A-Za-z0-9_-]{43}$/);
      expect(newToken).to.not.equal(oldToken);
      expect(line).to.match(/;\s*httponly/i);
      expect(line).to.match(/;\s*samesite=lax/i);
      // It keeps the browser's expiry: 30 days from when it was remembered, not from now.
      expect(lifetimeMs(line!, Date.now())).to.be.within(rememberedAt + 30 * DAY_MS - Date.now() - 10_000, rememberedAt + 30 * DAY_MS - Date.now() + 1_000);

      const stale = await loginHolding(ex, 'alice', [[name, oldToken]]);
      await expectAskedForCode(stale, 'the token from before the rotation');
      await signInAgain(browser, 'alice');
      const again = await expectLetThrough(browser, 'the new token');
      expect(setCookieLine(again, name), 'rotated at most once a day').to.equal(undefined);
    });
  });
});

// ---------------------------------------------------------------------------
// The core again on one Redis, where the Lua scripts remember, cap, touch
// and rotate (the Koa example; the HTTP layer is the same code for both).
// A Cluster runs the same scripts on one slot per user: the store contract
// covers it (test/stores/redis-stores.test.ts), without a cluster start here.

/** Browsers sending one token at once: enough that their reads and writes on Redis interleave. */
const RACERS = 5;
/** Long enough for every racer's request to reach Redis while it holds commands (CLIENT PAUSE). */
const PAUSE_MS = 300;

describe('security: remembered browsers on one Redis (sessions and 2FA state in it) [koa]', function () {
  this.timeout(30_000);
  let server: RedisProcess | undefined;
  let ex: RunningExample;
  let setup: HttpClient;
  let backupCodes: string[];

  before(async () => {
    server = await startRedis();
    // The clock is installed before the app is built: the rotation test moves it (Redis keeps its own TTLs, 30 days here).
    advanceClock(0);
    ex = await startExample({ redisUrl: server.url, twoFactor: { rememberBrowser: { days: 30, maxPerUser: 3 } } }, 'koa');
    await storeReady(ex.app.tf.service);
    ({ setup, backupCodes } = await enrolled(ex, 'alice'));
  });
  after(async () => {
    resetClock();
    await ex?.stop();
    await server?.stop();
  });

  it('remembers a browser, lets it through after a password login, caps at 3 dropping the oldest, and forgets all', async () => {
    const browsers: Remembered[] = [];
    for (let i = 0; i < 4; i++) browsers.push(await rememberNewBrowser(ex, 'alice', backupCodes[i]!));
    expect(await listedIds(setup)).to.deep.equal(browsers.slice(1).map((b) => b.id));
    await signInAgain(browsers[0]!.browser, 'alice');
    await expectAskedForCode(browsers[0]!.browser, 'the oldest, dropped');
    for (const [i, b] of browsers.slice(1).entries()) {
      await signInAgain(b.browser, 'alice');
      await expectLetThrough(b.browser, `browser ${i + 2}`);
    }
    // Another user's cookie name and token get bob nothing.
    await enrolled(ex, 'bob');
    const token = browsers[1]!.browser.cookie(cookieNameOf(ex, ALICE))!;
    await expectAskedForCode(await loginHolding(ex, 'bob', [[cookieNameOf(ex, ALICE), token], [cookieNameOf(ex, BOB), token]]), 'bob');

    expect((await setup.post('/2fa/browsers/forget-all', { json: {} })).status).to.equal(200);
    expect(await listedIds(setup)).to.deep.equal([]);
    for (const b of browsers.slice(1)) {
      await signInAgain(b.browser, 'alice');
      await expectAskedForCode(b.browser, 'after forget-all');
    }
  });

  it(`rotates the token after a day: of ${RACERS} browsers racing with copies of one token exactly one passes, with a new token; the old one is refused`, async () => {
    const { browser } = await rememberNewBrowser(ex, 'alice', backupCodes[4]!);
    const name = cookieNameOf(ex, ALICE);
    const oldToken = browser.cookie(name)!;
    // Logged in after the clock moved: the sessions live a day.
    advanceClock(REMEMBERED_TOKEN_ROTATION_MS + 60_000);
    const racers: HttpClient[] = [];
    for (let i = 0; i < RACERS; i++) racers.push(await loginHolding(ex, 'alice', [[name, oldToken]]));
    // Redis holds every command for a moment, so the racers' first reads wait together and they go on in
    // step: all read the browser (old token) before any writes the new one, and the touch script alone decides.
    const admin = new Redis(server!.url);
    try {
      await admin.client('PAUSE', PAUSE_MS, 'ALL');
    } finally {
      admin.disconnect();
    }
    const answers = await inParallel(RACERS, (i) => racers[i]!.get('/dashboard'));
    expect(tally(answers)).to.deep.equal({ '200': 1, '401 second_factor_required': RACERS - 1 });
    const winner = racers[answers.findIndex((a) => a.status === 200)]!;
    expect(winner.cookie(name)).to.not.equal(oldToken);
    await signInAgain(winner, 'alice');
    await expectLetThrough(winner, 'the rotated token');
    await signInAgain(browser, 'alice');
    await expectAskedForCode(browser, 'the old token');
  });
});
