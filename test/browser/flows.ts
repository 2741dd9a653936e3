/**
 * Steps the browser journeys share: signing in and out, and linking an
 * authenticator the way a person does (QR code read off the screen).
 */
import { expect } from 'chai';
import type { Browser, Locator, Page } from 'playwright-core';
import { acquireBrowser, releaseBrowser, readQrSecret, startJourney, typedCode, type Journey } from '../support/browser.ts';
import { startExample, type ExampleKind, type RunningExample } from '../support/example-server.ts';

/**
 * A browser and a fresh example app of `kind` for the calling `describe`
 * (started in `before`, stopped in `after`), and journeys that are closed with them.
 */
export function browserSuite(kind: ExampleKind): { readonly ex: RunningExample; journey(name: string, viewport: 'desktop' | 'phone'): Promise<Journey> } {
  let browser: Browser | undefined;
  let ex: RunningExample | undefined;
  const journeys: Journey[] = [];
  before(async () => {
    [browser, ex] = await Promise.all([acquireBrowser(), startExample({}, kind)]);
  });
  after(async () => {
    for (const j of journeys) await j.close();
    await releaseBrowser();
    await ex?.stop();
  });
  return {
    get ex() {
      if (!ex) throw new Error('example app not started');
      return ex;
    },
    async journey(name, viewport) {
      const j = await startJourney(browser!, name, viewport, ex!);
      journeys.push(j);
      return j;
    },
  };
}

/** Clicks something that navigates and waits until the new page has loaded. */
export async function clickAndWait(page: Page, target: Locator): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  await target.click();
  await navigated;
  await page.waitForLoadState('load');
}

/** The page's level-1 heading, once it reads `name` exactly. */
export async function expectHeading(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('heading', { level: 1, name, exact: typeof name === 'string' }).waitFor({ state: 'visible' });
}

/** The text of the page's alert (error box). */
export async function alertText(page: Page): Promise<string> {
  const alert = page.getByRole('alert');
  await alert.waitFor({ state: 'visible' });
  return (await alert.innerText()).trim();
}

/** Types a code into a field and presses the button, waiting for the answer page. */
export async function submitCode(page: Page, field: Locator, code: string, button: Locator): Promise<void> {
  await field.fill(code);
  await clickAndWait(page, button);
}

/** Opens the login page and signs in with the password; `shot` names the login page screenshot. */
export async function signIn(j: Journey, username: string, shot?: string): Promise<void> {
  const { page } = j;
  await page.goto('/login');
  await expectHeading(page, 'Sign in');
  if (shot) await j.shot(shot);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(`${username}-password`);
  await clickAndWait(page, page.getByRole('button', { name: 'Sign in' }));
}

/** Signs out with the dashboard's (or the verify page's) "Sign out" button. */
export async function signOut(j: Journey): Promise<void> {
  await clickAndWait(j.page, j.page.getByRole('button', { name: 'Sign out' }));
  await expectHeading(j.page, 'Sign in');
}

/** The verify page's code field and button. */
export function verifyForm(page: Page): { field: Locator; button: Locator } {
  return { field: page.getByLabel('Authentication code'), button: page.getByRole('button', { name: 'Verify' }) };
}

export interface Linked {
  secret: string;
  backupCodes: string[];
}

/**
 * On the setup page: reads the secret off the QR code, types the code of the
 * previous step (the first of -1, 0, +1) and lands on "You're good to go".
 */
export async function linkFromSetupPage(j: Journey, shotPrefix = 'setup'): Promise<Linked> {
  const { page } = j;
  await expectHeading(page, 'Set up two-factor authentication');
  await j.shot(shotPrefix);
  const secret = await readQrSecret(page);
  await submitCode(page, page.getByLabel('Enter the 6-digit code shown in the app'), await typedCode(secret, -1), page.getByRole('button', { name: 'Activate' }));
  await expectHeading(page, "You're good to go");
  await j.shot(`${shotPrefix}-done`);
  const codes = page.getByRole('region', { name: 'Your backup codes' }).getByRole('listitem');
  const backupCodes = (await codes.allInnerTexts()).map((c) => c.trim());
  return { secret, backupCodes };
}

/** From the dashboard of a user without 2FA: account page → setup → done → Continue → dashboard. */
export async function enrolFromDashboard(j: Journey): Promise<Linked> {
  const { page } = j;
  await expectHeading(page, 'Dashboard');
  await clickAndWait(page, page.getByRole('link', { name: 'Set up two-factor authentication' }));
  await expectHeading(page, 'Two-factor authentication');
  await clickAndWait(page, page.getByRole('link', { name: 'Set up an authenticator app' }));
  const linked = await linkFromSetupPage(j);
  expect(linked.backupCodes).to.have.length(10);
  await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
  await expectHeading(page, 'Dashboard');
  return linked;
}
