/**
 * Page quality across every page of the example app, on a phone (375 px):
 * code fields a phone fills well, no-store and CSP headers, nothing fetched
 * from another host, no sideways scrolling. One tour visits every page; the
 * checks then read what it measured.
 */
import { expect } from 'chai';
import type { Browser } from 'playwright-core';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { BROWSER_TEST_TIMEOUT_MS, foreignRequests, acquireBrowser, releaseBrowser, readQrSecret, startJourney, typedCode, type Journey, type PageFacts } from '../support/browser.ts';
import { clickAndWait, expectHeading, signIn, signOut, submitCode, verifyForm } from './flows.ts';

describeEachExampleApp('browser: page quality on a phone', function (kind) {
  this.timeout(BROWSER_TEST_TIMEOUT_MS);
  let browser: Browser;
  let ex: RunningExample;
  const journeys: Journey[] = [];
  const pages = (): PageFacts[] => journeys.flatMap((j) => j.pages);
  const page = (name: string): PageFacts => {
    const found = pages().find((p) => p.name === name);
    if (!found) throw new Error(`the tour did not visit ${name}`);
    return found;
  };

  before(async function () {
    [browser, ex] = await Promise.all([acquireBrowser(), startExample({}, kind)]);
    const j = await startJourney(browser, 'tour', 'phone', ex);
    journeys.push(j);
    const p = j.page;
    await signIn(j, 'alice', 'login');
    await expectHeading(p, 'Dashboard');
    await j.shot('dashboard');
    await clickAndWait(p, p.getByRole('link', { name: 'Take control' }));
    await expectHeading(p, 'Two-factor authentication needed');
    await j.shot('setup-required');
    await clickAndWait(p, p.getByRole('link', { name: 'Activate now' }));
    await expectHeading(p, 'Set up two-factor authentication');
    await j.shot('setup');
    const secret = await readQrSecret(p);
    await submitCode(p, p.getByLabel('Enter the 6-digit code shown in the app'), await typedCode(secret, -1), p.getByRole('button', { name: 'Activate' }));
    await expectHeading(p, "You're good to go");
    await j.shot('setup-done');
    await clickAndWait(p, p.getByRole('link', { name: 'Continue' }));
    await expectHeading(p, 'Take control');
    await j.shot('take-control');
    await clickAndWait(p, p.getByRole('button', { name: 'Start the session' }));
    await expectHeading(p, 'Remote session started');
    await j.shot('take-control-started');
    await p.goto('/2fa');
    await expectHeading(p, 'Two-factor authentication');
    await j.shot('account');
    const backup = p.getByRole('region', { name: 'Backup codes' });
    await submitCode(p, backup.getByLabel('Code to generate new backup codes'), await typedCode(secret, 0), backup.getByRole('button', { name: 'Generate new backup codes' }));
    await expectHeading(p, 'Your new backup codes');
    await j.shot('backup-codes');
    await p.goto('/2fa/step-up');
    await expectHeading(p, "Confirm it's you");
    await j.shot('step-up');
    await p.goto('/dashboard');
    await signOut(j);
    await signIn(j, 'alice');
    await expectHeading(p, 'Two-factor authentication');
    await j.shot('verify');
    await submitCode(p, verifyForm(p).field, await typedCode(secret, 1), verifyForm(p).button);
    await expectHeading(p, 'Dashboard');

    const admin = await startJourney(browser, 'tour-admin', 'phone', ex);
    journeys.push(admin);
    await signIn(admin, 'admin');
    await admin.page.goto('/2fa/admin/users');
    await expectHeading(admin.page, 'Two-factor policy');
    await admin.shot('admin-users');
  });
  after(async () => {
    await Promise.all(journeys.map((j) => j.close()));
    await releaseBrowser();
    await ex?.stop();
  });

  it('visited every page', () => {
    expect(pages().map((p) => p.name)).to.include.members([
      'login', 'dashboard', 'setup-required', 'setup', 'setup-done', 'take-control', 'take-control-started',
      'account', 'backup-codes', 'step-up', 'verify', 'admin-users',
    ]);
  });

  it('asks for a code only through labelled fields with autocomplete="one-time-code" and inputmode="numeric"', () => {
    for (const name of ['setup', 'verify', 'step-up', 'account']) {
      expect(page(name).codeFields, `${name} asks for a code`).to.have.length.of.at.least(1);
    }
    for (const p of pages()) {
      for (const f of p.codeFields) {
        expect(f.label, `${p.name} #${f.id} label`).to.match(/\S/);
        expect(f.autocomplete, `${p.name} #${f.id} autocomplete`).to.equal('one-time-code');
        expect(f.inputmode, `${p.name} #${f.id} inputmode`).to.equal('numeric');
      }
    }
  });

  it('answers every 2FA page with Cache-Control: no-store', () => {
    const twoFactorPages = pages().filter((p) => new URL(p.url).pathname.startsWith('/2fa') || p.name === 'setup-required');
    expect(twoFactorPages).to.have.length.of.at.least(8);
    for (const p of twoFactorPages) {
      expect(p.document, `${p.name}: its document answer was recorded`).to.not.equal(undefined);
      expect(p.document!.headers['cache-control'], `${p.name} Cache-Control`).to.equal('no-store');
    }
  });

  it('sends a Content-Security-Policy with every HTML page, redirects included', () => {
    const documents = journeys.flatMap((j) => j.documents);
    expect(documents).to.have.length.of.at.least(15);
    for (const d of documents) {
      if (!(d.headers['content-type'] ?? '').includes('text/html')) continue;
      const csp = d.headers['content-security-policy'] ?? '';
      expect(csp, `${d.status} ${d.url} CSP`).to.include("default-src 'none'");
    }
  });

  it('makes no request to any host but the app\'s', () => {
    const host = new URL(ex.url).host;
    for (const j of journeys) {
      expect(j.requests.length).to.be.greaterThan(0);
      expect(foreignRequests(j), j.name).to.deep.equal([]);
      for (const u of j.requests) expect(new URL(u).host, u).to.equal(host);
    }
  });

  it('never scrolls sideways at 375 px', () => {
    for (const p of pages()) {
      expect(p.viewportWidth).to.equal(375);
      expect(p.scrollWidth, `${p.name} scrollWidth`).to.be.at.most(375);
    }
  });
});
