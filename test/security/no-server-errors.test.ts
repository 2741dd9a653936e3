/**
 * Server errors on demand (issue #10, item 6): nothing a client sends makes
 * the example app answer 5xx, and a store that does not answer in time is
 * `503 store_unavailable` on every route, the app's own included, never a
 * 500 with a stack trace.
 *
 * - Bodies labelled `Content-Encoding: gzip|deflate|br` that are not
 *   compressed, or compressed and then garbage, or in an unknown encoding,
 *   sent to the code-checking routes and to the app's `/login`: `400
 *   invalid_input` (JSON for JSON clients, a page for forms).
 * - A paused Redis (SIGSTOP: the connection stays open, nothing answers):
 *   503 within 2 s on the dashboard, login, verify, status and the step-up
 *   action; and the app recovers by itself when Redis continues.
 * - A Redis out of memory (`maxmemory`, `noeviction`): a login, which must
 *   write its session, is 503.
 *
 * Everything runs on the example app as shipped with `redisUrl` (sessions and
 * 2FA state in the same Redis), on servers this test starts.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { codeAt, codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { storeReady, waitUntil } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

/** The client's command timeout and the service's store deadline are 1 s each. */
const FAIL_CLOSED_WITHIN_MS = 2_000;
const RECOVER_WITHIN_MS = 5_000;

type BodyType = 'json' | 'form';
const CONTENT_TYPES: Record<BodyType, string> = { json: 'application/json', form: 'application/x-www-form-urlencoded' };

/** A POST with exactly these bytes and headers, carrying the client's cookies; how long it took. */
async function send(client: HttpClient, path: string, type: BodyType, headers: Record<string, string>, body: Buffer): Promise<HttpResponse & { ms: number }> {
  const h: Record<string, string> = {
    'content-type': CONTENT_TYPES[type],
    // A JSON client asks for JSON; a form is a browser's.
    accept: type === 'json' ? 'application/json' : 'text/html',
    ...headers,
  };
  if (client.cookies.size > 0) h.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const start = Date.now();
  const res = await fetch(new URL(path, client.baseUrl), { method: 'POST', headers: h, body: new Uint8Array(body), redirect: 'manual' });
  const text = await res.text();
  const ms = Date.now() - start;
  const body2: unknown = (res.headers.get('content-type') ?? '').includes('application/json') ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body: body2, text, ms };
}

/** Timed request through the client (cookies kept). */
async function timed(request: Promise<HttpResponse>): Promise<HttpResponse & { ms: number }> {
  const start = Date.now();
  const res = await request;
  return { ...res, ms: Date.now() - start };
}

