/**
 * Redis stops while the Express app runs (the test kills the redis-server
 * it started). Every door answers `503 store_unavailable` — JSON for a JSON
 * client, the HTML error page for a browser, never a 500 or a stack — and
 * the same answer, body and headers, as the Koa adapter gives for the same
 * request:
 * - the gate (a password-only session whose state is not cached yet);
 * - a 2FA route (status, the verify page, a code);
 * - `requireStepUp` (a verified session the gate lets through from its cache);
 * - with the sessions themselves in the same Redis (connect-redis),
 *   express-session fails before any 2FA code runs: `twoFactorErrors()`
 *   answers.
 * Every app uses the package's fail-fast client (`createRedisClient`): with
 * ioredis' own backoff, connect-redis (which has no deadline) would keep
 * express-session waiting up to ~10 s per request.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { SecretBox } from '../../src/index.ts';
import { createRedisClient, whenReady } from '../../src/redis/index.ts';
import { enrolOverJson, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { enrolOver, startMiniApp, type MiniApp } from '../support/mini-app.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

/** The verified sessions' state stays cached in the gate for the whole test, however slow the machine. */
const GATE_CACHE_MS = 120_000;
/** Without an offline queue a command fails at once; the service's own deadline is 1 s. */
const ANSWER_WITHIN_MS = 1_500;

/** A JSON client and a browser, per door. */
const REQUESTS: ReadonlyArray<{ door: string; who: 'half' | 'verified'; method: 'GET' | 'POST'; path: string; json?: unknown }> = [
  { door: 'the gate', who: 'half', method: 'GET', path: '/app' },
  { door: 'a 2FA route (status)', who: 'half', method: 'GET', path: '/2fa' },
  { door: 'a 2FA route (the verify page)', who: 'half', method: 'GET', path: '/2fa/verify' },
  { door: 'a 2FA route (a code)', who: 'half', method: 'POST', path: '/2fa/verify', json: { code: '123456' } },
  { door: 'requireStepUp', who: 'verified', method: 'GET', path: '/remote/take-control' },
];

/** What must be the same on both adapters. */
function comparable(res: HttpResponse) {
  const h = (name: string) => res.headers.get(name);
  return {
    status: res.status,
    body: res.body,
    headers: {
      'content-type': h('content-type'), 'cache-control': h('cache-control'), 'content-security-policy': h('content-security-policy'),
      vary: h('vary'), 'retry-after': h('retry-after'), location: h('location'),
    },
  };
}

async function timed(client: HttpClient, r: (typeof REQUESTS)[number], accept: 'json' | 'html'): Promise<HttpResponse> {
  const start = Date.now();
  const res = r.json !== undefined
    ? await client.request(r.method, r.path, { json: r.json, accept })
    : await client.request(r.method, r.path, { accept });
  expect(Date.now() - start, `${r.method} ${r.path} answered in time`).to.be.below(ANSWER_WITHIN_MS);
  return res;
}

function expectStoreUnavailable(res: HttpResponse, accept: 'json' | 'html', what: string): void {
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).to.equal(503);
  expect(res.text, what).to.not.match(/\bat .*\.(js|ts):\d+|Error:/);
  if (accept === 'json') {
    expect(res.body.error, what).to.equal('store_unavailable');
  } else {
    expect(res.headers.get('content-type'), what).to.match(/^text\/html/);
    expect(res.text, what).to.include('Try again shortly');
  }
}

