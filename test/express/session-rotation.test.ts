/**
 * express-session's `regenerate()` starts an empty session with a fresh
 * cookie; the adapter rotates the id after the second factor and must keep
 * what the session was: the passport login, the app's own data, and the
 * cookie the app configured for it ("remember me": a 30-day cookie stays a
 * 30-day cookie, as koa-session's `regenerate()` keeps `maxAge`). The old
 * id must be gone: a cookie taken before the second factor is not verified
 * (session fixation). Express 5 and 4, MemoryStore and connect-redis.
 */
import { expect } from 'chai';
import { copyOf, enrolOverJson, generateCode, REMEMBER_ME_MS, SESSION_COOKIE, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpResponse } from '../support/http-client.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

/** Milliseconds from now until the session cookie set by `res` expires, or null for a browser-session cookie. */
function cookieLifetime(res: HttpResponse): number | null {
  const line = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`));
  expect(line, 'a new session cookie').to.be.a('string');
  const expires = /;\s*Expires=([^;]+)/i.exec(line!)?.[1];
  return expires ? Date.parse(expires) - Date.now() : null;
}

describe('Express adapter: rotating the session id after the second factor', function () {
  let redis: RedisProcess;
  before(async () => { redis = await startRedis(); });
  after(() => redis?.stop());

  for (const major of [5, 4] as const) {
    for (const sessions of ['memory', 'redis'] as const) {
      describe(`Express ${major}, ${sessions === 'memory' ? 'MemoryStore' : 'connect-redis'}`, () => {
        let app: CarelessExpressApp;
        let backupCodes: string[];
        before(async () => {
          app = await startCarelessExpressApp({ express: major, sessions, redisUrl: redis.url });
          ({ backupCodes } = await enrolOverJson(await app.login()));
        });
        after(() => app.stop());
        afterEach(() => expect(app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

        it('a cookie taken before the second factor is not verified by it (the old id is gone)', async () => {
          const client = await app.login();
          const before = copyOf(client);
          const res = await client.post('/2fa/verify', { json: { code: backupCodes.pop()! } });
          expect(res.status).to.equal(200);
          expect(client.cookie(SESSION_COOKIE)).to.not.equal(before.cookie(SESSION_COOKIE));
          expect((await client.get('/app')).status).to.equal(200);
          expect((await before.get('/app')).status).to.not.equal(200);
        });

        it("the app's own session data and the passport login survive the rotation", async () => {
          const client = await app.login();
          // The app counts page views in the session (the home page is public: no second factor needed).
          expect((await client.get('/', { accept: 'html' })).text).to.equal('home, 1 views');
          expect((await client.post('/2fa/verify', { json: { code: backupCodes.pop()! } })).status).to.equal(200);
          expect((await client.get('/', { accept: 'html' })).text).to.equal('home, 2 views');
          expect((await client.get('/app')).body.user).to.equal('carol');
        });

        it('"remember me": the 30-day cookie is still a 30-day cookie after the second factor', async () => {
          const client = app.client();
          const login = await client.post('/login', { form: { username: 'carol', password: 'carol-pw', remember: 'on' } });
          expect(login.status).to.equal(302);
          expect(cookieLifetime(login)).to.be.closeTo(REMEMBER_ME_MS, 60_000);
          const verified = await client.post('/2fa/verify', { json: { code: backupCodes.pop()! } });
          expect(verified.status).to.equal(200);
          expect(cookieLifetime(verified), 'lifetime of the rotated cookie').to.be.closeTo(REMEMBER_ME_MS, 60_000);
        });

        it('"remember me" on a first enrolment (setup + confirm) keeps the 30-day cookie too', async () => {
          const fresh = await startCarelessExpressApp({ express: major, sessions, redisUrl: redis.url });
          try {
            const client = await fresh.login(undefined, true);
            const setup = await client.post('/2fa/setup', { json: { name: 'Phone' } });
            const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code: generateCode(setup.body.secret, Date.now()) } });
            expect(confirm.status, confirm.text).to.equal(200);
            expect(cookieLifetime(confirm)).to.be.closeTo(REMEMBER_ME_MS, 60_000);
          } finally {
            await fresh.stop();
          }
        });
      });
    }
  }
});
