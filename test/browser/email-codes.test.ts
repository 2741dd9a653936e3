/**
 * A sign-in code by email, in a real browser, on the example apps sending
 * over SMTP to a mail server in the test process: a person with an
 * authenticator app but without their phone asks for a code on the verify
 * page, reads it from the email and signs in with it — with and without
 * JavaScript. The step-up page does not offer email (an inbox is a weaker
 * factor than a device), and "Activate now" says where the confirmation goes.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { BROWSER_TEST_TIMEOUT_MS, foreignRequests, acquireBrowser, releaseBrowser, startJourney, typedCode, type Journey, type Viewport, viewportsFor, pageJourney } from '../support/browser.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { codeIn, startSmtpCapture, type CapturedMessage, type SmtpCapture } from '../support/smtp-capture.ts';
import { clickAndWait, enrolFromDashboard, expectHeading, linkFromSetupPage, signIn, signOut, submitCode, verifyForm } from './flows.ts';

/** maxAge of "Take control" in the step-up journey; staleness comes from moving the server's clock past it. */
const MAX_AGE_MS = 60_000;

const EMAIL_ME = 'Email me a code instead';

/** The example's users' addresses (examples/basic/users.ts) and how the pages show them. */
const ADDRESS = { alice: 'alice@example.test', admin: 'admin@example.test' } as const;
const MASKED = { alice: 'a***@example.test', admin: 'a***@example.test' } as const;

/** The journeys of the sign-in: at both widths with JavaScript, and on a desktop browser without it. */
const SIGN_IN_JOURNEYS: { viewport: Viewport; javaScript: boolean }[] = [
  { viewport: 'desktop', javaScript: true },
  { viewport: 'phone', javaScript: true },
  { viewport: 'desktop', javaScript: false },
];

describeEachExampleApp('browser: a sign-in code by email', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  let browser: Browser;
  let smtp: SmtpCapture;
  let ex: RunningExample | undefined;
  let j: Journey | undefined;
  before(async () => {
    [browser, smtp] = await Promise.all([acquireBrowser(), startSmtpCapture()]);
  });
  /** A fresh example app (users without 2FA) emailing over SMTP to this file's mail server. */
  async function app(takeControlMaxAgeMs?: number): Promise<RunningExample> {
    smtp.messages.length = 0;
    ex = await startExample({ email: { smtpUrl: smtp.url }, takeControlMaxAgeMs }, kind);
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
  after(async () => {
    await releaseBrowser();
    await smtp?.stop();
  });

  /** The next message to `address` whose subject matches: notices go out beside the page's answer, in their own time. */
  async function nextMessage(address: string, subject: RegExp): Promise<CapturedMessage> {
    for (let i = 0; ; i++) {
      const message = await smtp.nextTo(address, i);
      if (subject.test(message.subject)) return message;
    }
  }

  for (const { viewport, javaScript } of SIGN_IN_JOURNEYS.filter((j) => viewportsFor(kind).includes(j.viewport))) {
    const how = `${viewport}${javaScript ? '' : ', without JavaScript'}`;
    it(`signs in with a code asked for on the verify page and read from the email (${how})`, async () => {
      j = await startJourney(browser, javaScript ? 'email-code' : 'email-code-no-js', viewport, await app(), { javaScriptEnabled: javaScript });
      const { page } = j;
      await signIn(j, 'alice');
      await enrolFromDashboard(j);
      const activated = await nextMessage(ADDRESS.alice, /security change/);
      expect(activated.text).to.include('Two-factor authentication was turned on for your account.');
      await signOut(j);

      await signIn(j, 'alice');
      await expectHeading(page, 'Two-factor authentication');
      expect(new URL(page.url()).pathname).to.equal('/2fa/verify');
      await page.getByText(`We'll send a code to ${MASKED.alice}.`).waitFor();
      const emailMe = page.getByRole('button', { name: EMAIL_ME });
      expect(await emailMe.isVisible()).to.equal(true);
      // The code form stays first: the app is still the way in.
      expect(await verifyForm(page).field.isVisible()).to.equal(true);
      await j.shot('verify');

      const codesBefore = smtp.messages.filter((m) => m.to.includes(ADDRESS.alice) && /sign-in code/.test(m.subject)).length;
      await clickAndWait(page, emailMe);
      await expectHeading(page, 'Two-factor authentication');
      const back = new URL(page.url());
      expect(back.pathname).to.equal('/2fa/verify');
      expect(back.searchParams.get('returnTo')).to.equal('/dashboard');
      expect((await page.getByRole('status').innerText()).trim()).to.equal(`We sent a code to ${MASKED.alice}. It works once, for a few minutes.`);
      await j.shot('code-sent');

      const message = await nextMessage(ADDRESS.alice, /sign-in code/);
      expect(smtp.messages.filter((m) => m.to.includes(ADDRESS.alice) && /sign-in code/.test(m.subject))).to.have.length(codesBefore + 1);
      expect(message.subject).to.equal('koa-two-factor example: your sign-in code');
      expect(message.from).to.equal('security@example.test');
      await submitCode(page, verifyForm(page).field, codeIn(message), verifyForm(page).button);
      await expectHeading(page, 'Dashboard');
      expect(new URL(page.url()).pathname).to.equal('/dashboard');
      await j.shot('dashboard');
      // Only alice was written to.
      expect(smtp.messages.flatMap((m) => m.to)).to.satisfy((to: string[]) => to.every((a) => a === ADDRESS.alice));
    });
  }

  pageJourney(kind)(`does not offer email on the step-up page (2FA passed longer ago than maxAge, ${MAX_AGE_MS / 1000} s)`, async () => {
    j = await startJourney(browser, 'email-code-step-up', 'desktop', await app(MAX_AGE_MS));
    const { page } = j;
    await signIn(j, 'alice');
    const { secret } = await enrolFromDashboard(j);
    advanceClock(MAX_AGE_MS + 1_000);

    await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
    await expectHeading(page, "Confirm it's you");
    expect(new URL(page.url()).pathname).to.equal('/2fa/step-up');
    expect(await page.getByRole('button', { name: EMAIL_ME }).count()).to.equal(0);
    expect(await page.getByText(/email/i).count()).to.equal(0);
    await j.shot('confirm');

    await submitCode(page, verifyForm(page).field, await typedCode(secret, 0), verifyForm(page).button);
    await expectHeading(page, 'Take control');
  });

  pageJourney(kind)('says on "Two-factor authentication needed" where the confirmation goes, and sends it there once it is on', async () => {
    j = await startJourney(browser, 'email-activate-now', 'desktop', await app());
    const { page } = j;
    await signIn(j, 'admin');
    await expectHeading(page, 'Dashboard');
    await clickAndWait(page, page.getByRole('link', { name: 'Take control' }));
    await expectHeading(page, 'Two-factor authentication needed');
    await page.getByText(`Once it is on, we'll email a confirmation to ${ADDRESS.admin}.`).waitFor();
    await j.shot('activate');

    await clickAndWait(page, page.getByRole('link', { name: 'Activate now' }));
    await linkFromSetupPage(j, 'setup');
    const activated = await nextMessage(ADDRESS.admin, /security change/);
    expect(activated.text).to.include('Two-factor authentication was turned on for your account.');
  });
});
