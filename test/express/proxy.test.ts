/**
 * `app.set('trust proxy', true)` makes `req.ip` the leftmost X-Forwarded-For
 * entry, which any client sets: the per-IP limit could be dodged. The gate
 * says so, once; a hop count says nothing (Express 5 and 4). Behind a
 * trusted proxy, the same-origin check of JSON requests compares the
 * browser's Origin with the origin the proxy forwarded (protocol and host),
 * as the Koa adapter does with `app.proxy`.
 */
import { expect } from 'chai';
import { startCarelessApp } from '../support/careless-app.ts';
import { startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';

/** What a proxy in front of the app adds when the browser is on https://app.example. */
const BEHIND_PROXY = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example', 'x-forwarded-for': '203.0.113.7' };
const SAME_ORIGIN_JSON = { origin: 'https://app.example', 'sec-fetch-site': 'same-origin' };

for (const major of [5, 4] as const) {
  describe(`Express ${major} adapter: trust proxy`, () => {
    let app: CarelessExpressApp | undefined;
    afterEach(async () => {
      await app?.stop();
      app = undefined;
    });

    const warnings = (a: CarelessExpressApp) => a.logs.filter((l) => l.includes("'trust proxy'"));

    it("warns once when 'trust proxy' is true", async () => {
      app = await startCarelessExpressApp({ express: major, trustProxy: true });
      const c = app.client();
      for (let i = 0; i < 3; i++) await c.get('/', { headers: { 'x-forwarded-for': `203.0.113.${i}` } });
      await app.login();
      expect(warnings(app)).to.have.length(1);
      expect(warnings(app)[0]).to.include('X-Forwarded-For');
    });

    for (const setting of [1, 'loopback'] as const) {
      it(`says nothing with 'trust proxy' = ${JSON.stringify(setting)}`, async () => {
        app = await startCarelessExpressApp({ express: major, trustProxy: setting });
        await app.client().get('/', { headers: { 'x-forwarded-for': '203.0.113.9' } });
        expect(warnings(app)).to.deep.equal([]);
      });
    }

    it('says nothing without a proxy setting', async () => {
      app = await startCarelessExpressApp({ express: major });
      await app.client().get('/');
      expect(warnings(app)).to.deep.equal([]);
    });

    it('behind a trusted proxy, a same-origin JSON request passes the CSRF check (X-Forwarded-Host), as on Koa', async () => {
      const koa = await startCarelessApp({ sessions: 'cookie', proxy: true, twoFactor: { logger: () => {} } });
      app = await startCarelessExpressApp({ express: major, trustProxy: 1 });
      try {
        const onKoa = await (await koa.login()).post('/2fa/setup', { json: { name: 'Phone' }, headers: { ...BEHIND_PROXY, ...SAME_ORIGIN_JSON } });
        expect(onKoa.status, `Koa: ${onKoa.text}`).to.equal(201);
        const onExpress = await (await app.login()).post('/2fa/setup', { json: { name: 'Phone' }, headers: { ...BEHIND_PROXY, ...SAME_ORIGIN_JSON } });
        expect(onExpress.status, `Express: ${onExpress.text}`).to.equal(201);
      } finally {
        await koa.stop();
      }
    });

    it('without a proxy setting, a forwarded host is not believed: a foreign Origin that matches it is refused', async () => {
      app = await startCarelessExpressApp({ express: major });
      const res = await (await app.login()).post('/2fa/setup', { json: { name: 'Phone' }, headers: { ...BEHIND_PROXY, ...SAME_ORIGIN_JSON } });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('csrf_failed');
    });
  });
}
