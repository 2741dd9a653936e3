/**
 * Users as Express apps keep them: Mongo-style `_id` works out of the box,
 * and a logged-in user whose id cannot be read is refused (403) on every
 * gated path, the 2FA routes and the privileged action, never let through
 * and never a 500 (Express 5 and 4).
 */
import { expect } from 'chai';
import { currentCode, enrolOverJson, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';

for (const major of [5, 4] as const) {
  describe(`Express ${major} adapter: user ids`, () => {
    let app: CarelessExpressApp | undefined;
    afterEach(async () => {
      expect(app?.unhandled, 'errors left to Express (500s)').to.deep.equal([]);
      await app?.stop();
      app = undefined;
    });

    it('a user keyed `_id` links an authenticator, passes the gate with a code and is held back without one', async () => {
      app = await startCarelessExpressApp({ express: major, userShape: '_id' });
      const { secret } = await enrolOverJson(await app.login());
      const half = await app.login();
      expect((await half.get('/app')).status).to.equal(401);
      const ok = await half.post('/2fa/verify', { json: { code: await currentCode(secret) } });
      expect(ok.status, ok.text).to.equal(200);
      expect((await half.get('/app')).body).to.deep.equal({ secret: 'the app', user: 'carol' });
      expect((await half.get('/remote/take-control', { accept: 'html' })).status).to.equal(200);
    });

    it('a user with no usable id is refused 403 on gated paths, the 2FA routes and the privileged action', async () => {
      app = await startCarelessExpressApp({ express: major, userShape: 'no-id' });
      const client = await app.login();
      for (const path of ['/app', '/slow', '/2fa', '/remote/take-control']) {
        const json = await client.get(path);
        expect(json.status, `${path}: ${json.text}`).to.equal(403);
        expect(json.body.error).to.equal('forbidden');
        const page = await client.get(path, { accept: 'html' });
        expect(page.status, path).to.equal(403);
        expect(page.headers.get('content-type')).to.match(/^text\/html/);
      }
      const setup = await client.post('/2fa/setup', { json: { name: 'x' } });
      expect(setup.status).to.equal(403);
      const action = await client.post('/remote/take-control', { json: {} });
      expect(action.status).to.equal(403);
      // Public paths and logout stay reachable; the reason is logged once.
      expect((await client.get('/', { accept: 'html' })).status).to.equal(200);
      expect(app.logs.filter((l) => l.includes('no usable id'))).to.have.length(1);
      expect((await client.get('/logout', { accept: 'html' })).status).to.equal(302);
      expect((await client.get('/app', { accept: 'html' })).headers.get('location')).to.equal('/login');
    });

    it('a getUserId that throws on an odd user is a 403, not a 500', async () => {
      app = await startCarelessExpressApp({
        express: major,
        twoFactor: { getUserId: (u: { accountId: { toHexString(): string } }) => u.accountId.toHexString() },
      });
      const client = await app.login();
      const res = await client.get('/app');
      expect(res.status, res.text).to.equal(403);
      expect(res.body.error).to.equal('forbidden');
    });
  });
}
