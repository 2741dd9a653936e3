/**
 * The privileged action behind `requireStepUp`: "Take control" of a remote
 * session. Without 2FA the person is offered "Activate now / later" and comes
 * back to the action after setup; with 2FA older than `maxAge` they confirm
 * with a code first.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { viewportsFor, BROWSER_TEST_TIMEOUT_MS, expectFocusOn, foreignRequests, acquireBrowser, releaseBrowser, startJourney, typedCode, type Journey, pageJourney } from '../support/browser.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { clickAndWait, enrolFromDashboard, expectHeading, linkFromSetupPage, signIn, submitCode, verifyForm } from './flows.ts';

/**
 * maxAge of the action: a machine is never slow enough to leave it between
 * two clicks; staleness comes from moving the server's clock past it.
 */
const MAX_AGE_MS = 60_000;

describeEachExampleApp('browser: take control of a remote session', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  let browser: Browser;
  let j: Journey | undefined;
  before(async () => { browser = await acquireBrowser(); });
  afterEach(async () => {
    if (j) expect(foreignRequests(j), 'requests to other hosts').to.deep.equal([]);
    await j?.close();
    j = undefined;
  });
  after(async () => { await releaseBrowser(); });

  for (const viewport of viewportsFor(kind)) {
    describe(`without 2FA, at ${viewport} width`, () => {
      let ex: RunningExample;
      before(async () => { ex = await startExample({}, kind); });
      after(async () => { await ex?.stop(); });

      pageJourney(kind)('offers "Activate later", which leads back to the dashboard', async () => {
        j = await startJourney(browser, 'take-control-later', viewport, ex);
        const { page } = j;
        await signIn(j, 'bob');
        await expectHeading(page, 'Dashboard');
        await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
        await expectHeading(page, 'Two-factor authentication needed');
        await clickAndWait(page, page.getByRole('link', { name: 'Activate later' }));
        await expectHeading(page, 'Dashboard');
      });

      it('offers "Activate now", links an app and comes back to start the session', async () => {
        j = await startJourney(browser, 'take-control', viewport, ex);
        const { page } = j;
        await signIn(j, 'alice');
        await expectHeading(page, 'Dashboard');
        await j.shot('dashboard');

        await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
        await expectHeading(page, 'Two-factor authentication needed');
        await page.getByText('Taking control of a remote session needs two-factor authentication.').waitFor();
        expect(await page.getByRole('link', { name: 'Activate now' }).isVisible()).to.equal(true);
        expect(await page.getByRole('link', { name: 'Activate later' }).isVisible()).to.equal(true);
        await j.shot('activate');

        await clickAndWait(page, page.getByRole('link', { name: 'Activate now' }));
        const { backupCodes } = await linkFromSetupPage(j, 'setup');
        expect(backupCodes).to.have.length(10);

        await clickAndWait(page, page.getByRole('link', { name: 'Continue' }));
        await expectHeading(page, 'Take control');
        expect(new URL(page.url()).pathname).to.equal('/remote/take-control');
        await j.shot('take-control');

        await clickAndWait(page, page.getByRole('button', { name: 'Start the session' }));
        await expectHeading(page, 'Remote session started');
        expect(await page.getByRole('status').innerText()).to.match(/^You \(alice\) are now in control of remote session [0-9a-f]{16}\.$/);
        await j.shot('started');
      });
    });
  }

  describe(`with 2FA passed longer ago than maxAge (${MAX_AGE_MS / 1000} s, the server's clock moved past it)`, () => {
    let ex: RunningExample;
    before(async () => { ex = await startExample({ takeControlMaxAgeMs: MAX_AGE_MS }, kind); });
    // The clock only moves forward while this app runs (see test/support/clock.ts).
    after(async () => {
      resetClock();
      await ex?.stop();
    });

    for (const viewport of viewportsFor(kind)) {
      it(`asks "Confirm it's you", then goes back to the action (${viewport})`, async () => {
        j = await startJourney(browser, 'step-up', viewport, ex);
        const { page } = j;
        const user = viewport === 'desktop' ? 'alice' : 'bob';
        await signIn(j, user);
        const { secret } = await enrolFromDashboard(j);
        advanceClock(MAX_AGE_MS + 1_000);

        await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
        await expectHeading(page, "Confirm it's you");
        expect(new URL(page.url()).pathname).to.equal('/2fa/step-up');
        await expectFocusOn(page, 'code');
        await j.shot('confirm');

        await submitCode(page, verifyForm(page).field, await typedCode(secret, 0), verifyForm(page).button);
        await expectHeading(page, 'Take control');
        expect(new URL(page.url()).pathname).to.equal('/remote/take-control');
        await j.shot('take-control');
        await clickAndWait(page, page.getByRole('button', { name: 'Start the session' }));
        await expectHeading(page, 'Remote session started');
        await j.shot('started');
      });
    }

    it('asks again when the form is sent after maxAge, then returns to the take-control page', async () => {
      j = await startJourney(browser, 'step-up-post', 'desktop', ex);
      const { page } = j;
      await signIn(j, 'admin');
      const { secret } = await enrolFromDashboard(j);
      await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
      await expectHeading(page, 'Take control');
      advanceClock(MAX_AGE_MS + 1_000);

      // The form post cannot be replayed: confirm, then back on the page it came from.
      await clickAndWait(page, page.getByRole('button', { name: 'Start the session' }));
      await expectHeading(page, "Confirm it's you");
      await submitCode(page, verifyForm(page).field, await typedCode(secret, 0), verifyForm(page).button);
      await expectHeading(page, 'Take control');
      await clickAndWait(page, page.getByRole('button', { name: 'Start the session' }));
      await expectHeading(page, 'Remote session started');
    });
  });
});
