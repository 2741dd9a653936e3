/**
 * Shared steps of the account self-service tests (issue #4): a fresh example
 * app per test, second-factor logins, a second authenticator, CSRF tokens
 * and the backup-code format.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, enrol, startExample, type ExampleKind, type RunningExample } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { storeReady, waitUntil } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { createRedisClient } from '../../src/redis/index.ts';

export const ALICE = '1';
export const BOB = '2';
export const info = { endpoint: 'test' };

/** Crockford's base32 as the package writes it: 32 symbols, no i, l, o, u. */
export const BACKUP_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const BACKUP_CODE_FORMAT = /^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/;

export type ExampleOptions = NonNullable<Parameters<typeof startExample>[0]>;

/**
 * Starts a fresh example app of `kind` (its own in-memory stores, unless the
 * options name Redis) for each test of the calling `describe`, and stops it after.
 */
export function freshExample(kind: ExampleKind, options: () => ExampleOptions = () => ({})): { readonly ex: RunningExample } {
  const holder: { ex: RunningExample | undefined } = { ex: undefined };
  beforeEach(async () => {
    holder.ex = await startExample(options(), kind);
  });
  afterEach(async () => {
    await holder.ex?.stop();
    holder.ex = undefined;
  });
  return {
    get ex(): RunningExample {
      if (!holder.ex) throw new Error('example app not started');
      return holder.ex;
    },
  };
}

/**
 * Like `freshExample`, on the in-memory stores or on a Redis started for the
 * calling `describe` (emptied after each test), with `stateCacheMs: 0`.
 */
export function freshExampleOn(kind: ExampleKind, backend: 'in-memory stores' | 'Redis'): { readonly ex: RunningExample } {
  let redis: RedisProcess | undefined;
  before(async () => {
    if (backend === 'Redis') redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  const fresh = freshExample(kind, () => ({ twoFactor: { stateCacheMs: 0 }, ...(redis ? { redisUrl: redis.url } : {}) }));
  beforeEach(async () => {
    await storeReady(fresh.ex.app.tf.service);
  });
  afterEach(async () => {
    if (!redis) return;
    // Each test starts from empty stores and sessions.
    const admin = createRedisClient(redis.url);
    await waitUntil(() => admin.flushall().then(() => true), 2_000, 20);
    admin.disconnect();
  });
  return fresh;
}

/** POST /2fa/verify with a code (JSON). */
export function verify(client: HttpClient, code: string): Promise<HttpResponse> {
  return client.post('/2fa/verify', { json: { code } });
}

/** A password login followed by the second factor; throws unless both pass. */
export async function loginVerified(ex: RunningExample, username: string, code: string): Promise<HttpClient> {
  const c = await ex.login(username);
  const res = await verify(c, code);
  if (res.status !== 200) throw new Error(`second factor of ${username} failed: ${res.status} ${res.text}`);
  return c;
}

/** GET /2fa as JSON. */
export async function status(client: HttpClient): Promise<any> {
  const res = await client.get('/2fa');
  expect(res.status, res.text).to.equal(200);
  return res.body;
}

/** The CSRF token of the client's session, for form posts. */
export async function csrfOf(client: HttpClient): Promise<string> {
  const token = (await status(client)).csrfToken;
  expect(token).to.be.a('string').and.not.be.empty;
  return token as string;
}

/** PATCH with a JSON body (the test client has no shorthand for it). */
export function patch(client: HttpClient, path: string, json: unknown): Promise<HttpResponse> {
  return client.request('PATCH', path, { json });
}

/**
 * Links another authenticator from a session that passed the second factor
 * recently (no step-up code needed); confirms it with its code of step -1,
 * as `enrol` does, so steps 0 and +1 stay usable.
 */
export async function addDevice(client: HttpClient, name: string): Promise<{ secret: string; deviceId: string }> {
  const setup = await client.post('/2fa/setup', { json: { name } });
  expect(setup.status, setup.text).to.equal(201);
  const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: setup.body.enrolmentId, code: await codeWithTimeLeft(setup.body.secret, -1) } });
  expect(confirm.status, confirm.text).to.equal(200);
  expect(confirm.body).not.to.have.property('backupCodes');
  return { secret: setup.body.secret as string, deviceId: confirm.body.deviceId as string };
}

/** The user's first authenticator, from a password-only session that ends verified. */
export async function enrolled(ex: RunningExample, username: string, name = 'Phone') {
  const client = await ex.login(username);
  const device = await enrol(client, name);
  expect(device.backupCodes).to.have.length(10);
  return { client, ...device };
}

/** The `<li><code>…</code></li>` entries of a backup-codes page. */
export function codesOnPage(markup: string): string[] {
  return [...markup.matchAll(/<li><code>([^<]*)<\/code><\/li>/g)].map((m) => m[1]!);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every spelling of a code a page could leak: as shown, without the hyphen, upper case. */
export function spellings(code: string): string[] {
  const bare = code.replace('-', '');
  return [code, bare, code.toUpperCase(), bare.toUpperCase()];
}
