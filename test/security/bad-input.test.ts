/**
 * Malformed codes (issue #3): whatever an attacker puts in the code field or
 * the body of a code-checking endpoint, the answer is `400 invalid_input` or
 * `401 invalid_code`, never a 500, never a login; and no creative encoding
 * (padding, hex, full-width digits, arrays) gets a guess past the failure
 * budget: a string that reaches the check is counted like any wrong code.
 *
 * Input handling happens before the stores, so the in-memory stores suffice.
 */
import { expect } from 'chai';
import Koa from 'koa';
import session from 'koa-session';
import { DEFAULT_MAX_FAILURES, twoFactor } from '../../src/index.ts';
import { codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { HttpClient, type HttpResponse } from '../support/http-client.ts';
import { rawPost, wrongCodes } from '../support/parallel.ts';

const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/** '１２３４５６' for '123456'. */
function fullWidth(digits: string): string {
  return [...digits].map((d) => String.fromCharCode(0xff10 + Number(d))).join('');
}

/** A request that never reaches the code check: always `400 invalid_input`, never counted. */
interface Rejected {
  label: string;
  send(client: HttpClient, path: string, extra: Record<string, string>, valid: string, csrf: string): Promise<HttpResponse>;
}

const json = (label: string, code: (valid: string) => unknown, omit = false): Rejected => ({
  label,
  send: (client, path, extra, valid) => client.post(path, { json: omit ? extra : { ...extra, code: code(valid) } }),
});

const raw = (label: string, type: string, body: (extra: Record<string, string>, valid: string, csrf: string) => string, accept: 'json' | 'html' = 'json'): Rejected => ({
  label,
  send: (client, path, extra, valid, csrf) => accept === 'json'
    ? rawPost(client, path, type, body(extra, valid, csrf))
    : client.post(path, { form: body(extra, valid, csrf), accept: 'html' }),
});

const form = (extra: Record<string, string>, csrf: string, codes: string[]) =>
  [...Object.entries(extra), ...codes.map((c) => ['code', c]), ['_csrf', csrf]]
    .map(([k, v]) => `${encodeURIComponent(k!)}=${encodeURIComponent(v!)}`).join('&');

const NOT_CHECKED: Rejected[] = [
  json('empty string', () => ''),
  json('null', () => null),
  json('a number', (v) => Number(v)),
  json('an array holding the valid code', (v) => [v]),
  json('an object', () => ({ a: 1 })),
  json('a string of 65 characters', (v) => v.padEnd(65, '0')),
  json('missing field', () => undefined, true),
  raw('duplicated form field (JSON answer)', FORM_TYPE, (extra, v, csrf) => form(extra, csrf, [v, v])),
  raw('duplicated form field (HTML answer)', FORM_TYPE, (extra, v, csrf) => form(extra, csrf, [v, v]), 'html'),
  raw('JSON array body', JSON_TYPE, (_e, v) => JSON.stringify([v])),
  raw('JSON string body', JSON_TYPE, (_e, v) => JSON.stringify(v)),
  raw('JSON number body', JSON_TYPE, (_e, v) => v),
  raw('malformed JSON', JSON_TYPE, (extra, v) => JSON.stringify({ ...extra, code: v }).slice(0, -1)),
];

/** Strings that reach the check and fail there: `401 invalid_code`, counted. Made from the valid code. */
const CHECKED_AND_WRONG: [string, (valid: string) => string][] = [
  ['padded with a space', (v) => ` ${v}`],
  ['hex', (v) => `0x${Number(v).toString(16)}`],
  ['7 digits', (v) => `${v}0`],
  ['full-width digits', fullWidth],
];

interface Target {
  client: HttpClient;
  path: string;
  /** Other body fields the endpoint needs. */
  extra: Record<string, string>;
  /** A right code, with time left in its step. */
  valid: () => Promise<string>;
  /** A wrong code of the right shape. */
  wrong: string;
}

interface Endpoint {
  name: string;
  /** Wrong codes here count against the user's failure budget. */
  counted: boolean;
  prepare(ex: RunningExample): Promise<Target>;
}

/** alice with an authenticator; `client` is her session that passed the second factor. */
async function verifiedAlice(ex: RunningExample, path: (deviceId: string) => string): Promise<Target> {
  const client = await ex.login('alice');
  const { secret, deviceId } = await enrol(client);
  return { client, path: path(deviceId), extra: {}, valid: () => codeWithTimeLeft(secret, 0), wrong: wrongCodes(secret, 1)[0]! };
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'POST /2fa/verify',
    counted: true,
    async prepare(ex) {
      const { secret } = await enrol(await ex.login('alice'));
      return { client: await ex.login('alice'), path: '/2fa/verify', extra: {}, valid: () => codeWithTimeLeft(secret, 0), wrong: wrongCodes(secret, 1)[0]! };
    },
  },
  {
    // Confirm checks the code against the pending secret; its failures count
    // in the same budget as every other code check.
    name: 'POST /2fa/setup/confirm',
    counted: true,
    async prepare(ex) {
      const client = await ex.login('bob');
      const setup = await client.post('/2fa/setup', { json: { name: 'Phone' } });
      expect(setup.status, setup.text).to.equal(201);
      const secret = setup.body.secret as string;
      return { client, path: '/2fa/setup/confirm', extra: { enrolmentId: setup.body.enrolmentId }, valid: () => codeWithTimeLeft(secret, 0), wrong: wrongCodes(secret, 1)[0]! };
    },
  },
  { name: 'POST /2fa/step-up', counted: true, prepare: (ex) => verifiedAlice(ex, () => '/2fa/step-up') },
  { name: 'POST /2fa/backup-codes', counted: true, prepare: (ex) => verifiedAlice(ex, () => '/2fa/backup-codes') },
  { name: 'POST /2fa/disable', counted: true, prepare: (ex) => verifiedAlice(ex, () => '/2fa/disable') },
  { name: 'POST /2fa/devices/:id/remove', counted: true, prepare: (ex) => verifiedAlice(ex, (id) => `/2fa/devices/${encodeURIComponent(id)}/remove`) },
];