describe('Express adapter: Redis stopped mid-test', function () {
  this.timeout(60_000);
  let redis: RedisProcess;
  let koaRedis: Redis;
  let koa: MiniApp;
  const koaClients = {} as Record<'half' | 'verified', HttpClient>;
  const apps: CarelessExpressApp[] = [];
  const express = {} as Record<4 | 5, { app: CarelessExpressApp; half: HttpClient; verified: HttpClient }>;
  const sessionsInRedis = {} as Record<4 | 5, { app: CarelessExpressApp; client: HttpClient; verified: HttpClient }>;

  before(async () => {
    redis = await startRedis();
    // Both apps on the package's fail-fast client (no offline queue): an outage is answered at once.
    koaRedis = createRedisClient(redis.url, {}, () => {});
    await whenReady(koaRedis);
    koa = await startMiniApp({
      twoFactor: { redis: koaRedis, encryptionKeys: `k1:${SecretBox.randomKey()}`, redisKeyPrefix: 'koa-outage', publicPaths: ['/'], stateCacheMs: GATE_CACHE_MS },
      routes: (router, tf) => {
        router.get('/app', (ctx) => { ctx.body = { secret: 'the app' }; });
        router.get('/remote/take-control', tf.requireStepUp(), (ctx) => { ctx.body = 'take control'; });
      },
    });
    koaClients.verified = await koa.login('carol');
    await enrolOver(koaClients.verified);
    koaClients.half = await koa.login('carol');

    for (const major of [5, 4] as const) {
      const app = await startCarelessExpressApp({ express: major, redisUrl: redis.url, redisClient: 'fail-fast', twoFactor: { stateCacheMs: GATE_CACHE_MS } });
      apps.push(app);
      const verified = await app.login();
      await enrolOverJson(verified);
      express[major] = { app, verified, half: await app.login() };

      const withSessions = await startCarelessExpressApp({ express: major, redisUrl: redis.url, sessions: 'redis', redisClient: 'fail-fast' });
      apps.push(withSessions);
      const enrolled = await withSessions.login();
      await enrolOverJson(enrolled);
      sessionsInRedis[major] = { app: withSessions, client: await withSessions.login(), verified: enrolled };
    }
    // The verified sessions pass the gate once, so the gate trusts its cache during the outage.
    for (const c of [koaClients.verified, express[5].verified, express[4].verified]) expect((await c.get('/remote/take-control', { accept: 'html' })).status).to.equal(200);

    await redis.kill();
  });

  after(async () => {
    for (const app of apps) await app.stop();
    await koa?.stop();
    koaRedis?.disconnect();
    await redis?.stop();
  });

  for (const major of [5, 4] as const) {
    describe(`Express ${major}, 2FA on Redis, sessions in memory`, () => {
      afterEach(() => expect(express[major].app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

      for (const r of REQUESTS) {
        for (const accept of ['json', 'html'] as const) {
          it(`${r.door}: ${r.method} ${r.path} (${accept}) is 503 store_unavailable, the same answer as on Koa`, async () => {
            const onExpress = await timed(express[major][r.who], r, accept);
            expectStoreUnavailable(onExpress, accept, 'Express');
            const onKoa = await timed(koaClients[r.who], r, accept);
            expectStoreUnavailable(onKoa, accept, 'Koa');
            expect(comparable(onExpress)).to.deep.equal(comparable(onKoa));
          });
        }
      }

      it('the outage is logged by the package, without a stack', () => {
        const { logs } = express[major].app;
        expect(logs.some((l) => /store|Redis|redis/.test(l)), logs.join('\n')).to.equal(true);
      });
    });

    describe(`Express ${major}, sessions on the same Redis (connect-redis)`, () => {
      afterEach(() => expect(sessionsInRedis[major].app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

      for (const [what, path] of [["the app's own route", '/app'], ['a 2FA route', '/2fa'], ['requireStepUp', '/remote/take-control']] as const) {
        it(`${what} (${path}): express-session cannot load the session → 503 store_unavailable, JSON or page`, async () => {
          for (const client of [sessionsInRedis[major].client, sessionsInRedis[major].verified]) {
            for (const accept of ['json', 'html'] as const) {
              const r = { door: what, who: 'half' as const, method: 'GET' as const, path };
              expectStoreUnavailable(await timed(client, r, accept), accept, `${path} (${accept})`);
            }
          }
        });
      }

      it('a posted code: 503 store_unavailable, not a 500', async () => {
        const res = await sessionsInRedis[major].client.post('/2fa/verify', { json: { code: '123456' } });
        expectStoreUnavailable(res, 'json', 'POST /2fa/verify');
      });
    });
  }
});
