/**
 * Five wrong codes lock the account's second factor; the page says how long
 * to wait, and even the right code is refused meanwhile.
 */
import { expect } from 'chai';
import { BROWSER_TEST_TIMEOUT_MS, foreignRequests, typedCode, wrongCode, pageJourney } from '../support/browser.ts';
import { describeEachExampleApp } from '../support/example-server.ts';
import { browserSuite, alertText, enrolFromDashboard, expectHeading, signIn, signOut, submitCode, verifyForm } from './flows.ts';

describeEachExampleApp('browser: lockout after wrong codes', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  const suite = browserSuite(kind);

  pageJourney(kind)('shows the wait time ("Try again in …") once 5 wrong codes were sent', async () => {
    const j = await suite.journey('lockout', 'phone');
    const { page } = j;
    await signIn(j, 'alice');
    const { secret } = await enrolFromDashboard(j);
    await signOut(j);
    await signIn(j, 'alice');
    await expectHeading(page, 'Two-factor authentication');

    for (let i = 1; i <= 5; i++) {
      await submitCode(page, verifyForm(page).field, wrongCode(secret, i), verifyForm(page).button);
      const text = await alertText(page);
      // The fifth is wrong like the others, and says the wait it starts.
      expect(text, `after wrong code ${i}`).to.equal(i < 5
        ? 'That code is not valid. Check your authenticator app and try again.'
        : 'That code is not valid. Check your authenticator app and try again. Too many failed attempts: wait before trying again. Try again in 15 minutes.');
    }
    await j.shot('verify-5-wrong');

    // The next attempt, even with the right code, is refused with the wait time.
    await submitCode(page, verifyForm(page).field, await typedCode(secret, 0), verifyForm(page).button);
    await expectHeading(page, 'Two-factor authentication');
    expect(await alertText(page)).to.equal('Too many failed attempts. Wait before trying again. Try again in 15 minutes.');
    await j.shot('verify-locked');
    expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
    expect(foreignRequests(j)).to.deep.equal([]);
  });
});
