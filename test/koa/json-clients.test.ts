/**
 * Content negotiation for clients that send JSON without asking for it by
 * name (curl, scripts: `Accept: *\/*`): they get JSON answers, not an HTML
 * page or a redirect; one that sends JSON but asks for HTML gets HTML.
 */
import { expect } from 'chai';
import { startMiniApp, type MiniApp } from '../support/mini-app.ts';

describe('koa: JSON clients without an explicit Accept get JSON', () => {
  let app: MiniApp;
  before(async () => { app = await startMiniApp(); });
  after(async () => { await app?.stop(); });

  it('a JSON POST with Accept: */* gets a JSON error; with Accept: text/html, an HTML page', async () => {
    const alice = await app.login('alice');
    const json = await alice.post('/2fa/setup', { json: { name: 'Phone' }, headers: { accept: '*/*', 'x-csrf-token': 'wrong' } });
    expect(json.status).to.equal(403);
    expect(json.headers.get('content-type')).to.match(/^application\/json/);
    expect(json.body.error).to.equal('csrf_failed');
    const html = await alice.post('/2fa/setup', { json: { name: 'Phone' }, headers: { accept: 'text/html, */*', 'x-csrf-token': 'wrong' } });
    expect(html.status).to.equal(403);
    expect(html.headers.get('content-type')).to.match(/^text\/html/);
  });

  it('a JSON POST with no Accept header at all gets JSON', async () => {
    const bob = await app.login('bob');
    const res = await fetch(`${app.url}/2fa/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': 'wrong', cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: '{}',
    });
    expect(res.status).to.equal(403);
    expect(res.headers.get('content-type')).to.match(/^application\/json/);
  });
});
