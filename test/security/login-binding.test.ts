/**
 * A second factor belongs to one login (issue 10, items 1–3): on an app that
 * logs out with `ctx.logout()` alone, with cookie sessions and a naive Redis
 * session store, on passport 0.6 and 0.4, a new login never inherits an
 * earlier login's verification, a copy of the session taken before logout
 * is worth nothing after it, and a request in flight at logout does not
 * write the verified session back.
 */
import { expect } from 'chai';
import { startCarelessApp, copyOf, type CarelessApp, type CarelessOptions } from '../support/careless-app.ts';
import { codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { waitUntil } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

/** A password-only session of a user with 2FA must be sent to the second factor, never served. */
async function expectNotVerified(client: HttpClient, path: string): Promise<void> {
  const res = await client.get(path, { accept: 'json' });
  expect(res.status, `${path}: ${res.text}`).not.to.equal(200);
  if (res.status === 401) expect(res.body.error).to.equal('second_factor_required');
  else expect(res.status, 'or no longer logged in at all').to.equal(302);
}

const configs: { name: string; options: Omit<CarelessOptions, 'redisUrl'>; redis: boolean }[] = [
  { name: 'cookie sessions, passport 0.6', options: { sessions: 'cookie', passport: '0.6' }, redis: false },
  { name: 'cookie sessions, passport 0.4', options: { sessions: 'cookie', passport: '0.4' }, redis: false },
  { name: 'Redis sessions, passport 0.6', options: { sessions: 'redis', passport: '0.6' }, redis: true },
  { name: 'Redis sessions, passport 0.4', options: { sessions: 'redis', passport: '0.4' }, redis: true },
];

describe('security: a second factor belongs to one login (an app that logs out with ctx.logout() only)', function () {
  this.timeout(30_000);
  let redis: RedisProcess | undefined;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });

  for (const config of configs) {
    describe(config.name, () => {
      let app: CarelessApp;
      beforeEach(async () => {
        app = await startCarelessApp({ ...config.options, redisUrl: config.redis ? redis!.url : undefined });
      });
      afterEach(async () => {
        await app.stop();
      });

      async function verifiedLogin(): Promise<{ browser: HttpClient; secret: string }> {
        const browser = await app.login();
        const { secret } = await enrol(browser);
        const ok = await browser.get('/app', { accept: 'json' });
        expect(ok.status, ok.text).to.equal(200);
        return { browser, secret };
      }

      for (const logout of ['/logout', '/signout']) {
        it(`a password-only login after GET ${logout} in the same browser is asked for the code again`, async () => {
          const { browser, secret } = await verifiedLogin();
          expect((await browser.get(logout)).status).to.equal(302);
          await app.login(browser);
          await expectNotVerified(browser, '/app');
          // The real second factor still works for the new login.
          expect((await browser.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 1) } })).status).to.equal(200);
          expect((await browser.get('/app', { accept: 'json' })).status).to.equal(200);
        });
      }

      it('a copy of the session taken before logout is not verified after it (the login ended server-side)', async () => {
        const { browser } = await verifiedLogin();
        const copy = copyOf(browser);
        await browser.get('/signout');
        await expectNotVerified(copy, '/app');
      });

      it('a request in flight at logout writes nothing back: the gate does not write the session when it only reads', async () => {
        const { browser } = await verifiedLogin();
        const copy = copyOf(browser);
        // Held inside the app's route (past the gate) until the logout is done, however slow the machine.
        const slow = copy.get('/slow?hold=1', { accept: 'json' });
        await waitUntil(async () => app.heldRequests() === 1, 10_000, 5);
        await browser.get('/logout');
        app.releaseHeld();
        const finished = await slow;
        expect(finished.status).to.equal(200);
        expect(finished.headers.getSetCookie().join('\n'), 'no session cookie written by a read-only request').not.to.include('careless.sess=');
        await expectNotVerified(copy, '/app');
      });
    });
  }
});

describe('security: an app whose getUser builds a new object on every call', () => {
  it('stays verified across requests (the gate compares user ids, not objects), and still ends at logout', async () => {
    const app = await startCarelessApp({
      sessions: 'cookie',
      twoFactor: { getUser: (ctx) => (ctx.state.user ? { ...(ctx.state.user as object) } : null) },
    });
    try {
      const browser = await app.login();
      await enrol(browser);
      for (let i = 0; i < 3; i++) expect((await browser.get('/app', { accept: 'json' })).status, `request ${i + 1}`).to.equal(200);
      await browser.get('/signout');
      await app.login(browser);
      await expectNotVerified(browser, '/app');
    } finally {
      await app.stop();
    }
  });
});

describeEachExampleApp('security: the example app (its own logout, a session store that does not resurrect)', function (kind) {
  this.timeout(30_000);
  let redis: RedisProcess | undefined;
  let ex: RunningExample | undefined;
  before(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await ex?.stop();
    ex = undefined;
  });
  after(async () => {
    await redis?.stop();
  });

  for (const backend of ['in-memory stores', 'Redis'] as const) {
    it(`${backend}: logout, then a password-only login, then a copy of the old session: neither is verified`, async () => {
      ex = await startExample(backend === 'Redis' ? { redisUrl: redis!.url } : {}, kind);
      const browser = await ex.login('alice');
      const { secret } = await enrol(browser);
      const copy = copyOf(browser);
      const slow = copy.get('/2fa/verify', { accept: 'json' });
      expect((await browser.post('/logout', { json: {} })).status).to.equal(200);
      await slow;
      await ex.login('alice').then(async (again) => {
        await expectNotVerified(again, '/dashboard');
        expect((await again.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 1) } })).status).to.equal(200);
      });
      await expectNotVerified(copy, '/dashboard');
    });
  }
});
