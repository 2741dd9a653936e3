/**
 * Passkeys in a real browser: Chromium with a virtual authenticator (CDP
 * WebAuthn domain) plays the person's laptop. A person adds a passkey from
 * the account page and signs in with it; steps up with it; is refused with a
 * passkey their authenticator does not hold; and stops being offered one
 * once it is removed.
 *
 * WebAuthn refuses IP-address hosts, so these journeys open the app at
 * `http://localhost:<port>` (the relying party is the request's host name).
 */
import { expect } from 'chai';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { describeEachExampleApp, startExample, type ExampleAppOptions, type ExampleKind, type RunningExample } from '../support/example-server.ts';
import { viewportsFor, BROWSER_TEST_TIMEOUT_MS, expectFocusOn, foreignRequests, acquireBrowser, releaseBrowser, startJourney, typedCode, type Journey, type Viewport, pageJourney } from '../support/browser.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { alertText, clickAndWait, enrolFromDashboard, expectHeading, signIn, signOut, submitCode, verifyForm } from './flows.ts';

/** maxAge of "Take control" in the step-up journey; staleness comes from moving the server's clock past it. */
const MAX_AGE_MS = 60_000;

const CANCELLED = 'The passkey request was cancelled or timed out. Try again, or use a code from your authenticator app or a backup code.';

/** A virtual platform authenticator that holds discoverable credentials and verifies the user without asking. */
async function addAuthenticator(cdp: CDPSession): Promise<string> {
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  return authenticatorId;
}

interface PasskeyJourney extends Journey {
  cdp: CDPSession;
  authenticatorId: string;
}

/** A journey on `localhost` (WebAuthn needs a domain) with a virtual authenticator attached to its page. */
async function passkeyJourney(browser: Browser, name: string, ex: RunningExample, viewport: Viewport = 'desktop'): Promise<PasskeyJourney> {
  const url = new URL(ex.url);
  url.hostname = 'localhost';
  const j = await startJourney(browser, name, viewport, { url: url.origin, kind: ex.kind });
  const cdp = await j.page.context().newCDPSession(j.page);
  await cdp.send('WebAuthn.enable');
  return Object.assign(j, { cdp, authenticatorId: await addAuthenticator(cdp) });
}

async function credentialCount(j: PasskeyJourney): Promise<number> {
  const { credentials } = await j.cdp.send('WebAuthn.getCredentials', { authenticatorId: j.authenticatorId });
  return credentials.length;
}

function passkeyButton(page: Page) {
  return page.getByRole('button', { name: 'Use a passkey', exact: true });
}

/** On the account page: names a new passkey and presses "Add a passkey" (the authenticator answers by itself). */
async function addPasskey(j: PasskeyJourney, name: string): Promise<void> {
  const { page } = j;
  await expectHeading(page, 'Two-factor authentication');
  await page.getByLabel('Name of the passkey').fill(name);
  await clickAndWait(page, page.getByRole('button', { name: '+ Add a passkey' }));
}

/** From the dashboard of a user without 2FA: account page → add a passkey → backup codes → Continue (account page). */
async function firstPasskeyFromDashboard(j: PasskeyJourney, name: string): Promise<string[]> {
  const { page } = j;
  await clickAndWait(page, page.getByRole('link', { name: 'Set up two-factor authentication' }));
  await expectHeading(page, 'Two-factor authentication');
  await page.getByRole('heading', { name: 'Or use a passkey' }).waitFor();
  await j.shot('account-off');
  await addPasskey(j, name);
  await expectHeading(page, "You're good to go");
  await page.getByText(`Two-factor authentication is now active for ${name}.`).waitFor();
  const backupCodes = (await page.getByRole('region', { name: 'Your backup codes' }).getByRole('listitem').allInnerTexts()).map((c) => c.trim());
  expect(backupCodes).to.have.length(10);
  expect(await credentialCount(j)).to.equal(1);
  await j.shot('setup-done');
  return backupCodes;
}