function expectInvalidInput(res: HttpResponse, what: string): void {
  expect(res.status, `${what}: ${res.status} ${res.text.slice(0, 200)}`).to.equal(400);
  // The example app parses bodies itself before the 2FA routes; its parser
  // answers malformed JSON with Koa's plain-text 400 (reported on issue #3).
  // Every JSON answer must be the contract's.
  if ((res.headers.get('content-type') ?? '').includes('json')) expect(res.body.error, what).to.equal('invalid_input');
}

describeEachExampleApp('bad input on every code-checking endpoint of the example app', function (kind) {
  this.timeout(20_000);

  for (const endpoint of ENDPOINTS) {
    describe(endpoint.name, () => {
      let ex: RunningExample;
      let target: Target;
      let csrf: string;

      beforeEach(async () => {
        // A fresh app per test: each test spends its user's budget, and
        // proves what it claims on its own, whatever ran before it.
        ex = await startExample({}, kind);
        ex.silence();
        target = await endpoint.prepare(ex);
        const status = await target.client.get('/2fa');
        csrf = status.body.csrfToken;
        expect(csrf).to.be.a('string');
      });

      afterEach(async () => {
        await ex?.stop();
      });

      it('stops malformed requests at the door: 400 invalid_input, never 500, not counted', async () => {
        const valid = await target.valid();
        // More than the 5 failures of the budget.
        expect(NOT_CHECKED.length).to.be.above(DEFAULT_MAX_FAILURES);
        for (const r of NOT_CHECKED) {
          expectInvalidInput(await r.send(target.client, target.path, target.extra, valid, csrf), r.label);
        }
        // Not counted: the whole budget but one is still there. Had any of them
        // counted, the last wrong code below would lock (the right code: 429).
        for (let i = 1; i < DEFAULT_MAX_FAILURES; i++) {
          const res = await target.client.post(target.path, { json: { ...target.extra, code: target.wrong } });
          expect(res.status, `wrong code ${i} after the malformed requests: ${res.text}`).to.equal(401);
          expect(res.body.error).to.equal('invalid_code');
        }
        const right = await target.client.post(target.path, { json: { ...target.extra, code: valid } });
        expect(right.status, `the right code after ${DEFAULT_MAX_FAILURES - 1} wrong ones: ${right.text}`).to.equal(200);
      });

      it(`stops encoded guesses: strings of the wrong shape are judged invalid_code${endpoint.counted ? ' and counted' : ''}`, async () => {
        const valid = await target.valid();
        for (const [label, make] of CHECKED_AND_WRONG) {
          const res = await target.client.post(target.path, { json: { ...target.extra, code: make(valid) } });
          expect(res.status, `${label}: ${res.text}`).to.equal(401);
          expect(res.body.error, label).to.equal('invalid_code');
        }
        // A fifth wrong code: the budget (5) is now spent if the four above counted.
        const fifth = await target.client.post(target.path, { json: { ...target.extra, code: target.wrong } });
        expect(fifth.status, fifth.text).to.equal(401);
        const right = await target.client.post(target.path, { json: { ...target.extra, code: valid } });
        if (endpoint.counted) {
          expect(right.status, `the valid code after 5 counted failures: ${right.text}`).to.equal(429);
          expect(right.body.error).to.equal('too_many_attempts');
          expect(Number(right.headers.get('retry-after'))).to.be.above(0);
        } else {
          expect(right.status, `the valid code still confirms: ${right.text}`).to.equal(200);
        }
      });
    });
  }
});

describe('bad input where the 2FA routes parse the body themselves (no app-level body parser)', function () {
  let server: ReturnType<Koa['listen']>;
  let base: string;
  let client: HttpClient;
  let csrf: string;

  before(async () => {
    const app = new Koa();
    app.keys = ['bad-input-test'];
    app.silent = true;
    app.use(session({}, app));
    app.use(async (ctx, next) => {
      ctx.state.user = { id: 'u1', username: 'mallory' };
      await next();
    });
    const tf = twoFactor({ issuer: 'bad-input', logger: () => {} });
    app.use(tf.gate);
    app.use(tf.routes);
    const started = await tf.service.startEnrolment('u1', 'mallory', 'Phone', { endpoint: 'test' });
    await tf.service.confirmEnrolment('u1', started.enrolmentId, await codeWithTimeLeft(started.secret, -1), { endpoint: 'test' });
    await new Promise<void>((resolve) => {
      server = app.listen(0, '127.0.0.1', () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    client = new HttpClient(base);
    csrf = (await client.get('/2fa')).body.csrfToken;
    expect(csrf).to.be.a('string');
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server ? server.close(() => resolve()) : resolve());
  });

  for (const [label, type, body] of [
    ['malformed JSON', JSON_TYPE, () => '{"code": "123456"'],
    ['a JSON string body', JSON_TYPE, () => '"123456"'],
    ['a JSON array body', JSON_TYPE, () => '["123456"]'],
    ['a JSON null body', JSON_TYPE, () => 'null'],
    ['a form with the code field twice', FORM_TYPE, () => `code=123456&code=123456&_csrf=${encodeURIComponent(csrf)}`],
  ] as const) {
    it(`answers ${label} with the contract's JSON: 400 invalid_input`, async () => {
      const res = await rawPost(client, '/2fa/verify', type, body());
      expect(res.status, res.text).to.equal(400);
      expect(res.body.error).to.equal('invalid_input');
    });
  }
});
