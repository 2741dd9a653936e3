/**
 * Privileged actions behind `requireStepUp` are protected against
 * cross-site requests (issue 10, item 4): the example's "take control"
 * refuses a cross-origin form, a `text/plain` post with `Origin: null`, a
 * wrong or foreign token and a cross-site JSON request with `csrf_failed`,
 * and starts nothing; its own form (with the token) and a same-origin JSON
 * request still work.
 */
import { expect } from 'chai';
import { enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { rawPost } from '../support/parallel.ts';
import { csrfOf, sessionCsrf } from '../policy/helpers.ts';

const ACTION = '/remote/take-control';

describeEachExampleApp('security: requireStepUp refuses cross-site requests to the privileged action', (kind) => {
  let ex: RunningExample;
  let alice: HttpClient;
  before(async () => {
    ex = await startExample({}, kind);
    alice = await ex.login('alice');
    await enrol(alice);
  });
  after(async () => {
    await ex.stop();
  });

  function expectRefused(res: { status: number; text: string; body: any }, label: string): void {
    expect(res.status, label).to.equal(403);
    expect(res.text, label).not.to.include('started');
    expect(res.text, label).not.to.include('Remote session started');
  }

  it('a cross-origin form post (no token) is refused with csrf_failed', async () => {
    const res = await alice.post(ACTION, { form: {}, accept: 'json', headers: { origin: 'http://evil.example' } });
    expectRefused(res, 'cross-origin form');
    expect(res.body.error).to.equal('csrf_failed');
    const page = await alice.post(ACTION, { form: {}, headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expectRefused(page, 'cross-origin form, browser');
  });

  it('a text/plain post with Origin: null is refused', async () => {
    const res = await rawPost(alice, ACTION, 'text/plain', '{"x":1}');
    expectRefused(res, 'text/plain');
    const nullOrigin = await alice.post(ACTION, { form: 'a=1', accept: 'json', headers: { origin: 'null' } });
    expectRefused(nullOrigin, 'Origin: null');
    expect(nullOrigin.body.error).to.equal('csrf_failed');
  });

  it('a wrong token, or another session\'s token, is refused', async () => {
    const bob = await ex.login('bob');
    for (const [label, token] of [['wrong', 'x'.repeat(32)], ["bob's", await sessionCsrf(bob)]] as const) {
      const form = await alice.post(ACTION, { form: { _csrf: token }, accept: 'json' });
      expectRefused(form, `${label} token in the form`);
      expect(form.body.error).to.equal('csrf_failed');
      const header = await alice.post(ACTION, { json: {}, headers: { 'x-csrf-token': token } });
      expectRefused(header, `${label} token in the header`);
    }
  });

  it('a JSON request from another site (Origin or Sec-Fetch-Site) is refused', async () => {
    for (const headers of [{ origin: 'http://evil.example' }, { 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }]) {
      const res = await alice.post(ACTION, { json: {}, headers });
      expectRefused(res, JSON.stringify(headers));
      expect(res.body.error).to.equal('csrf_failed');
    }
  });

  it('the page\'s own form (with its token) and a same-origin JSON request start the session', async () => {
    const page = await alice.get(ACTION, { accept: 'html' });
    expect(page.status).to.equal(200);
    const form = await alice.post(ACTION, { form: { _csrf: csrfOf(page.text) } });
    expect(form.status).to.equal(200);
    expect(form.text).to.include('Remote session started');
    const json = await alice.post(ACTION, { json: {}, headers: { origin: ex.url, 'sec-fetch-site': 'same-origin' } });
    expect(json.status).to.equal(200);
    expect(json.body.started).to.equal(true);
  });
});
