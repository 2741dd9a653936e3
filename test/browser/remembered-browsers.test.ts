/**
 * "Don't ask for a code on this browser for 30 days" in a real browser, on
 * the example apps with `rememberBrowser: { days: 30 }`. Two browsers of the
 * same person (two contexts: their own cookies): the one that ticked the box
 * signs in with the password alone, the other still asks for a code; the
 * account page lists the remembered browsers and forgets one or all of them.
 * A remembered sign-in never stands in for the fresh code a privileged
 * action with `maxAge` asks for.
 */
import { expect } from 'chai';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { BROWSER_TEST_TIMEOUT_MS, expectFocusOn, foreignRequests, acquireBrowser, releaseBrowser, startJourney, typedCode, type Journey, type Viewport, pageJourney } from '../support/browser.ts';
import { clickAndWait, enrolFromDashboard, expectHeading, signIn, signOut, submitCode, verifyForm } from './flows.ts';

const DAYS = 30;
const REMEMBER = `Don't ask for a code on this browser for ${DAYS} days`;

/** maxAge of "Take control": a remembered sign-in is older than any maxAge. */
const MAX_AGE_MS = 60_000;

/** A desktop Firefox on Windows, for the second browser: the account page names each browser by its User-Agent. */
const FIREFOX_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';

function rememberBox(page: Page) {
  return page.getByRole('checkbox', { name: REMEMBER });
}

/** The remembered-browser cookies of a browser (one per user of it: `tf_remember.<suffix>`). */
async function rememberCookies(context: BrowserContext) {
  return (await context.cookies()).filter((c) => c.name.startsWith('tf_remember.') && c.value !== '');
}

/** The account page's "Remembered browsers" section. */
function browsersSection(page: Page) {
  return page.getByRole('region', { name: 'Remembered browsers' });
}

async function listedBrowsers(page: Page): Promise<string[]> {
  return browsersSection(page).getByRole('listitem').getByRole('heading', { level: 3 }).allInnerTexts();
}

/** Signs in with the password and lands on the verify page, which offers to remember this browser (unticked). */
async function signInToCode(j: Journey, username: string, shot?: string): Promise<void> {
  const { page } = j;
  await signIn(j, username);
  await expectHeading(page, 'Two-factor authentication');
  expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
  await expectFocusOn(page, 'code');
  expect(await rememberBox(page).isChecked()).to.equal(false);
  if (shot) await j.shot(shot);
}

/** Signs in with the password only and lands on the dashboard: this browser is remembered. */
async function signInWithoutCode(j: Journey, username: string, shot?: string): Promise<void> {
  const { page } = j;
  await signIn(j, username);
  await expectHeading(page, 'Dashboard');
  expect(new URL(page.url()).pathname).to.equal('/dashboard');
  if (shot) await j.shot(shot);
}

/** On the verify page: ticks (or not) "Don't ask…", types the code, and lands on the dashboard. */
async function verifyWithCode(j: Journey, code: string, remember: boolean): Promise<void> {
  const { page } = j;
  if (remember) await rememberBox(page).check();
  await submitCode(page, verifyForm(page).field, code, verifyForm(page).button);
  await expectHeading(page, 'Dashboard');
}

async function signOutFromDashboard(j: Journey): Promise<void> {
  await j.page.goto('/dashboard');
  await expectHeading(j.page, 'Dashboard');
  await signOut(j);
}

/** A virtual platform authenticator that holds discoverable credentials and verifies the user without asking. */
async function addAuthenticator(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return cdp;
}

