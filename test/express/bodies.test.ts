/**
 * Request bodies through the Express adapter, whether the app mounted
 * `express.json()` / `express.urlencoded()` before the package (most apps) or
 * only on its own login route (then the package reads the 2FA routes' and
 * `requireStepUp`'s bodies itself), on Express 5 and Express 4: JSON and
 * form bodies reach the 2FA routes and the privileged action, and a body
 * that cannot be read is 400 `invalid_input`, never a 500.
 */
import { expect } from 'chai';
import { gzipSync } from 'node:zlib';
import { enrolOverJson, startCarelessExpressApp, type CarelessExpressApp } from '../support/careless-express-app.ts';
import type { HttpClient } from '../support/http-client.ts';

/** A request with a raw body and the client's cookies (what HttpClient cannot send). */
async function rawPost(client: HttpClient, path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<{ status: number; type: string; text: string }> {
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(new URL(path, client.baseUrl), { method: 'POST', headers: { cookie, ...headers }, body: typeof body === 'string' ? body : Buffer.from(body), redirect: 'manual' });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

const JSON_BODY = JSON.stringify({ code: '123456' });
/** Bodies no parser can read, each as the client sends it. */
const UNREADABLE: ReadonlyArray<readonly [string, Uint8Array | string, Record<string, string>]> = [
  ['malformed JSON', '{"code": "1234', { 'content-type': 'application/json' }],
  ['a body labelled gzip that is not gzip', JSON_BODY, { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
  ['a form labelled deflate that is not', 'code=123456', { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'deflate' }],
  ['an unknown Content-Encoding', JSON_BODY, { 'content-type': 'application/json', 'content-encoding': 'x-snappy' }],
  ['a 1 MB JSON body', JSON.stringify({ code: '123456', pad: 'a'.repeat(1024 * 1024) }), { 'content-type': 'application/json' }],
  ['a 1 MB form body', `code=123456&pad=${'a'.repeat(1024 * 1024)}`, { 'content-type': 'application/x-www-form-urlencoded' }],
];

for (const major of [5, 4] as const) {
  for (const bodyParsers of ['global', 'login-only'] as const) {
    const where = bodyParsers === 'global' ? "the app's express.json()/urlencoded() mounted first" : 'no body parser before the package';
    describe(`Express ${major} adapter, ${where}: request bodies`, function () {
      let app: CarelessExpressApp;
      let verified: HttpClient;

      before(async () => {
        app = await startCarelessExpressApp({ express: major, bodyParsers });
        verified = await app.login();
        await enrolOverJson(verified);
      });
      after(() => app.stop());
      afterEach(() => expect(app.unhandled, 'errors left to Express (500s)').to.deep.equal([]));

      it('a JSON body reaches the 2FA routes (setup names the device, confirm reads enrolmentId and code)', async () => {
        const fresh = await startCarelessExpressApp({ express: major, bodyParsers });
        try {
          const client = await fresh.login();
          const setup = await client.post('/2fa/setup', { json: { name: 'Work phone' } });
          expect(setup.status, setup.text).to.equal(201);
          const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code: '000000' } });
          // The fields were read: a wrong code, not a missing field.
          expect(confirm.body.error, confirm.text).to.equal('invalid_code');
        } finally {
          await fresh.stop();
        }
      });

      it("a form body reaches the 2FA routes (its _csrf field is read)", async () => {
        const half = await app.login();
        const page = await half.get('/2fa/verify', { accept: 'html' });
        const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
        const res = await half.post('/2fa/verify', { form: { _csrf: token, code: '000000' } });
        // Past CSRF: the wrong code is shown on the verify page.
        expect(res.status, res.text).to.equal(401);
        expect(res.text).to.include('<form');
      });

      it("a form posted to the requireStepUp action with the page's token goes through", async () => {
        const page = await verified.get('/remote/take-control', { accept: 'html' });
        expect(page.status, page.text).to.equal(200);
        const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
        const res = await verified.post('/remote/take-control', { form: { _csrf: token, target: 'pc-1' }, accept: 'json' });
        expect(res.status, res.text).to.equal(200);
        expect(res.body.started).to.equal(true);
        if (bodyParsers === 'global') expect(res.body.target).to.equal('pc-1');
      });

      for (const [name, body, headers] of UNREADABLE) {
        it(`${name} is 400 invalid_input on a 2FA route and on the requireStepUp action, JSON or page`, async () => {
          const half = await app.login();
          for (const [client, path] of [[half, '/2fa/verify'], [verified, '/remote/take-control']] as const) {
            const json = await rawPost(client, path, body, { ...headers, accept: 'application/json' });
            expect(json.status, `${path}: ${json.text.slice(0, 200)}`).to.equal(400);
            expect(JSON.parse(json.text).error).to.equal('invalid_input');
            const page = await rawPost(client, path, body, { ...headers, accept: 'text/html' });
            expect(page.status, `${path} (browser)`).to.equal(400);
            expect(page.type).to.match(/^text\/html/);
            expect(page.text).to.not.match(/ at .*\.(js|ts):\d+/);
          }
        });
      }

      it('a JSON body that is not an object (an array) is 400 invalid_input on a 2FA route', async () => {
        const half = await app.login();
        const res = await rawPost(half, '/2fa/verify', '["123456"]', { 'content-type': 'application/json', accept: 'application/json' });
        expect(res.status, res.text).to.equal(400);
        expect(JSON.parse(res.text).error).to.equal('invalid_input');
      });

      it('odd but readable inputs are 4xx, never 5xx (charsets, too many fields, arrays, objects, numbers, odd queries)', async () => {
        const half = await app.login();
        const cases: ReadonlyArray<readonly [string, string, Record<string, string>]> = [
          ['/2fa/verify', JSON_BODY, { 'content-type': 'application/json; charset=koi8-r' }],
          ['/2fa/verify', 'code=1', { 'content-type': 'application/x-www-form-urlencoded; charset=shift_jis' }],
          ['/2fa/verify', Array.from({ length: 1500 }, (_, i) => `f${i}=1`).join('&'), { 'content-type': 'application/x-www-form-urlencoded' }],
          ['/2fa/verify', 'code=123456&code=654321', { 'content-type': 'application/x-www-form-urlencoded' }],
          ['/2fa/verify', 'code[a]=1', { 'content-type': 'application/x-www-form-urlencoded' }],
          ['/2fa/verify', '{"code":123456}', { 'content-type': 'application/json' }],
          ['/2fa/verify', '{"code":{"$gt":""}}', { 'content-type': 'application/json' }],
          ['/2fa/verify', '{"__proto__":{"code":"1"}}', { 'content-type': 'application/json' }],
          ['/2fa/verify', 'null', { 'content-type': 'application/json' }],
          ['/2fa/verify', '<code>1</code>', { 'content-type': 'text/xml' }],
          ['/2fa/verify?returnTo[a]=1&returnTo=%E0%A4%A', '{}', { 'content-type': 'application/json' }],
          ['/2fa/devices/%E0%A4%A/remove', '{}', { 'content-type': 'application/json' }],
          ['/remote/take-control?x[y][z]=1', 'target=%', { 'content-type': 'application/x-www-form-urlencoded' }],
        ];
        for (const [path, body, headers] of cases) {
          for (const accept of ['application/json', 'text/html']) {
            const res = await rawPost(path.startsWith('/remote') ? verified : half, path, body, { ...headers, accept });
            expect(res.status, `${path} ${body.slice(0, 40)} (${accept}): ${res.text.slice(0, 200)}`).to.be.within(200, 499);
          }
        }
      });

      it('a gzip-encoded JSON body is read (a real encoding is not an error)', async () => {
        const fresh = await startCarelessExpressApp({ express: major, bodyParsers });
        try {
          const client = await fresh.login();
          const res = await rawPost(client, '/2fa/setup', gzipSync(JSON.stringify({ name: 'Zipped' })), {
            'content-type': 'application/json', 'content-encoding': 'gzip', accept: 'application/json',
          });
          expect(res.status, res.text).to.equal(201);
        } finally {
          await fresh.stop();
        }
      });
    });
  }
}