describeEachExampleApp('browser: passkeys', function (kind: ExampleKind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  let browser: Browser;
  let ex: RunningExample | undefined;
  let j: PasskeyJourney | undefined;
  before(async () => { browser = await acquireBrowser(); });
  async function app(o: ExampleAppOptions = {}): Promise<RunningExample> {
    ex = await startExample(o, kind);
    return ex;
  }
  afterEach(async () => {
    if (j) expect(foreignRequests(j), 'requests to other hosts').to.deep.equal([]);
    await j?.close();
    j = undefined;
    resetClock();
    await ex?.stop();
    ex = undefined;
  });
  after(async () => { await releaseBrowser(); });

  for (const viewport of viewportsFor(kind)) {
    it(`adds a first passkey from the account page, then signs in with it (${viewport})`, async () => {
      j = await passkeyJourney(browser, 'passkey-first', await app(), viewport);
      const { page } = j;
      await signIn(j, 'alice');
      await expectHeading(page, 'Dashboard');
      await firstPasskeyFromDashboard(j, 'Laptop');

      await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
      await expectHeading(page, 'Two-factor authentication');
      const devices = page.getByRole('region', { name: 'Authenticator apps and passkeys' }).getByRole('listitem');
      expect(await devices.getByRole('heading', { level: 3 }).allInnerTexts()).to.deep.equal(['Laptop']);
      await devices.getByText('Passkey or security key').waitFor();
      await j.shot('account');

      await page.goto('/dashboard');
      await signOut(j);
      await signIn(j, 'alice');
      await expectHeading(page, 'Two-factor authentication');
      expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
      await passkeyButton(page).waitFor({ state: 'visible' });
      // The code form stays, for a backup code.
      expect(await verifyForm(page).field.isVisible()).to.equal(true);
      await j.shot('verify');

      await clickAndWait(page, passkeyButton(page));
      await expectHeading(page, 'Dashboard');
      expect(new URL(page.url()).pathname).to.equal('/dashboard');
      await j.shot('dashboard');
    });
  }

  pageJourney(kind)(`steps up with a passkey when 2FA was passed longer ago than maxAge (${MAX_AGE_MS / 1000} s)`, async () => {
    j = await passkeyJourney(browser, 'passkey-step-up', await app({ takeControlMaxAgeMs: MAX_AGE_MS }));
    const { page } = j;
    await signIn(j, 'bob');
    await expectHeading(page, 'Dashboard');
    await firstPasskeyFromDashboard(j, 'Laptop');
    await page.goto('/dashboard');
    advanceClock(MAX_AGE_MS + 1_000);

    await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
    await expectHeading(page, "Confirm it's you");
    expect(new URL(page.url()).pathname).to.equal('/2fa/step-up');
    await passkeyButton(page).waitFor({ state: 'visible' });
    await j.shot('confirm');

    await clickAndWait(page, passkeyButton(page));
    await expectHeading(page, 'Take control');
    expect(new URL(page.url()).pathname).to.equal('/remote/take-control');
    await clickAndWait(page, page.getByRole('button', { name: 'Start the session' }));
    await expectHeading(page, 'Remote session started');
    await j.shot('started');
  });

  pageJourney(kind)('links a passkey from the setup page ("Activate now") and comes back to the action', async () => {
    j = await passkeyJourney(browser, 'passkey-activate-now', await app());
    const { page } = j;
    await signIn(j, 'alice');
    await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
    await clickAndWait(page, page.getByRole('link', { name: 'Activate now' }));
    await expectHeading(page, 'Set up two-factor authentication');
    const section = page.getByRole('region', { name: 'Use a passkey or security key instead' });
    await section.getByLabel('Name of the passkey').fill('Laptop');
    await j.shot('setup');
    await clickAndWait(page, section.getByRole('button', { name: 'Add a passkey' }));
    await expectHeading(page, "You're good to go");
    expect(await page.getByRole('region', { name: 'Your backup codes' }).getByRole('listitem').count()).to.equal(10);
    await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
    await expectHeading(page, 'Take control');
    expect(new URL(page.url()).pathname).to.equal('/remote/take-control');
  });

  pageJourney(kind)('refuses a passkey the authenticator does not hold: the message shows and the session stays unverified', async () => {
    j = await passkeyJourney(browser, 'passkey-missing', await app());
    const { page } = j;
    await signIn(j, 'alice');
    await firstPasskeyFromDashboard(j, 'Laptop');
    await page.goto('/dashboard');
    await signOut(j);

    // Another authenticator, holding no credential (a different laptop, a lost key).
    await j.cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: j.authenticatorId });
    j.authenticatorId = await addAuthenticator(j.cdp);
    expect(await credentialCount(j)).to.equal(0);

    await signIn(j, 'alice');
    await expectHeading(page, 'Two-factor authentication');
    await passkeyButton(page).click();
    expect(await alertText(page)).to.equal(CANCELLED);
    expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
    // The button works again for another try.
    expect(await passkeyButton(page).isEnabled()).to.equal(true);
    await j.shot('refused');

    await page.goto('/dashboard');
    await expectHeading(page, 'Two-factor authentication');
    expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
  });

  pageJourney(kind)('tells a browser without the WebAuthn JSON methods to use a code, and the code still works', async () => {
    j = await passkeyJourney(browser, 'passkey-unsupported', await app());
    const { page } = j;
    await signIn(j, 'alice');
    const backupCodes = await firstPasskeyFromDashboard(j, 'Laptop');
    await page.goto('/dashboard');
    await signOut(j);

    // An older browser: WebAuthn, but not Level 3's JSON helpers.
    await page.addInitScript(() => {
      delete (PublicKeyCredential as { parseRequestOptionsFromJSON?: unknown }).parseRequestOptionsFromJSON;
    });
    await signIn(j, 'alice');
    await expectHeading(page, 'Two-factor authentication');
    await page.getByText('This browser cannot use passkeys. Enter a code from your authenticator app or one of your backup codes instead.').waitFor();
    expect(await page.getByRole('button', { name: /passkey/i }).count()).to.equal(0);
    await j.shot('verify');
    await submitCode(page, verifyForm(page).field, backupCodes[0]!, verifyForm(page).button);
    await expectHeading(page, 'Dashboard');
  });

  pageJourney(kind)('asks for a fresh code before adding a passkey to a session verified a while ago', async () => {
    j = await passkeyJourney(browser, 'passkey-fresh-code', await app());
    const { page } = j;
    await signIn(j, 'alice');
    const { secret } = await enrolFromDashboard(j);
    // Past recentVerificationMs (5 minutes by default): linking another authenticator needs a code.
    advanceClock(5 * 60_000 + 1_000);

    await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
    const code = page.getByLabel('Code from your authenticator app, or a backup code');
    expect(await code.isVisible()).to.equal(false);
    await page.getByLabel('Name of the passkey').fill('Laptop');
    await page.getByRole('button', { name: '+ Add a passkey' }).click();
    expect(await alertText(page)).to.equal('Confirm it is you with a code from your authenticator app, a passkey or a backup code.');
    await code.waitFor({ state: 'visible' });
    await expectFocusOn(page, 'code-passkey');
    expect(await credentialCount(j)).to.equal(0);
    await j.shot('code-asked');

    await code.fill(await typedCode(secret, 0));
    await clickAndWait(page, page.getByRole('button', { name: '+ Add a passkey' }));
    await expectHeading(page, 'Two-factor authentication');
    expect(await page.getByRole('status').innerText()).to.equal('The passkey “Laptop” was added.');
    expect(await credentialCount(j)).to.equal(1);
  });

  for (const proof of ['the passkey', 'a backup code'] as const) {
    pageJourney(kind)(`no longer offers a passkey once it is removed (proved with ${proof})`, async () => {
      j = await passkeyJourney(browser, `passkey-removed-${proof === 'a backup code' ? 'backup' : 'passkey'}`, await app());
      const { page } = j;
      await signIn(j, 'alice');
      const { secret, backupCodes } = await enrolFromDashboard(j);

      await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
      await addPasskey(j, 'Laptop');
      // A second device: back on the account page with a notice, no new backup codes.
      await expectHeading(page, 'Two-factor authentication');
      expect(await page.getByRole('status').innerText()).to.equal('The passkey “Laptop” was added.');
      const devices = page.getByRole('region', { name: 'Authenticator apps and passkeys' }).getByRole('listitem');
      expect(await devices.getByRole('heading', { level: 3 }).allInnerTexts()).to.deep.equal(['Authenticator', 'Laptop']);
      // Every action that asks for a fresh code now offers the passkey too.
      expect(await page.getByRole('button', { name: 'Use a passkey instead' }).count()).to.equal(4);
      await j.shot('account-two-devices');

      await page.goto('/dashboard');
      await signOut(j);
      await signIn(j, 'alice');
      await expectHeading(page, 'Two-factor authentication');
      await passkeyButton(page).waitFor({ state: 'visible' });
      await submitCode(page, verifyForm(page).field, await typedCode(secret, 0), verifyForm(page).button);
      await expectHeading(page, 'Dashboard');

      await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
      const laptop = devices.filter({ has: page.getByRole('heading', { name: 'Laptop' }) });
      if (proof === 'the passkey') {
        await clickAndWait(page, laptop.getByRole('button', { name: 'Use a passkey instead' }));
      } else {
        await submitCode(page, laptop.getByLabel('Code to remove Laptop'), backupCodes[0]!, laptop.getByRole('button', { name: 'Remove' }));
      }
      await expectHeading(page, 'Two-factor authentication');
      expect(await page.getByRole('status').innerText()).to.equal('The authenticator was removed.');
      expect(await devices.getByRole('heading', { level: 3 }).allInnerTexts()).to.deep.equal(['Authenticator']);
      expect(await page.getByRole('button', { name: 'Use a passkey instead' }).count()).to.equal(0);
      await j.shot('account-passkey-removed');

      await page.goto('/dashboard');
      await signOut(j);
      await signIn(j, 'alice');
      await expectHeading(page, 'Two-factor authentication');
      expect(await page.getByRole('button', { name: /passkey/i }).count()).to.equal(0);
      expect(await page.locator('script').count()).to.equal(0);
      await j.shot('verify-without-passkey');
      await submitCode(page, verifyForm(page).field, await typedCode(secret, 1), verifyForm(page).button);
      await expectHeading(page, 'Dashboard');
    });
  }
});