/** No answer shows how the server is built. */
function expectNoStackTrace(res: HttpResponse, what: string): void {
  expect(res.text, what).not.to.match(/\n\s+at \S+ \(|node_modules|\.ts:\d+/);
}

function expectAnswer(res: HttpResponse, status: number, error: string, json: boolean, what: string): void {
  expect(res.status, `${what}: ${res.status} ${res.text.slice(0, 200)}`).to.equal(status);
  expectNoStackTrace(res, what);
  if (json) {
    expect(res.headers.get('content-type') ?? '', what).to.include('application/json');
    expect(res.body.error, what).to.equal(error);
  } else {
    expect(res.headers.get('content-type') ?? '', what).to.include('text/html');
  }
}

describeEachExampleApp('no server errors: bodies that do not decode as their Content-Encoding says are 400, never 5xx', function (kind) {
  this.timeout(30_000);
  let redis: RedisProcess;
  let ex: RunningExample;
  let verified: HttpClient;
  let csrf: string;

  before(async () => {
    redis = await startRedis();
    ex = await startExample({ redisUrl: redis.url }, kind);
    await storeReady(ex.app.tf.service);
    verified = await ex.login('alice');
    await enrol(verified);
    csrf = (await verified.get('/2fa')).body.csrfToken;
  });
  after(async () => {
    await ex?.stop();
    await redis?.stop();
  });

  const ROUTES = ['/2fa/verify', '/2fa/setup/confirm', '/2fa/backup-codes', '/login'];
  /** A body each route would otherwise read (the CSRF token comes as a header). */
  const plain = (type: BodyType): Buffer => Buffer.from(type === 'json'
    ? JSON.stringify({ code: '123456', enrolmentId: 'e1', username: 'alice', password: 'wrong' })
    : 'code=123456&enrolmentId=e1&username=alice&password=wrong');
  /** Bytes that no decoder accepts as the data it promises. */
  const garbage = Buffer.from('a3f1c0de9b7e5512ffee00113377aa55deadbeefcafebabe0badf00d', 'hex');

  const CASES: Array<{ label: string; encoding: string; body: (type: BodyType) => Buffer }> = [
    { label: 'a plain body labelled gzip', encoding: 'gzip', body: plain },
    { label: 'a plain body labelled deflate', encoding: 'deflate', body: plain },
    { label: 'a plain body labelled br', encoding: 'br', body: plain },
    { label: 'a gzip header, then garbage', encoding: 'gzip', body: (t) => Buffer.concat([gzipSync(plain(t)).subarray(0, 10), garbage]) },
    { label: 'a truncated gzip body', encoding: 'gzip', body: (t) => gzipSync(plain(t)).subarray(0, -6) },
    { label: 'a zlib header, then garbage', encoding: 'deflate', body: (t) => Buffer.concat([deflateSync(plain(t)).subarray(0, 2), garbage]) },
    { label: 'garbage labelled br', encoding: 'br', body: () => garbage },
    { label: 'a truncated br body', encoding: 'br', body: (t) => brotliCompressSync(plain(t)).subarray(0, -3) },
    { label: 'an unknown encoding (zstd)', encoding: 'zstd', body: plain },
    { label: 'an unknown encoding (x-bogus)', encoding: 'x-bogus', body: plain },
    { label: 'two encodings in one header', encoding: 'gzip, br', body: (t) => brotliCompressSync(gzipSync(plain(t))) },
  ];

  for (const c of CASES) {
    it(`${c.label}: 400 invalid_input on ${ROUTES.join(', ')}, JSON and forms`, async () => {
      for (const path of ROUTES) {
        for (const type of ['json', 'form'] as const) {
          const res = await send(verified, path, type, { 'content-encoding': c.encoding, 'x-csrf-token': csrf }, c.body(type));
          expectAnswer(res, 400, 'invalid_input', type === 'json', `${c.label}, ${type}, ${path}`);
        }
      }
    });
  }

  it('still reads a body that is what its Content-Encoding says (a gzip login succeeds)', async () => {
    const client = ex.client();
    const body = gzipSync(JSON.stringify({ username: 'bob', password: 'bob-password' }));
    const res = await send(client, '/login', 'json', { 'content-encoding': 'gzip' }, body);
    expect(res.status, res.text).to.equal(200);
  });
});

describeEachExampleApp('no server errors: a paused Redis (SIGSTOP) is 503 store_unavailable within 2 s everywhere, then recovers', function (kind) {
  this.timeout(60_000);
  let redis: RedisProcess;
  let ex: RunningExample;
  let secret: string;
  /** alice, past the second factor. */
  let verified: HttpClient;
  /** alice, password only. */
  let half: HttpClient;
  let halfCsrf: string;
  let pausedPid: number | undefined;

  function pause(): void {
    pausedPid = redis.pid;
    process.kill(pausedPid!, 'SIGSTOP');
  }
  function resume(): void {
    if (pausedPid === undefined) return;
    try {
      process.kill(pausedPid, 'SIGCONT');
    } catch {
      // already gone
    }
    pausedPid = undefined;
  }

  before(async () => {
    redis = await startRedis();
    ex = await startExample({ redisUrl: redis.url }, kind);
    await storeReady(ex.app.tf.service);
    verified = await ex.login('alice');
    ({ secret } = await enrol(verified));
    half = await ex.login('alice');
    halfCsrf = (await half.get('/2fa')).body.csrfToken;
  });
  // A stopped server must never outlive a failed test: continue it, then stop it.
  after(async () => {
    resume();
    await ex?.stop();
    await redis?.stop();
  });

  it('answers 503 within 2 s on the dashboard, login, verify, status and step-up routes while Redis is paused', async () => {
    expect((await verified.get('/dashboard')).status).to.equal(200);
    pause();
    const probes: Array<[string, boolean, () => Promise<HttpResponse & { ms: number }>]> = [
      ['GET /dashboard (JSON)', true, () => timed(verified.get('/dashboard'))],
      ['GET /dashboard (browser)', false, () => timed(verified.get('/dashboard', { accept: 'html' }))],
      ['POST /login (JSON)', true, () => timed(ex.client().post('/login', { json: { username: 'bob', password: 'bob-password' } }))],
      ['POST /login (form)', false, () => timed(ex.client().post('/login', { form: { username: 'bob', password: 'bob-password' } }))],
      ['POST /2fa/verify (JSON)', true, () => timed(half.post('/2fa/verify', { json: { code: codeAt(secret, 1) } }))],
      ['POST /2fa/verify (form)', false, () => timed(half.post('/2fa/verify', { form: { code: codeAt(secret, 1), _csrf: halfCsrf } }))],
      ['GET /2fa (JSON)', true, () => timed(verified.get('/2fa'))],
      ['GET /2fa (browser)', false, () => timed(verified.get('/2fa', { accept: 'html' }))],
      ['POST /remote/take-control (JSON)', true, () => timed(verified.post('/remote/take-control', { json: {} }))],
    ];
    // All at once: each waits for the store's deadline on its own, and none may wait for another.
    const answers = await Promise.all(probes.map(async ([what, json, probe]) => ({ what, json, res: await probe() })));
    for (const { what, json, res } of answers) {
      expectAnswer(res, 503, 'store_unavailable', json, what);
      expect(res.ms, what).to.be.below(FAIL_CLOSED_WITHIN_MS);
    }
  });

  it('recovers without a restart when Redis continues: the dashboard, a login and a verification work again', async () => {
    resume();
    const took = await waitUntil(async () => (await verified.get('/dashboard')).status === 200, RECOVER_WITHIN_MS);
    expect(took).to.be.below(RECOVER_WITHIN_MS);
    expect((await ex.client().post('/login', { json: { username: 'bob', password: 'bob-password' } })).status).to.equal(200);
    const res = await half.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 1) } });
    expect(res.status, res.text).to.equal(200);
  });
});

