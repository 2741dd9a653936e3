/**
 * A logged-in user whose id the gate cannot read is refused, never let
 * through (issue 10, item 2): the app's users may be Mongo-style `{ _id }`,
 * or a `getUserId` may return nothing usable. The integrator is told once,
 * in the log and in the error, to set `getUserId`.
 */
import { expect } from 'chai';
import { startCarelessApp, type CarelessApp } from '../support/careless-app.ts';
import { codeWithTimeLeft, enrol } from '../support/example-server.ts';

describe('security: a user whose id cannot be read is refused (fail closed)', () => {
  let app: CarelessApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it('users shaped { _id, username } work with the default getUserId: 2FA is enforced for them', async () => {
    app = await startCarelessApp({ sessions: 'cookie', userShape: '_id' });
    const browser = await app.login();
    const { secret } = await enrol(browser);
    await browser.get('/logout');
    await app.login(browser);
    const res = await browser.get('/app', { accept: 'json' });
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('second_factor_required');
    expect((await browser.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } })).status).to.equal(200);
    expect((await browser.get('/app', { accept: 'json' })).status).to.equal(200);
  });

  it('a user with no id at all gets 403 on every gated path, and the log says once to set getUserId', async () => {
    app = await startCarelessApp({ sessions: 'cookie', userShape: 'no-id' });
    const browser = await app.login();
    for (let i = 0; i < 3; i++) {
      const res = await browser.get('/app', { accept: 'json' });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('forbidden');
      expect(res.body.message).to.include('getUserId');
    }
    const page = await browser.get('/app', { accept: 'html' });
    expect(page.status).to.equal(403);
    expect(page.text).to.include('getUserId');
    // The 2FA routes refuse too: nothing can be enrolled under a made-up id.
    expect((await browser.post('/2fa/setup', { json: {} })).status).to.equal(403);
    expect(app.logs.filter((line) => line.includes('getUserId'))).to.have.length(1);
    // Public paths and logout still work.
    expect((await browser.get('/login')).status).to.equal(200);
    expect((await browser.get('/logout')).status).to.equal(302);
  });

  it('a getUserId that throws is refused with 403 too, not a 500', async () => {
    app = await startCarelessApp({ sessions: 'cookie', twoFactor: { getUserId: (u: { profile: { id: string } }) => u.profile.id } });
    const browser = await app.login();
    const res = await browser.get('/app', { accept: 'json' });
    expect(res.status).to.equal(403);
    expect(res.body.error).to.equal('forbidden');
  });

  for (const [label, value] of [['an empty string', ''], ['undefined', undefined], ['null', null], ['"undefined"', 'undefined'], ['a plain object', {}], ['"[object Object]"', '[object Object]'], ['NaN', Number.NaN], ['spaces', '  ']] as const) {
    it(`a getUserId that returns ${label} is refused with 403, not treated as logged out`, async () => {
      app = await startCarelessApp({ sessions: 'cookie', twoFactor: { getUserId: () => value } });
      const browser = await app.login();
      const res = await browser.get('/app', { accept: 'json' });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('forbidden');
    });
  }
});
