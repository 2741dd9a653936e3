/**
 * Online guessing (issue #3): with a stolen password, an attacker guesses
 * 6-digit codes. The failure budget (5 per window, then lockouts; 100
 * consecutive failures block TOTP for good) holds against parallel
 * requests, new sessions and other endpoints, in memory and on Redis.
 */
import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { isTwoFactorError, MemoryGuardStore, MemoryRecordStore, RedisGuardStore, RedisRecordStore, type GuardStore, type RecordStore, type TwoFactorOptions } from '../../src/index.ts';
import { createRedisClient } from '../../src/redis/index.ts';
import { codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { inParallel, sleep, storeReady, tally, waitUntil, wrongCodes } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

const ALICE = '1';
const BOB = '2';

/** `store` with a count of the backup codes it was asked to consume, i.e. of backup-code guesses judged. */
function countingConsumes(store: RecordStore): { store: RecordStore; judged(): number } {
  let n = 0;
  const proxy = new Proxy(store, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof value !== 'function') return value;
      if (key === 'consumeBackupCode') {
        return (...args: [string, readonly string[]]) => {
          n += 1;
          return (value as RecordStore['consumeBackupCode']).apply(target, args);
        };
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { store: proxy, judged: () => n };
}

/** The error code `promise` rejects with (it must reject). */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isTwoFactorError(err)) return err.code;
    throw err;
  }
  throw new Error('expected a rejection');
}