describeEachExampleApp('no server errors: a Redis out of memory (maxmemory, noeviction) makes a login 503, never 500', function (kind) {
  this.timeout(30_000);
  const FILLER_BYTES = 256 * 1024;
  /** Started with 8 MB; once full, half of that. */
  const FULL_MAXMEMORY_BYTES = 4 * 1024 * 1024;
  let redis: RedisProcess;
  let ex: RunningExample;
  let admin: Redis;
  const fillers: string[] = [];

  before(async () => {
    redis = await startRedis({ args: ['--maxmemory', '8mb', '--maxmemory-policy', 'noeviction'] });
    ex = await startExample({ redisUrl: redis.url }, kind);
    await storeReady(ex.app.tf.service);
    admin = new Redis(redis.url);
  });
  after(async () => {
    admin?.disconnect();
    await ex?.stop();
    await redis?.stop();
  });

  it('answers POST /login 503 store_unavailable once writes are refused (OOM)', async () => {
    // Fill our own server until it refuses writes.
    let refusal = '';
    for (let i = 0; i < 200 && !refusal; i++) {
      try {
        await admin.set(`filler:${i}`, 'x'.repeat(FILLER_BYTES));
        fillers.push(`filler:${i}`);
      } catch (err) {
        refusal = String(err);
      }
    }
    expect(refusal).to.match(/OOM command not allowed/);
    // Filled to the brim, used memory hovers around the limit (request
    // buffers come and go) and a small write can still slip in: lower the
    // limit well under what is stored, as when the data outgrows the server.
    await admin.config('SET', 'maxmemory', String(FULL_MAXMEMORY_BYTES));
    expect(String(await admin.set('probe', '1').catch((err: unknown) => err))).to.match(/OOM command not allowed/);
    for (const type of ['json', 'form'] as const) {
      const client = ex.client();
      const start = Date.now();
      const res = type === 'json'
        ? await client.post('/login', { json: { username: 'bob', password: 'bob-password' } })
        : await client.post('/login', { form: { username: 'bob', password: 'bob-password' } });
      expectAnswer(res, 503, 'store_unavailable', type === 'json', `POST /login (${type}) on a full Redis`);
      expect(Date.now() - start).to.be.below(FAIL_CLOSED_WITHIN_MS);
    }
  });

  it('logs in again once memory is free', async () => {
    if (fillers.length) await admin.del(...fillers);
    const res = await ex.client().post('/login', { json: { username: 'bob', password: 'bob-password' } });
    expect(res.status, res.text).to.equal(200);
  });
});
