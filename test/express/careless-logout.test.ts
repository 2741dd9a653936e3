/**
 * A second factor belongs to one login, whatever the Express app does at
 * logout. The app logs out with `req.logout(cb)` alone (no
 * `req.session.destroy()`), on the route the gate knows (`/logout`) and on
 * one it does not (`/signout`); a request still in flight at logout writes
 * the old session back under its old id (a page-view counter), and the login
 * keeps session data (`keepSessionInfo`, for a `returnTo`). A copy of the
 * verified cookie taken before logout must not be verified afterwards, not
 * even after logging in again with the password.
 */
import { expect } from 'chai';
import { copyOf, enrolOverJson, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpClient } from '../support/http-client.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const SETUPS = [
  { name: 'MemoryStore sessions, Express 5', express: 5 as const, sessions: 'memory' as const },
  { name: 'MemoryStore sessions, Express 4', express: 4 as const, sessions: 'memory' as const },
  { name: 'connect-redis sessions, Express 5', express: 5 as const, sessions: 'redis' as const },
  { name: 'connect-redis sessions, Express 4', express: 4 as const, sessions: 'redis' as const },
];

describe('Express adapter: careless logout ends the second factor', function () {
  let redis: RedisProcess;
  before(async () => { redis = await startRedis(); });
  after(() => redis?.stop());

  for (const setup of SETUPS) {
    describe(setup.name, () => {
      let app: CarelessExpressApp;
      let backupCodes: string[];

      before(async () => {
        app = await startCarelessExpressApp({ express: setup.express, sessions: setup.sessions, redisUrl: redis.url });
        ({ backupCodes } = await enrolOverJson(await app.login()));
      });
      after(() => app.stop());
      afterEach(() => expect(app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

      async function verifiedLogin(): Promise<HttpClient> {
        const client = await app.login();
        const res = await client.post('/2fa/verify', { json: { code: backupCodes.pop()! } });
        expect(res.status, res.text).to.equal(200);
        expect((await client.get('/app')).status).to.equal(200);
        return client;
      }

      for (const route of ['/logout', '/signout']) {
        const known = route === '/logout' ? 'the logout route the gate knows' : 'a logout route the gate is not told about';
        it(`${known} (${route}, req.logout only): a copy of the verified cookie is not verified, even after a password login`, async () => {
          const client = await verifiedLogin();
          const copy = copyOf(client);
          const out = await client.get(route, { accept: 'html' });
          expect(out.status).to.equal(302);
          expect((await client.get('/app')).status, 'logged out').to.equal(302);

          const asCopy = await copy.get('/app');
          expect(asCopy.status, asCopy.text).to.not.equal(200);
          await app.login(copy);
          const again = await copy.get('/app');
          expect(again.status, again.text).to.equal(401);
          expect(again.body.error).to.equal('second_factor_required');
          expect((await copy.get('/2fa')).body.session.verified).to.equal(false);
        });

        it(`${known} (${route}): a request in flight at logout writes the old session back, and its cookie is still not verified`, async () => {
          const client = await verifiedLogin();
          const copy = copyOf(client);
          const slow = client.get('/slow?hold=1');
          await waitFor(() => app.heldRequests() === 1);
          await copyOf(client).get(route, { accept: 'html' });
          app.releaseHeld();
          const written = await slow;
          expect(written.status, written.text).to.equal(200);

          // The old id is back in the store with the passport user in it…
          const asCopy = await copy.get('/app');
          expect(asCopy.status, asCopy.text).to.equal(401);
          expect(asCopy.body.error).to.equal('second_factor_required');
          // …and a password login on top of it (keepSessionInfo keeps the old data) does not revive it.
          await app.login(copy);
          const again = await copy.get('/app');
          expect(again.status, again.text).to.equal(401);
          expect((await copy.get('/2fa')).body.session.verified).to.equal(false);
        });
      }

      it('a login without keepSessionInfo is not verified either (passport 0.7 default)', async () => {
        const plain = await startCarelessExpressApp({ express: setup.express, sessions: setup.sessions, redisUrl: redis.url, keepSessionInfo: false });
        try {
          const enrolled = await plain.login();
          const codes = (await enrolOverJson(enrolled)).backupCodes;
          const client = await plain.login();
          expect((await client.post('/2fa/verify', { json: { code: codes.pop()! } })).status).to.equal(200);
          const copy = copyOf(client);
          await client.get('/signout', { accept: 'html' });
          await plain.login(copy);
          expect((await copy.get('/app')).status).to.equal(401);
        } finally {
          await plain.stop();
        }
      });
    });
  }
});
