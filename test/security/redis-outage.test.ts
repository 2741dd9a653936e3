/**
 * Redis outage (issue #3): while the store is down nobody gets past the
 * second factor (fail closed, quickly, not after ioredis' ~73 s offline
 * queue), the app recovers by itself when Redis is back, and replay state
 * written before the outage still holds after it.
 *
 * The server runs with AOF (`appendfsync always`), as the README tells
 * operators to: without persistence a restarted Redis has forgotten which
 * codes were used, and a code seen before a crash could be replayed while it
 * is still inside the TOTP window (about a minute).
 *
 * Two apps share the server:
 * - "the example with redisUrl": sessions and 2FA state both in this Redis,
 *   as shipped;
 * - "2FA on Redis, sessions elsewhere": the 2FA stores on this Redis through
 *   `twoFactor.redis`, sessions in memory, so the request reaches the
 *   package while Redis is down. Both must answer `503 store_unavailable`.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { SecretBox } from '../../src/index.ts';
import { createRedisClient } from '../../src/redis/index.ts';
import { codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { sleep, storeReady, waitUntil } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

/** Fail fast: the client's command timeout and the service's store deadline are 1 s each. */
const FAIL_CLOSED_WITHIN_MS = 2_000;
const RECOVER_WITHIN_MS = 5_000;

interface Actor {
  name: string;
  /** True for the example as shipped, whose sessions are in the same Redis. */
  sessionsInRedis: boolean;
  ex: RunningExample;
  secret: string;
  /** Alice's session that passed the second factor before the outage. */
  verified: HttpClient;
  /** Password-only sessions of alice, made before the outage. */
  halfA: HttpClient;
  halfB: HttpClient;
  /** A code accepted before the outage. */
  usedCode: string;
}

/** A POST /2fa/verify and how long it took. */
async function timedVerify(client: HttpClient, code: string): Promise<HttpResponse & { ms: number }> {
  const start = Date.now();
  const res = await client.post('/2fa/verify', { json: { code } });
  return { ...res, ms: Date.now() - start };
}

function isDashboard(res: HttpResponse): boolean {
  return res.status === 200 || /Dashboard|Signed in as|"twoFactor"/.test(res.text);
}

describeEachExampleApp('Redis outage: fail closed, recover without a restart, keep replay state (AOF)', function (kind) {
  this.timeout(30_000);
  let redis: RedisProcess;
  let separateClient: Redis | undefined;
  const actors: Actor[] = [];

  before(async () => {
    redis = await startRedis({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const shipped = await startExample({ redisUrl: redis.url }, kind);
    separateClient = createRedisClient(redis.url);
    // Expected while Redis is down; without a listener ioredis logs each one.
    separateClient.on('error', () => {});
    const separate = await startExample({
      encryptionKeys: `t1:${SecretBox.randomKey()}`,
      twoFactor: { redis: separateClient, redisKeyPrefix: 'separate' },
    }, kind);
    for (const [name, ex, sessionsInRedis] of [['the example with redisUrl', shipped, true], ['2FA on Redis, sessions elsewhere', separate, false]] as const) {
      // The framework would print the stack of every failed request during the outage.
      ex.silence();
      await storeReady(ex.app.tf.service);
      const verified = await ex.login('alice');
      const { secret } = await enrol(verified);
      actors.push({ name, sessionsInRedis, ex, secret, verified, halfA: await ex.login('alice'), halfB: await ex.login('alice'), usedCode: await codeWithTimeLeft(secret, 0) });
    }
  });

  after(async () => {
    for (const a of actors) await a.ex.stop();
    separateClient?.disconnect();
    await redis?.stop();
  });

  it('runs on a Redis that persists every write (AOF, appendfsync always)', async () => {
    const admin = new Redis(redis.url, { lazyConnect: true });
    try {
      await admin.connect();
      expect(await admin.config('GET', 'appendonly')).to.deep.equal(['appendonly', 'yes']);
      expect(await admin.config('GET', 'appendfsync')).to.deep.equal(['appendfsync', 'always']);
    } finally {
      admin.disconnect();
    }
  });

  it('verifies while Redis is up', async () => {
    for (const a of actors) {
      const res = await a.halfA.post('/2fa/verify', { json: { code: a.usedCode } });
      expect(res.status, `${a.name}: ${res.text}`).to.equal(200);
      expect((await a.verified.get('/dashboard')).status, a.name).to.equal(200);
    }
  });

  it('stops logins while Redis is down: a valid code never passes, and the answer comes within 2 s', async () => {
    await redis.kill();
    for (const a of actors) {
      for (let attempt = 0; attempt < 4; attempt++) {
        const res = await timedVerify(a.halfB, await codeWithTimeLeft(a.secret, 1));
        expect(res.ms, `${a.name}, attempt ${attempt}`).to.be.below(FAIL_CLOSED_WITHIN_MS);
        // The package's answer, or (sessions in the dead Redis) the example's
        // own mapping of the session store's failure to the same 503.
        expect(res.status, `${a.name}: ${res.text}`).to.equal(503);
        expect(res.body.error).to.equal('store_unavailable');
        await sleep(50);
      }
    }
  });

  it('stops a verified session at routes that check 2FA state while Redis is down (5xx, never the dashboard)', async () => {
    for (const a of actors) {
      for (const accept of ['json', 'html'] as const) {
        const start = Date.now();
        const res = await a.verified.get('/dashboard', { accept });
        expect(Date.now() - start, a.name).to.be.below(FAIL_CLOSED_WITHIN_MS);
        // Sessions in the dead Redis: the example maps the session store's failure to
        // 503. Sessions in memory: the 2FA service answers store_unavailable.
        expect(res.status, `${a.name} (${accept}): ${res.text}`).to.equal(503);
        expect(isDashboard(res), `${a.name} (${accept}) showed the dashboard`).to.equal(false);
      }
    }
  });

  it('recovers without an app restart, and a code used before the outage is still refused after it', async () => {
    await redis.restart();
    for (const a of actors) {
      // Poll with the replayed code: while Redis is still unreachable it is a
      // 5xx; the first judged answer must be a refusal, never a login.
      const statuses: number[] = [];
      let first: HttpResponse | undefined;
      const took = await waitUntil(async () => {
        first = await a.halfB.post('/2fa/verify', { json: { code: a.usedCode } });
        statuses.push(first.status);
        return first.status < 500;
      }, RECOVER_WITHIN_MS);
      expect(statuses.filter((s) => s < 500), `${a.name}: answers ${statuses.join(',')}`).to.deep.equal([401]);
      expect(first!.body.error).to.equal('invalid_code');
      expect(took, a.name).to.be.below(RECOVER_WITHIN_MS);

      // A code never used works again, with no restart of the app.
      const fresh = await a.halfB.post('/2fa/verify', { json: { code: await codeWithTimeLeft(a.secret, 1) } });
      expect(fresh.status, `${a.name}: ${fresh.text}`).to.equal(200);
      // The session verified before the outage is still verified (sessions survived in AOF, or in memory).
      expect((await a.verified.get('/dashboard')).status, a.name).to.equal(200);
    }
  });
});
