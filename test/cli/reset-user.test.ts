/**
 * `koa-two-factor reset-user <id>` against the Redis of a running example
 * app (Koa, sessions and 2FA on a redis-server this file starts): the user's
 * verified sessions stop passing as verified, their authenticators, backup
 * codes and remembered browsers are gone, and one audit line is printed.
 * The app's gate cache is off (`stateCacheMs: 0`); with the default an
 * app server notices within 15 s (README).
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { SecretBox } from '../../src/index.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import { redisKeys } from '../../src/stores/redis-keys.ts';
import { codeWithTimeLeft, enrol, startExample, type RunningExample } from '../support/example-server.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { cli } from './helpers.ts';

const ALICE = '1';

describe('koa-two-factor reset-user', function () {
  this.timeout(30_000);
  let redis: RedisProcess;
  let client: Redis;
  let ex: RunningExample;
  const keys = `k1:${SecretBox.randomKey()}`;

  before(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    ex = await startExample({ redisUrl: redis.url, encryptionKeys: keys, twoFactor: { stateCacheMs: 0, rememberBrowser: { days: 30 } } }, 'koa');
  });
  after(async () => {
    await ex?.stop();
    client?.disconnect();
    await redis?.stop();
  });

  it('ends the user\'s verified sessions, removes their factors and remembered browsers, and prints one audit line', async () => {
    // Required by the admin: after the reset the gate must send alice to the setup, which only a fresh read tells it.
    await new RedisRecordStore(client).setRequired([ALICE], true);
    const first = await ex.login('alice');
    const { secret } = await enrol(first);
    // A second browser passes the second factor and is remembered.
    const second = await ex.login('alice');
    const verify = await second.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0), remember: true } });
    expect(verify.status, verify.text).to.equal(200);
    for (const c of [first, second]) {
      expect((await c.get('/2fa')).body.session.verified).to.equal(true);
      expect((await c.get('/remote/take-control')).status, 'the step-up page before the reset').to.equal(200);
      expect((await c.get('/dashboard')).status, 'a gated page before the reset').to.equal(200);
    }
    const before = await new RedisRecordStore(client).get(ALICE);
    expect(before.devices).to.have.length(1);
    expect(before.backupCodesRemaining).to.equal(10);
    expect(await client.exists(redisKeys().browsers(ALICE))).to.equal(1);

    const run = await cli(['reset-user', ALICE], { REDIS_URL: redis.url, TWO_FACTOR_KEYS: keys });
    expect(run.status, run.stderr).to.equal(0);
    const lines = run.stdout.trim().split('\n');
    const audit = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(audit).to.have.length(1);
    expect(audit[0]).to.include({ type: 'reset', userId: ALICE, outcome: 'success' });
    expect(audit[0].actor).to.match(/^cli(:|$)/);
    expect(audit[0].detail).to.include({ endpoint: 'cli reset-user' });
    expect(run.stdout).to.contain('reset user "1": removed 1 authenticator app, 0 passkeys, 10 backup codes, 1 remembered browser; state now pending.');

    for (const c of [first, second]) {
      // The gate first: the 2FA routes read afresh and would refresh its cache.
      const gated = await c.get('/dashboard');
      expect([gated.status, gated.body.error], 'a gated page after the reset').to.deep.equal([403, 'two_factor_setup_required']);
      expect((await c.get('/2fa')).body.session.verified, 'verified after the reset').to.equal(false);
      expect((await c.get('/remote/take-control')).status, 'the step-up page after the reset').to.not.equal(200);
    }
    const after = await new RedisRecordStore(client).get(ALICE);
    expect(after.devices).to.deep.equal([]);
    expect(after.backupCodesRemaining).to.equal(0);
    expect(after.generation).to.be.greaterThan(before.generation);
    expect(await client.exists(redisKeys().browsers(ALICE))).to.equal(0);
  });

  it('refuses a user without a record, and bad input, with one line on stderr and exit status 2', async () => {
    const unknown = await cli(['reset-user', 'nobody'], { REDIS_URL: redis.url });
    expect(unknown.status).to.equal(2);
    expect(unknown.stderr).to.equal('koa-two-factor: no 2FA record for user "nobody" under prefix "2fa": nothing to reset (check the id and --prefix)\n');
    expect(await client.exists(redisKeys().record('nobody'))).to.equal(0);

    const missing = await cli(['reset-user'], { REDIS_URL: redis.url });
    expect(missing.status).to.equal(2);
    expect(missing.stderr).to.match(/^error: missing required argument 'id'\n$/);
    const noRedis = await cli(['reset-user', ALICE], {});
    expect(noRedis.status).to.equal(2);
    expect(noRedis.stderr).to.match(/^koa-two-factor: no Redis given: set REDIS_URL/);
  });
});
