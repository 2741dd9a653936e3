/**
 * `twoFactorErrors()`: every error an app's request can end in is answered
 * as the contract says (JSON or a short page, never a stack trace), a store
 * failure is logged once per kind and not per request, and the app's own
 * bugs still reach Koa.
 */
import { expect } from 'chai';
import Koa from 'koa';
import { ReplyError } from 'ioredis';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { TwoFactorError, twoFactorErrors, type TwoFactorErrorsOptions } from '../../src/index.ts';
import { advanceClock, resetClock } from '../support/clock.ts';

interface Running {
  url: string;
  logs: string[];
  appErrors: unknown[];
  stop(): Promise<void>;
}

/** An app whose `/throw/<name>` routes throw `errors[name]()`, behind `twoFactorErrors`. */
async function appThrowing(errors: Record<string, () => unknown>, o: TwoFactorErrorsOptions = {}): Promise<Running> {
  const logs: string[] = [];
  const appErrors: unknown[] = [];
  const app = new Koa();
  app.silent = true;
  app.on('error', (err) => appErrors.push(err));
  app.use(twoFactorErrors({ logger: (m) => logs.push(m), ...o }));
  app.use(async (ctx) => {
    // Headers a later middleware set before failing: they must not go out with the error.
    ctx.set('Content-Disposition', 'attachment; filename="report.csv"');
    ctx.cookies.set('sid', 'rotated', { signed: false });
    const make = errors[ctx.path.slice('/throw/'.length)];
    if (!make) return;
    throw make();
  });
  const server: Server = await new Promise((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    logs, appErrors,
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const JSON_CLIENT = { accept: 'application/json' };
const BROWSER = { accept: 'text/html,application/xhtml+xml' };

describe('koa/error-handler: twoFactorErrors()', () => {
  let app: Running;
  before(async () => {
    app = await appThrowing({
      lockout: () => new TwoFactorError('too_many_attempts', { retryAfter: 42 }),
      unauthenticated: () => new TwoFactorError('unauthenticated', { loginUrl: '/login' }),
      verify: () => new TwoFactorError('second_factor_required', { verifyUrl: '/2fa/verify' }),
      timeout: () => new Error('Command timed out'),
      oom: () => new ReplyError("OOM command not allowed when used memory > 'maxmemory'."),
      zlib: () => Object.assign(new Error('incorrect header check'), { code: 'Z_DATA_ERROR', errno: -3 }),
      bug: () => new TypeError("Cannot read properties of undefined (reading 'id')"),
      notFound: () => Object.assign(new Error('No such report'), { status: 404, expose: true }),
    });
  });
  after(() => app.stop());

  it('answers a TwoFactorError with its status and JSON body, Retry-After on a lockout', async () => {
    const res = await fetch(`${app.url}/throw/lockout`, { headers: JSON_CLIENT });
    expect(res.status).to.equal(429);
    expect(res.headers.get('retry-after')).to.equal('42');
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(await res.json()).to.deep.equal({ error: 'too_many_attempts', message: new TwoFactorError('too_many_attempts').message, retryAfter: 42 });
  });

  it('answers a browser with a short page: the message, a link on, a strict CSP, no stack trace', async () => {
    const res = await fetch(`${app.url}/throw/verify`, { headers: BROWSER });
    expect(res.status).to.equal(401);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(res.headers.get('content-security-policy')).to.include("default-src 'none'");
    const text = await res.text();
    expect(text).to.include(new TwoFactorError('second_factor_required').message).and.include('href="/2fa/verify"');
    expect(text).not.to.match(/\n\s+at /);
  });

  it('sends a browser without a user to the login page the error names', async () => {
    const res = await fetch(`${app.url}/throw/unauthenticated`, { headers: BROWSER, redirect: 'manual' });
    expect(res.status).to.equal(302);
    expect(res.headers.get('location')).to.equal('/login');
    expect(res.headers.get('cache-control')).to.equal('no-store');
  });

  it('keeps the session cookie set before the failure, and drops the other headers', async () => {
    const res = await fetch(`${app.url}/throw/lockout`, { headers: JSON_CLIENT });
    expect(res.status).to.equal(429);
    expect(res.headers.getSetCookie().join(';')).to.include('sid=rotated');
    expect(res.headers.get('content-disposition')).to.equal(null);
  });

  it('answers store failures 503 store_unavailable, and logs each kind once, not per request', async () => {
    expect(app.logs).to.deep.equal([]);
    for (let i = 0; i < 5; i++) {
      for (const kind of ['timeout', 'oom']) {
        const res = await fetch(`${app.url}/throw/${kind}`, { headers: i % 2 ? BROWSER : JSON_CLIENT });
        expect(res.status, kind).to.equal(503);
        const text = await res.text();
        if (i % 2 === 0) expect(JSON.parse(text).error).to.equal('store_unavailable');
        else expect(text).to.include('Try again shortly');
      }
    }
    expect(app.logs).to.have.length(2);
    expect(app.logs[0]).to.include('command timeout');
    expect(app.logs[1]).to.include('OOM');
    expect(app.appErrors).to.deep.equal([]);
  });

  it('logs a kind again after the interval', async () => {
    // An interval no machine leaves by being slow; the clock is moved past it.
    const INTERVAL_MS = 60_000;
    const quick = await appThrowing({ timeout: () => new Error('Command timed out') }, { logIntervalMs: INTERVAL_MS });
    try {
      await fetch(`${quick.url}/throw/timeout`);
      await fetch(`${quick.url}/throw/timeout`);
      advanceClock(INTERVAL_MS - 10_000);
      await fetch(`${quick.url}/throw/timeout`);
      expect(quick.logs).to.have.length(1);
      advanceClock(10_001);
      await fetch(`${quick.url}/throw/timeout`);
      expect(quick.logs).to.have.length(2);
    } finally {
      resetClock();
      await quick.stop();
    }
  });

  it('answers a body that cannot be read 400 invalid_input', async () => {
    const res = await fetch(`${app.url}/throw/zlib`, { headers: JSON_CLIENT });
    expect(res.status).to.equal(400);
    expect((await res.json()).error).to.equal('invalid_input');
  });

  it("leaves the app's own errors to Koa: a bug stays a 500 (without a stack in the answer), its own 404 a 404", async () => {
    app.appErrors.length = 0;
    const bug = await fetch(`${app.url}/throw/bug`, { headers: BROWSER });
    expect(bug.status).to.equal(500);
    expect(await bug.text()).to.equal('Internal Server Error');
    const notFound = await fetch(`${app.url}/throw/notFound`, { headers: JSON_CLIENT });
    expect(notFound.status).to.equal(404);
    expect(app.appErrors).to.have.length(2);
  });
});
