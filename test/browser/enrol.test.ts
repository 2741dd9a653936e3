/**
 * A person links an authenticator app in a real browser (the QR code is read
 * off the screenshot, as a phone camera would), signs out, signs in again
 * with a code, then with backup codes, at desktop and phone widths.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { viewportsFor, BROWSER_TEST_TIMEOUT_MS, expectFocusOn, foreignRequests, acquireBrowser, releaseBrowser, readQrSecret, readQrUri, startJourney, typedCode, wrongCode, type Journey } from '../support/browser.ts';
import { alertText, clickAndWait, expectHeading, signIn, signOut, submitCode, verifyForm } from './flows.ts';

describeEachExampleApp('browser: enrolment, then login with a code or a backup code', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  let browser: Browser;
  before(async () => { browser = await acquireBrowser(); });
  after(async () => { await releaseBrowser(); });

  for (const viewport of viewportsFor(kind)) {
    describe(`at ${viewport} width`, () => {
      let ex: RunningExample;
      let j: Journey | undefined;
      /** Shown once by the enrolment journey, used by the next ones. */
      let backupCodes: string[] = [];

      before(async () => { ex = await startExample({}, kind); });
      afterEach(async () => {
        if (j) expect(foreignRequests(j), 'requests to other hosts').to.deep.equal([]);
        await j?.close();
        j = undefined;
      });
      after(async () => { await ex?.stop(); });

      it('links an app from the dashboard, shows 10 backup codes once, then asks for a code at the next login', async () => {
        j = await startJourney(browser, 'enrol', viewport, ex);
        const { page } = j;

        await signIn(j, 'alice', 'login');
        await expectHeading(page, 'Dashboard');
        await page.getByText('Two-factor authentication is off.').waitFor();
        await j.shot('dashboard');

        await clickAndWait(page, page.getByRole('link', { name: 'Set up two-factor authentication' }));
        await expectHeading(page, 'Two-factor authentication');
        await page.getByText('Two-factor authentication is off.').waitFor();
        await j.shot('account-off');
        await clickAndWait(page, page.getByRole('link', { name: 'Set up an authenticator app' }));

        await expectHeading(page, 'Set up two-factor authentication');
        await j.shot('setup');
        const uri = new URL(await readQrUri(page));
        const secret = await readQrSecret(page);
        expect(uri.searchParams.get('issuer')).to.equal('koa-two-factor example');
        expect(decodeURIComponent(uri.pathname)).to.include('alice');
        // The key for typing by hand is on screen and is the QR code's.
        const key = page.locator('#secret-key');
        expect(await key.isVisible()).to.equal(true);
        expect((await key.innerText()).replace(/\s+/g, '')).to.equal(secret);
        await page.getByText('Account: alice').waitFor();

        await submitCode(page, page.getByLabel('Enter the 6-digit code shown in the app'), await typedCode(secret, -1), page.getByRole('button', { name: 'Activate' }));
        await expectHeading(page, "You're good to go");
        await page.getByText('Two-factor authentication is now active').waitFor();
        await page.getByText('they will no longer be displayed').waitFor();
        await j.shot('done');
        const codes = page.getByRole('region', { name: 'Your backup codes' }).getByRole('listitem');
        backupCodes = (await codes.allInnerTexts()).map((c) => c.trim());
        expect(backupCodes).to.have.length(10);
        for (const c of backupCodes) expect(c).to.match(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
        expect(new Set(backupCodes).size).to.equal(10);
        expect(await page.getByRole('link', { name: 'Download as text' }).getAttribute('download')).to.equal('backup-codes.txt');

        await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
        await expectHeading(page, 'Dashboard');
        await page.getByText('Two-factor authentication is on.').waitFor();
        await j.shot('dashboard-on');

        // Shown once: the account page counts them but never shows them again.
        await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
        await expectHeading(page, 'Two-factor authentication');
        await page.getByText('10 backup codes left.').waitFor();
        const accountText = await page.locator('body').innerText();
        for (const c of backupCodes) expect(accountText).not.to.include(c);
        await j.shot('account');
        await clickAndWait(page, page.getByRole('link', { name: 'Back to the app' }));
        await expectHeading(page, 'Dashboard');

        await signOut(j);
        await signIn(j, 'alice');
        await expectHeading(page, 'Two-factor authentication');
        expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
        await expectFocusOn(page, 'code');
        await j.shot('verify');

        const { field, button } = verifyForm(page);
        await submitCode(page, field, wrongCode(secret), button);
        expect(await alertText(page)).to.equal('That code is not valid. Check your authenticator app and try again.');
        await expectHeading(page, 'Two-factor authentication');
        await j.shot('verify-wrong-code');

        await submitCode(page, verifyForm(page).field, await typedCode(secret, 0), verifyForm(page).button);
        await expectHeading(page, 'Dashboard');
        await page.getByText('Signed in as alice.').waitFor();
        await j.shot('dashboard-verified');
      });

      it('signs in with a backup code instead of a code from the app, and the code is spent', async () => {
        expect(backupCodes, 'backup codes from the enrolment journey').to.have.length(10);
        j = await startJourney(browser, 'backup-code', viewport, ex);
        const { page } = j;

        await signIn(j, 'alice');
        await expectHeading(page, 'Two-factor authentication');
        await submitCode(page, verifyForm(page).field, backupCodes[0]!, verifyForm(page).button);
        await expectHeading(page, 'Dashboard');
        await j.shot('dashboard');

        await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
        await page.getByText('9 backup codes left.').waitFor();
        await j.shot('account');

        // Signing in again with the same backup code is refused.
        await clickAndWait(page, page.getByRole('link', { name: 'Back to the app' }));
        await signOut(j);
        await signIn(j, 'alice');
        await submitCode(page, verifyForm(page).field, backupCodes[0]!, verifyForm(page).button);
        expect(await alertText(page)).to.equal('That code is not valid. Check your authenticator app and try again.');
        await j.shot('verify-spent-code');
        // Typed loosely (upper case, no hyphen) the next one works.
        await submitCode(page, verifyForm(page).field, backupCodes[1]!.replace('-', '').toUpperCase(), verifyForm(page).button);
        await expectHeading(page, 'Dashboard');
      });

      if (viewport === 'phone') {
        it('warns on the verify page once 3 or fewer backup codes are left', async () => {
          j = await startJourney(browser, 'backup-codes-low', viewport, ex);
          const { page } = j;
          // Codes 0 and 1 were spent above; 2…6 bring the count to 3.
          for (let i = 2; i <= 6; i++) {
            await signIn(j, 'alice');
            await expectHeading(page, 'Two-factor authentication');
            expect(await page.getByText(/backup codes? left/).count(), `warning with ${10 - i} left`).to.equal(0);
            await submitCode(page, verifyForm(page).field, backupCodes[i]!, verifyForm(page).button);
            await expectHeading(page, 'Dashboard');
            await signOut(j);
          }
          await signIn(j, 'alice');
          await expectHeading(page, 'Two-factor authentication');
          await page.getByText('You have 3 backup codes left.').waitFor();
          await j.shot('verify-3-left');
          await submitCode(page, verifyForm(page).field, backupCodes[7]!, verifyForm(page).button);
          await expectHeading(page, 'Dashboard');
          await signOut(j);
          await signIn(j, 'alice');
          await page.getByText('You have 2 backup codes left.').waitFor();
        });
      }
    });
  }
});
