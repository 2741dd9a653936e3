/**
 * An administrator requires 2FA for bob from the policy page; bob's next
 * login lands on the setup page.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { viewportsFor, BROWSER_TEST_TIMEOUT_MS, foreignRequests, acquireBrowser, releaseBrowser, startJourney, type Journey, pageJourney } from '../support/browser.ts';
import { alertText, clickAndWait, expectHeading, linkFromSetupPage, signIn } from './flows.ts';

describeEachExampleApp('browser: admin requires two-factor authentication for a user', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  let browser: Browser;
  const journeys: Journey[] = [];
  before(async () => { browser = await acquireBrowser(); });
  afterEach(async () => {
    for (const j of journeys) expect(foreignRequests(j), `${j.name}: requests to other hosts`).to.deep.equal([]);
    await Promise.all(journeys.map((j) => j.close()));
    journeys.length = 0;
  });
  after(async () => { await releaseBrowser(); });

  for (const viewport of viewportsFor(kind)) {
    describe(`at ${viewport} width`, () => {
      let ex: RunningExample;
      before(async () => { ex = await startExample({}, kind); });
      after(async () => { await ex?.stop(); });

      pageJourney(kind)('ticks bob, chooses Required, confirms with the password; bob then lands on setup', async () => {
        const admin = await startJourney(browser, 'admin', viewport, ex);
        journeys.push(admin);
        const { page } = admin;
        await signIn(admin, 'admin');
        await expectHeading(page, 'Dashboard');
        await clickAndWait(page, page.getByRole('link', { name: 'Two-factor policy for users' }));
        await expectHeading(page, 'Two-factor policy');
        const bobRow = page.getByRole('row', { name: /\bbob\b/ });
        expect(await bobRow.getByRole('cell').allInnerTexts()).to.deep.equal(['', 'bob', 'Off', 'No']);
        await admin.shot('users');

        const requiredForm = page.locator('#required-form');
        await page.getByLabel('bob', { exact: true }).check();
        await page.getByLabel('Two-factor authentication for the ticked users').selectOption({ label: 'Required' });

        // A wrong password is refused with a message, nothing changes.
        await requiredForm.getByLabel('Your password, to confirm').fill('not-the-password');
        await clickAndWait(page, page.getByRole('button', { name: 'Apply to ticked users' }));
        expect(await alertText(page)).to.equal('That password is not right.');
        expect(await bobRow.getByRole('cell').nth(2).innerText()).to.equal('Off');
        await admin.shot('users-wrong-password');

        await page.getByLabel('bob', { exact: true }).check();
        await page.getByLabel('Two-factor authentication for the ticked users').selectOption({ label: 'Required' });
        await requiredForm.getByLabel('Your password, to confirm').fill('admin-password');
        await clickAndWait(page, page.getByRole('button', { name: 'Apply to ticked users' }));
        await expectHeading(page, 'Two-factor policy');
        expect(await page.getByRole('status').innerText()).to.equal('The users were updated.');
        expect(await bobRow.getByRole('cell').allInnerTexts()).to.deep.equal(['', 'bob', 'Pending', 'Yes']);
        expect(await page.getByRole('row', { name: /\balice\b/ }).getByRole('cell').nth(2).innerText()).to.equal('Off');
        await admin.shot('users-bob-required');

        const bob = await startJourney(browser, 'admin-bob', viewport, ex);
        journeys.push(bob);
        await signIn(bob, 'bob');
        await expectHeading(bob.page, 'Set up two-factor authentication');
        expect(new URL(bob.page.url()).pathname).to.equal('/2fa/setup');
        // The dashboard stays closed until bob has linked an app.
        await bob.page.goto('/dashboard');
        await expectHeading(bob.page, 'Set up two-factor authentication');
        await linkFromSetupPage(bob, 'setup');
        await clickAndWait(bob.page, bob.page.getByRole('link', { name: 'Continue' }));
        await expectHeading(bob.page, 'Dashboard');

        await page.reload();
        expect(await bobRow.getByRole('cell').allInnerTexts()).to.deep.equal(['', 'bob', 'Active', 'Yes']);
        await admin.shot('users-bob-active');
      });
    });
  }
});