for (const mode of ['memory', 'redis'] as const) {
  describeEachExampleApp(`failure budget (${mode === 'memory' ? 'in-memory stores' : 'Redis'})`, function (kind) {
    this.timeout(30_000);
    let redis: RedisProcess | undefined;

    /** The example app on this mode's stores, with `twoFactor` options and a key prefix of its own. */
    async function app(prefix: string, twoFactor: Partial<TwoFactorOptions> = {}): Promise<RunningExample> {
      const ex = mode === 'redis'
        ? await startExample({ redisUrl: redis!.url, twoFactor: { redisKeyPrefix: prefix, ...twoFactor } }, kind)
        : await startExample({ twoFactor: { records: new MemoryRecordStore(), guard: new MemoryGuardStore(), ...twoFactor } }, kind);
      await storeReady(ex.app.tf.service);
      // The sessions' Redis client may be another one than the 2FA stores': a
      // login proves both are connected (no offline queue: early requests fail).
      if (mode === 'redis') await waitUntil(() => ex.login('alice').then(() => true), 5_000, 20);
      return ex;
    }

    before(async () => {
      if (mode === 'redis') redis = await startRedis();
    });

    after(async () => {
      await redis?.stop();
    });

    describe('with the default limits (5 failures per 15 min, then a 15 min lockout)', () => {
      let ex: RunningExample;

      before(async () => {
        ex = await app('default');
      });

      after(async () => {
        await ex?.stop();
      });

      it('stops parallel guessing: of 100 wrong codes sent at once at most 5 are judged, the rest get 429', async () => {
        const { secret } = await enrol(await ex.login('alice'));
        const attacker = await ex.login('alice');
        const guesses = wrongCodes(secret, 100);
        const answers = await inParallel(100, (i) => attacker.post('/2fa/verify', { json: { code: guesses[i] } }));
        const counts = tally(answers);
        const judged = counts['401 invalid_code'] ?? 0;
        expect(judged, JSON.stringify(counts)).to.be.within(1, 5);
        expect(counts['429 too_many_attempts'], JSON.stringify(counts)).to.equal(100 - judged);
        for (const a of answers.filter((x) => x.status === 429)) {
          expect(Number(a.headers.get('retry-after'))).to.be.above(0);
        }

        // Locked: even the right code is not judged, and says when to come back.
        const right = await attacker.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } });
        expect(right.status).to.equal(429);
        expect(right.body.error).to.equal('too_many_attempts');
        const retryAfter = Number(right.headers.get('retry-after'));
        expect(retryAfter).to.be.within(1, 15 * 60);
        expect(right.body.retryAfter).to.equal(retryAfter);
        expect((await attacker.get('/dashboard')).status).to.equal(401);
      });

      it('stops budget refresh by logging in again: a new session of the same user is still locked out', async () => {
        // Continues from the lockout above.
        const fresh = await ex.login('alice');
        const status = await fresh.get('/2fa');
        expect(status.body.session.verified).to.equal(false);
        const secretless = await fresh.post('/2fa/verify', { json: { code: '123456' } });
        expect(secretless.status).to.equal(429);
        expect(secretless.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      });

      it('stops spreading guesses over endpoints: every checkSecondFactor endpoint draws on one budget', async () => {
        const verified = await ex.login('bob');
        const { secret } = await enrol(verified);
        const attacker = await ex.login('bob');
        const [w1, w2, w3, w4, w5] = wrongCodes(secret, 5);
        const service = ex.app.tf.service;
        // Two wrong codes on /2fa/verify, three through other endpoints of the service.
        for (const code of [w1, w2]) {
          expect((await attacker.post('/2fa/verify', { json: { code } })).body.error).to.equal('invalid_code');
        }
        expect(await rejection(service.checkSecondFactor(BOB, w3, { endpoint: 'step-up', ip: '198.51.100.7' }))).to.equal('invalid_code');
        expect(await rejection(service.checkSecondFactor(BOB, w4, { endpoint: 'disable' }))).to.equal('invalid_code');
        // The fifth failure, wherever it comes from, is judged and starts the lockout.
        expect(await rejection(service.checkSecondFactor(BOB, w5, { endpoint: 'backup-codes' }))).to.equal('invalid_code');

        // Now every endpoint refuses even the right code.
        const right = await attacker.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } });
        expect(right.status).to.equal(429);
        expect(right.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
        expect(await rejection(service.checkSecondFactor(BOB, await codeWithTimeLeft(secret, 0), { endpoint: 'step-up' }))).to.equal('too_many_attempts');
        expect(await rejection(service.checkSecondFactor(BOB, await codeWithTimeLeft(secret, 1), { endpoint: 'disable' }))).to.equal('too_many_attempts');

        // Linking another authenticator is refused too, even from the session
        // that verified before the lockout and with the right code of the new secret.
        const started = await ex.app.tf.service.startEnrolment(BOB, 'bob', 'Tablet', { endpoint: 'setup' });
        expect(await rejection(service.confirmEnrolment(BOB, started.enrolmentId, await codeWithTimeLeft(started.secret, 0), { endpoint: 'setup/confirm' })))
          .to.equal('too_many_attempts');
      });

      it('judges nothing else for the locked user: the lockout is per user, other users are unaffected', async () => {
        const admin = await ex.login('admin');
        const { secret } = await enrol(admin);
        const other = await ex.login('admin');
        expect((await other.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } })).status).to.equal(200);
        // alice is still locked.
        expect(await rejection(ex.app.tf.service.checkSecondFactor(ALICE, '000000', { endpoint: 'verify' }))).to.equal('too_many_attempts');
      });
    });

    describe('backup codes under parallel guessing, with the default limits', () => {
      let ex: RunningExample;
      let client: Redis | undefined;
      let counter: ReturnType<typeof countingConsumes>;

      before(async () => {
        let records: RecordStore;
        let guard: GuardStore;
        if (mode === 'redis') {
          client = createRedisClient(redis!.url);
          records = new RedisRecordStore(client, { keyPrefix: 'backup' });
          guard = new RedisGuardStore(client, { keyPrefix: 'backup' });
        } else {
          records = new MemoryRecordStore();
          guard = new MemoryGuardStore();
        }
        counter = countingConsumes(records);
        ex = await app('backup', { records: counter.store, guard });
      });

      after(async () => {
        await ex?.stop();
        client?.disconnect();
      });

      it('stops parallel backup-code guessing: of 100 guesses sent at once at most 5 are judged', async () => {
        await enrol(await ex.login('alice'));
        const attacker = await ex.login('alice');
        const before = counter.judged();
        // Well-formed backup codes (xxxxx-xxxxx), none of them alice's.
        const guesses = Array.from({ length: 100 }, (_, i) => `zzzzz-${String(i).padStart(5, '0')}`);
        const answers = await inParallel(100, (i) => attacker.post('/2fa/verify', { json: { code: guesses[i] } }));
        const counts = tally(answers);
        expect(counts['401 invalid_code'] ?? 0, JSON.stringify(counts)).to.be.within(1, 5);
        expect(counts['429 too_many_attempts'] ?? 0, JSON.stringify(counts)).to.equal(100 - (counts['401 invalid_code'] ?? 0));
        // The answers alone do not show how many guesses were compared with the
        // stored codes: a right one among them would have let the attacker in.
        expect(counter.judged() - before, 'backup-code guesses judged').to.be.at.most(5);
      });
    });

    describe('hard cap (100 consecutive failures), with 1 ms lockouts to get there quickly', () => {
      let ex: RunningExample;

      before(async () => {
        // lockoutMs 1: the 5-per-window lockouts end at once, so only the hard
        // cap stops the guessing. The per-IP limit (50 failures per IP) is off:
        // it would stop this single-IP attacker first.
        ex = await app('cap', { limits: { maxFailures: 5, lockoutMs: 1, maxLockoutMs: 1, failureWindowMs: 60_000, hardCap: 100, ipMaxFailures: 0 } });
      });

      after(async () => {
        await ex?.stop();
      });

      it('stops a slow brute force: after 100 consecutive failures TOTP is blocked until a backup code is used', async () => {
        const { secret, backupCodes } = await enrol(await ex.login('alice'));
        const attacker = await ex.login('alice');
        let judged = 0;
        let lockedAnswers = 0;
        for (const code of wrongCodes(secret, 100)) {
          for (;;) {
            const a = await attacker.post('/2fa/verify', { json: { code } });
            if (a.status === 401) {
              expect(a.body.error).to.equal('invalid_code');
              judged += 1;
              break;
            }
            expect(a.status, a.text).to.equal(429);
            expect(a.headers.get('retry-after'), 'a lockout, not the cap, before 100 failures').to.equal('1');
            lockedAnswers += 1;
            await sleep(3);
          }
        }
        expect(judged).to.equal(100);
        expect(lockedAnswers).to.be.below(100);

        // The cap: the right code is refused, with no time to wait for; it lasts
        // past any lockout and survives a new login.
        const capped = async (client: HttpClient) => {
          await sleep(5);
          const a = await client.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } });
          expect(a.status, a.text).to.equal(429);
          expect(a.body.error).to.equal('too_many_attempts');
          expect(a.headers.get('retry-after')).to.equal(null);
        };
        await capped(attacker);
        await capped(await ex.login('alice'));

        // A backup code passes the cap, and clears it.
        const user = await ex.login('alice');
        const backup = await user.post('/2fa/verify', { json: { code: backupCodes[0] } });
        expect(backup.status, backup.text).to.equal(200);
        expect(backup.body.method).to.equal('backup');
        const totp = await (await ex.login('alice')).post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } });
        expect(totp.status, totp.text).to.equal(200);
        expect(totp.body.method).to.equal('totp');
      });
    });
  });
}
