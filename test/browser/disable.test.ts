/**
 * Turning two-factor authentication off from the account page, confirmed
 * with a code.
 */
import { expect } from 'chai';
import { BROWSER_TEST_TIMEOUT_MS, foreignRequests, typedCode, wrongCode, pageJourney } from '../support/browser.ts';
import { describeEachExampleApp } from '../support/example-server.ts';
import { browserSuite, alertText, clickAndWait, enrolFromDashboard, expectHeading, signIn, signOut, submitCode } from './flows.ts';

describeEachExampleApp('browser: turning two-factor authentication off', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  const suite = browserSuite(kind);

  pageJourney(kind)('turns it off with a code; the next login asks for none', async () => {
    const j = await suite.journey('disable', 'desktop');
    const { page } = j;
    await signIn(j, 'alice');
    const { secret } = await enrolFromDashboard(j);
    await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
    await expectHeading(page, 'Two-factor authentication');

    const section = page.getByRole('region', { name: 'Turn off two-factor authentication' });
    await submitCode(page, section.getByLabel('Code to turn off two-factor authentication'), wrongCode(secret), section.getByRole('button', { name: 'Turn off' }));
    expect(await alertText(page)).to.equal('That code is not valid. Check your authenticator app and try again.');
    expect(await page.getByRole('region', { name: 'Authenticator apps' }).getByRole('listitem').count()).to.equal(1);
    await j.shot('account-wrong-code');

    await submitCode(page, section.getByLabel('Code to turn off two-factor authentication'), await typedCode(secret, 0), section.getByRole('button', { name: 'Turn off' }));
    await expectHeading(page, 'Two-factor authentication');
    expect(await page.getByRole('status').innerText()).to.equal('Two-factor authentication is now off.');
    await page.getByText('Two-factor authentication is off.').waitFor();
    expect(await page.getByRole('link', { name: 'Set up an authenticator app' }).isVisible()).to.equal(true);
    await j.shot('account-off');

    // The notice is shown once.
    await page.reload();
    expect(await page.getByRole('status').count()).to.equal(0);

    await clickAndWait(page, page.getByRole('link', { name: 'Back to the app' }));
    await page.getByText('Two-factor authentication is off.').waitFor();
    await signOut(j);
    await signIn(j, 'alice');
    await expectHeading(page, 'Dashboard');
    expect(foreignRequests(j)).to.deep.equal([]);
  });
});
