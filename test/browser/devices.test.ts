/**
 * A person with one authenticator app adds a second one from the account
 * page; both are listed, and renaming tells them apart.
 */
import { expect } from 'chai';
import { BROWSER_TEST_TIMEOUT_MS, foreignRequests, pageJourney } from '../support/browser.ts';
import { describeEachExampleApp } from '../support/example-server.ts';
import { browserSuite, clickAndWait, enrolFromDashboard, expectHeading, linkFromSetupPage, signIn } from './flows.ts';

describeEachExampleApp('browser: a second authenticator app', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  const suite = browserSuite(kind);

  pageJourney(kind)('adds one from the account page and lists both devices', async () => {
    const j = await suite.journey('second-device', 'desktop');
    const { page } = j;
    await signIn(j, 'alice');
    const first = await enrolFromDashboard(j);

    await clickAndWait(page, page.getByRole('link', { name: 'Manage two-factor authentication' }));
    await expectHeading(page, 'Two-factor authentication');
    const devices = page.getByRole('region', { name: 'Authenticator apps' }).getByRole('listitem');
    expect(await devices.count()).to.equal(1);
    await j.shot('account-one-device');

    await page.getByLabel("Name of the new app's device").fill('Tablet');
    await clickAndWait(page, page.getByRole('button', { name: '+ Add another authenticator app' }));
    const second = await linkFromSetupPage(j, 'second-setup');
    expect(second.secret).not.to.equal(first.secret);
    // Backup codes come with the first device only.
    expect(second.backupCodes).to.deep.equal([]);
    expect(await page.getByRole('region', { name: 'Your backup codes' }).count()).to.equal(0);
    await page.getByText('Two-factor authentication is now active for Tablet.').waitFor();

    // Continue leads back to the account page the user came from.
    await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
    await expectHeading(page, 'Two-factor authentication');
    expect(await devices.count()).to.equal(2);
    expect(await devices.getByRole('heading', { level: 3 }).allInnerTexts()).to.deep.equal(['Authenticator', 'Tablet']);
    await j.shot('account-two-devices');

    await devices.nth(1).getByLabel('New name for Tablet').fill('Office PC');
    await clickAndWait(page, devices.nth(1).getByRole('button', { name: 'Rename' }));
    await page.getByRole('status').filter({ hasText: 'The authenticator was renamed.' }).waitFor();
    expect(await devices.getByRole('heading', { level: 3 }).allInnerTexts()).to.deep.equal(['Authenticator', 'Office PC']);
    await j.shot('account-renamed');
    expect(foreignRequests(j)).to.deep.equal([]);
  });
});