describeEachExampleApp('browser: remembered browsers', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS * 2);
  let browser: Browser;
  let ex: RunningExample | undefined;
  const journeys: Journey[] = [];
  before(async () => { browser = await acquireBrowser(); });
  async function app(): Promise<RunningExample> {
    ex = await startExample({ twoFactor: { rememberBrowser: { days: DAYS } }, takeControlMaxAgeMs: MAX_AGE_MS }, kind);
    return ex;
  }
  async function journey(name: string, target: RunningExample | { url: string; kind: string }, o: { viewport?: Viewport; userAgent?: string } = {}): Promise<Journey> {
    const j = await startJourney(browser, name, o.viewport ?? 'desktop', target, o.userAgent ? { userAgent: o.userAgent } : {});
    journeys.push(j);
    return j;
  }
  afterEach(async () => {
    for (const j of journeys.splice(0)) {
      expect(foreignRequests(j), 'requests to other hosts').to.deep.equal([]);
      await j.close();
    }
    await ex?.stop();
    ex = undefined;
  });
  after(async () => { await releaseBrowser(); });

  it('signs in without a code on the browser that ticked the box, not on another; forgetting it asks again', async () => {
    const target = await app();
    const a = await journey('remembered', target);
    await signIn(a, 'alice');
    const { secret } = await enrolFromDashboard(a);
    await signOut(a);

    // Browser A: tick "Don't ask…" and verify.
    await signInToCode(a, 'alice', 'verify');
    await rememberBox(a.page).check();
    await a.shot('verify-ticked');
    await verifyWithCode(a, await typedCode(secret, 0), false);
    const [cookie, ...more] = await rememberCookies(a.context);
    expect(more).to.deep.equal([]);
    expect(cookie!.httpOnly).to.equal(true);
    expect(cookie!.sameSite).to.equal('Lax');
    // Over plain HTTP (the test's loopback) the cookie cannot be Secure; the app's HTTPS gets it Secure.
    expect(cookie!.secure).to.equal(false);
    const days = (cookie!.expires * 1000 - Date.now()) / 86_400_000;
    expect(days).to.be.within(DAYS - 0.01, DAYS + 0.01);

    await signOut(a);
    await signInWithoutCode(a, 'alice', 'dashboard-without-code');

    // Browser B (a phone), with no cookie: asks for a code. Verified without ticking, it stays unremembered.
    const b = await journey('remembered-other-browser', target, { viewport: 'phone' });
    await signInToCode(b, 'alice', 'verify');
    await verifyWithCode(b, await typedCode(secret, 1), false);
    expect(await rememberCookies(b.context)).to.deep.equal([]);
    await signOut(b);
    await signInToCode(b, 'alice');

    // A's account page lists A only, named after its User-Agent.
    await a.page.goto('/2fa');
    await expectHeading(a.page, 'Two-factor authentication');
    expect(await listedBrowsers(a.page)).to.deep.equal(['Chrome on Linux']);
    await browsersSection(a.page).getByText(/^Last used \d{4}-\d\d-\d\d \d\d:\d\d UTC/).waitFor();
    await a.shot('account');

    await clickAndWait(a.page, a.page.getByRole('button', { name: 'Forget all remembered browsers' }));
    await expectHeading(a.page, 'Two-factor authentication');
    expect(new URL(a.page.url()).pathname).to.equal('/2fa');
    expect((await a.page.getByRole('status').innerText()).trim()).to.equal('Every remembered browser was forgotten.');
    await browsersSection(a.page).getByText('No browser is remembered').waitFor();
    expect(await listedBrowsers(a.page)).to.deep.equal([]);
    expect(await rememberCookies(a.context), 'this browser\'s cookie is cleared').to.deep.equal([]);
    await a.shot('account-forgotten');

    await signOutFromDashboard(a);
    await signInToCode(a, 'alice', 'verify-again');
  });

  pageJourney(kind)('"Forget" on one browser ends that one only', async () => {
    const target = await app();
    const a = await journey('forget-one', target);
    await signIn(a, 'alice');
    const { secret } = await enrolFromDashboard(a);
    await signOut(a);
    await signInToCode(a, 'alice');
    await verifyWithCode(a, await typedCode(secret, 0), true);

    const b = await journey('forget-one-other', target, { userAgent: FIREFOX_ON_WINDOWS });
    await signInToCode(b, 'alice');
    await verifyWithCode(b, await typedCode(secret, 1), true);
    await signOut(b);
    await signInWithoutCode(b, 'alice');

    await a.page.goto('/2fa');
    await expectHeading(a.page, 'Two-factor authentication');
    // Most recently used first: B just signed in.
    expect(await listedBrowsers(a.page)).to.deep.equal(['Firefox on Windows', 'Chrome on Linux']);
    await a.shot('account-two');
    const firefox = browsersSection(a.page).getByRole('listitem').filter({ has: a.page.getByRole('heading', { name: 'Firefox on Windows' }) });
    await clickAndWait(a.page, firefox.getByRole('button', { name: 'Forget' }));
    expect((await a.page.getByRole('status').innerText()).trim()).to.equal('The browser was forgotten: it will ask for a code at the next sign-in.');
    expect(await listedBrowsers(a.page)).to.deep.equal(['Chrome on Linux']);
    await a.shot('account-one-forgotten');

    await signOutFromDashboard(b);
    await signInToCode(b, 'alice');
    await signOutFromDashboard(a);
    await signInWithoutCode(a, 'alice');
  });

  pageJourney(kind)(`a remembered sign-in still asks for a code before linking an authenticator and before "Take control" (maxAge ${MAX_AGE_MS / 1000} s); the step-up page does not offer to remember`, async () => {
    const a = await journey('remembered-step-up', await app());
    await signIn(a, 'bob');
    const { secret } = await enrolFromDashboard(a);
    await signOut(a);
    await signInToCode(a, 'bob');
    await verifyWithCode(a, await typedCode(secret, 0), true);
    await signOut(a);
    await signInWithoutCode(a, 'bob');

    // Right after the sign-in: no clock moved, yet nobody proved anything at this login.
    // Linking another authenticator asks for a code first (else a copied cookie could link an attacker's phone)…
    await clickAndWait(a.page, a.page.getByRole('link', { name: 'Manage two-factor authentication' }));
    await clickAndWait(a.page, a.page.getByRole('button', { name: '+ Add another authenticator app' }));
    expect(await a.page.getByRole('heading', { name: 'Set up two-factor authentication' }).count()).to.equal(0);
    expect(await a.page.getByRole('img', { name: /QR code/i }).count()).to.equal(0);
    await a.shot('add-app-refused');
    await clickAndWait(a.page, a.page.getByRole('link', { name: 'Enter a code' }));
    await expectHeading(a.page, "Confirm it's you");
    expect(new URL(a.page.url()).pathname).to.equal('/2fa/step-up');
    // …and so does the privileged action.
    await a.page.goto('/dashboard');
    await clickAndWait(a.page, a.page.getByRole('link', { name: 'Take control' }));
    await expectHeading(a.page, "Confirm it's you");
    expect(new URL(a.page.url()).pathname).to.equal('/2fa/step-up');
    await expectFocusOn(a.page, 'code');
    expect(await a.page.getByRole('checkbox').count()).to.equal(0);
    await a.shot('confirm');

    await submitCode(a.page, verifyForm(a.page).field, await typedCode(secret, 1), verifyForm(a.page).button);
    await expectHeading(a.page, 'Take control');
    await clickAndWait(a.page, a.page.getByRole('button', { name: 'Start the session' }));
    await expectHeading(a.page, 'Remote session started');
  });

  pageJourney(kind)('remembers the browser after a passkey sign-in with the box ticked', async () => {
    const target = await app();
    // WebAuthn refuses IP-address hosts: this journey opens the app at localhost.
    const url = new URL(target.url);
    url.hostname = 'localhost';
    const a = await journey('remembered-passkey', { url: url.origin, kind: target.kind });
    const { page } = a;
    await addAuthenticator(page);
    await signIn(a, 'alice');
    await clickAndWait(page, page.getByRole('link', { name: 'Set up two-factor authentication' }));
    await page.getByLabel('Name of the passkey').fill('Laptop');
    await clickAndWait(page, page.getByRole('button', { name: '+ Add a passkey' }));
    await expectHeading(page, "You're good to go");
    await signOutFromDashboard(a);

    await signInToCode(a, 'alice');
    const usePasskey = page.getByRole('button', { name: 'Use a passkey', exact: true });
    await usePasskey.waitFor({ state: 'visible' });
    await rememberBox(page).check();
    await a.shot('verify-passkey');
    await clickAndWait(page, usePasskey);
    await expectHeading(page, 'Dashboard');
    expect(await rememberCookies(a.context)).to.have.length(1);

    await signOut(a);
    await signInWithoutCode(a, 'alice');
  });
});
