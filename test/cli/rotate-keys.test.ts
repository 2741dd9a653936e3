/**
 * `koa-two-factor rotate-keys` on a real redis-server: 10,000 users whose
 * secrets are sealed with the old key are re-sealed with the new one while
 * the app (the service, configured `new,old` as after the deploy) verifies
 * codes in parallel and changes records under the rotation's feet. After it
 * every secret opens with the new key alone and still verifies; a secret the
 * app replaced meanwhile is the app's, not the rotation's; a second run
 * re-seals nothing; `--dry-run` writes nothing.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { generateCode, generateSecret, TwoFactorService, type DeviceRecord } from '../../src/index.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import { redisKeys } from '../../src/stores/redis-keys.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { cli, newKey, seedUsers } from './helpers.ts';

const USERS = 10_000;
const ENROLMENTS = 20;
/** Deadline of a store call in this file's services: the default 1 s is a latency promise; these tests check what is stored, on a CI machine that may be loaded. */
const STORE_TIMEOUT_MS = 10_000;
/** Users the app changes between the rotation's read and write (by their number mod 100). */
const REPLACED_WITH_NEW_KEY = 7;
const REPLACED_BY_LAGGING_SERVER = 21;
const RENAMED = 33;
const CHANGED_PER_100 = new Set([REPLACED_WITH_NEW_KEY, REPLACED_BY_LAGGING_SERVER, RENAMED]);

function numberOf(userId: string): number {
  return Number(userId.slice(userId.lastIndexOf('-') + 1));
}

describe('koa-two-factor rotate-keys: 10,000 secrets re-sealed while the app serves', function () {
  this.timeout(60_000);
  let redis: RedisProcess;
  let client: Redis;
  let records: RedisRecordStore;
  let guard: RedisGuardStore;
  const oldKey = newKey('old');
  const newKeyOnly = newKey('new');
  const bothKeys = `${newKeyOnly.setting},${oldKey.setting}`;
  let secrets: Map<string, string>;
  const enrolmentIds: [string, string, string][] = [];

  before(async () => {
    redis = await startRedis({ args: ['--maxmemory-policy', 'noeviction'] });
    client = new Redis(redis.url);
    records = new RedisRecordStore(client);
    guard = new RedisGuardStore(client);
    secrets = await seedUsers(client, '2fa', oldKey.box, USERS);
    for (let i = 0; i < ENROLMENTS; i++) {
      const userId = `user-${i}`;
      const secret = generateSecret();
      const id = `e${i}`;
      await guard.saveEnrolment({ id, userId, name: 'New phone', sealedSecret: oldKey.box.seal(secret, userId), createdAt: Date.now(), expiresAt: Date.now() + 600_000 });
      enrolmentIds.push([userId, id, secret]);
    }
  });
  after(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  it('the compare-and-set: a re-seal whose expected secret is no longer stored writes nothing', async () => {
    const store = new RedisRecordStore(client, { keyPrefix: 'cas' });
    const device = (sealed: string): DeviceRecord => ({ id: 'd1', name: 'Phone', sealedSecret: sealed, createdAt: 1, lastUsedAt: null });
    const first = oldKey.box.seal('SECRET-ONE', 'u');
    const replaced = oldKey.box.seal('SECRET-TWO', 'u');
    await store.addDevice('u', device(replaced), 10);
    const before = await client.hgetall(redisKeys('cas').record('u'));
    expect(await store.resealDevice('u', 'd1', first, newKeyOnly.box.seal('SECRET-ONE', 'u'))).to.equal('changed');
    expect(await client.hgetall(redisKeys('cas').record('u'))).to.deep.equal(before);
    expect(await store.resealDevice('u', 'nope', replaced, newKeyOnly.box.seal('SECRET-TWO', 'u'))).to.equal('missing');
    expect(await client.hgetall(redisKeys('cas').record('u'))).to.deep.equal(before);
    const next = newKeyOnly.box.seal('SECRET-TWO', 'u');
    expect(await store.resealDevice('u', 'd1', replaced, next)).to.equal('resealed');
    // Only the sealed secret changed: every other field is the same.
    expect(await client.hgetall(redisKeys('cas').record('u'))).to.deep.equal({ ...before, 's:d1': next });
    expect((await store.get('u')).devices[0]).to.include({ sealedSecret: next, name: 'Phone', createdAt: 1 });

    const casGuard = new RedisGuardStore(client, { keyPrefix: 'cas' });
    const sealed = oldKey.box.seal('PENDING', 'u');
    await casGuard.saveEnrolment({ id: 'e', userId: 'u', name: 'n', sealedSecret: sealed, createdAt: 1, expiresAt: Date.now() + 600_000 });
    expect(await casGuard.resealEnrolment('u', 'e', oldKey.box.seal('OTHER', 'u'), newKeyOnly.box.seal('OTHER', 'u'))).to.equal('changed');
    expect((await casGuard.getEnrolment('u', 'e'))!.sealedSecret).to.equal(sealed);
    expect(await casGuard.resealEnrolment('u', 'e', sealed, newKeyOnly.box.seal('PENDING', 'u'))).to.equal('resealed');
    const ttl = await client.pttl(redisKeys('cas').enrolment('u', 'e'));
    expect(ttl, 'KEEPTTL: the enrolment keeps its lifetime').to.be.within(590_000, 600_000);
    expect(await casGuard.resealEnrolment('u', 'gone', sealed, newKeyOnly.box.seal('PENDING', 'u'))).to.equal('missing');
    await client.del(redisKeys('cas').record('u'), redisKeys('cas').enrolment('u', 'e'));
  });

  it('--dry-run counts every secret sealed with another key and writes nothing', async () => {
    const sample = Array.from({ length: 200 }, (_, i) => redisKeys().record(`user-${i * 50}`));
    const before = await Promise.all(sample.map((k) => client.hgetall(k)));
    const run = await cli(['rotate-keys', '--dry-run', '--json', '--redis', redis.url], { TWO_FACTOR_KEYS: bothKeys });
    expect(run.status, run.stderr).to.equal(0);
    const summary = run.json();
    expect(summary).to.include({ dryRun: true, key: 'new', resealed: USERS + ENROLMENTS });
    expect(summary.devices).to.include({ resealed: USERS, current: 0, unopenable: 0 });
    expect(await Promise.all(sample.map((k) => client.hgetall(k)))).to.deep.equal(before);
    const pending = await Promise.all(enrolmentIds.map(([u, id]) => guard.getEnrolment(u, id)));
    expect(pending.every((e) => e!.sealedSecret.startsWith('v1.old.'))).to.equal(true);
  });

  it('re-seals every secret while verifications run and records change; none changed meanwhile is overwritten', async () => {
    // The app after the deploy: the new key first, the old one still listed.
    // A loaded CI machine may take longer than the default 1 s per store call: this test is about what is stored, not latency.
    const app = new TwoFactorService({ records, guard, encryptionKeys: bothKeys, issuer: 'test', logger: () => {}, storeTimeoutMs: STORE_TIMEOUT_MS });
    const names = new Map<string, string>();
    const changedOnce = new Set<string>();
    // Between the rotation's read of a batch and its writes, the app changes some of those users.
    const afterRead = async (userIds: string[]) => {
      await Promise.all(userIds.filter((id) => CHANGED_PER_100.has(numberOf(id) % 100) && !changedOnce.has(id)).map(async (id) => {
        changedOnce.add(id);
        const kind = numberOf(id) % 100;
        if (kind === RENAMED) {
          names.set(id, 'Renamed meanwhile');
          expect(await records.renameDevice(id, 'd1', 'Renamed meanwhile')).to.equal(true);
          return;
        }
        // A replaced authenticator: by a server with the new configuration, or by one still sealing with the old key.
        const secret = generateSecret();
        const box = kind === REPLACED_WITH_NEW_KEY ? newKeyOnly.box : oldKey.box;
        secrets.set(id, secret);
        names.set(id, 'Replaced meanwhile');
        await records.addDevice(id, { id: 'd1', name: 'Replaced meanwhile', sealedSecret: box.sealSecret(secret, id), createdAt: Date.now(), lastUsedAt: null }, 10);
      }));
    };

    // Meanwhile users log in: each verifies a code through the service, once.
    let rotating = true;
    const verified: string[] = [];
    const failures: string[] = [];
    const candidates = [...secrets.keys()].filter((id) => !CHANGED_PER_100.has(numberOf(id) % 100)).slice(5000, 7000);
    const verifier = async () => {
      while (rotating && candidates.length > 0) {
        const id = candidates.pop()!;
        try {
          const r = await app.checkSecondFactor(id, generateCode(secrets.get(id)!, Date.now()), { endpoint: 'verify' });
          if (r.method === 'totp') verified.push(id);
          else failures.push(`${id}: ${r.method}`);
        } catch (err) {
          failures.push(`${id}: ${(err as Error).message}`);
        }
      }
    };
    const verifiers = Array.from({ length: 4 }, verifier);
    const started = Date.now();
    const run = await cli(['rotate-keys', '--redis', redis.url], { TWO_FACTOR_KEYS: bothKeys }, { afterRead });
    rotating = false;
    await Promise.all(verifiers);
    const took = Date.now() - started;

    expect(run.status, run.stderr).to.equal(0);
    expect(failures, 'verifications during the rotation').to.deep.equal([]);
    expect(verified.length, 'verifications ran during the rotation').to.be.greaterThan(20);
    expect(changedOnce.size).to.equal(300);
    // 100 replaced with the new key need nothing; the rest, the 100 replaced by a lagging server included, are re-sealed.
    const resealed = USERS - 100 + ENROLMENTS;
    expect(run.stdout).to.contain(`re-sealed ${resealed.toLocaleString('en-US')} secrets with key "new" (9,900 authenticator apps, 20 pending enrolments)`);
    expect(run.stdout).to.match(/changed by the app meanwhile \(read again, never overwritten\) 200;/);
    expect(run.stdout).to.contain('could not be opened 0');
    expect(run.stdout).to.contain('Keep "old" listed after "new"');
    expect(took, 'rotation time').to.be.below(30_000);

    // Every secret opens with the new key alone and is the one the user has, the app's changes included.
    const onlyNew = newKeyOnly.box;
    const ids = [...secrets.keys()];
    const wrong: string[] = [];
    for (let i = 0; i < ids.length; i += 1000) {
      const batch = await Promise.all(ids.slice(i, i + 1000).map((id) => records.get(id)));
      for (const r of batch) {
        const d = r.devices[0]!;
        if (r.devices.length !== 1 || onlyNew.open(d.sealedSecret, r.userId) !== secrets.get(r.userId)) wrong.push(r.userId);
        else if (!onlyNew.isCompact(d.sealedSecret)) wrong.push(`${r.userId} still in the long form`);
        else if (d.name !== (names.get(r.userId) ?? 'Phone')) wrong.push(`${r.userId} named ${d.name}`);
      }
    }
    expect(wrong, 'users whose secret or name is not what they should be').to.deep.equal([]);

    // And every user still verifies, on an app that lists only the new key (a step later than any code used above).
    const later = Date.now() + 60_000;
    const appNewOnly = new TwoFactorService({ records, guard, encryptionKeys: newKeyOnly.setting, issuer: 'test', logger: () => {}, now: () => later, storeTimeoutMs: STORE_TIMEOUT_MS });
    const refused: string[] = [];
    for (let i = 0; i < ids.length; i += 200) {
      await Promise.all(ids.slice(i, i + 200).map(async (id) => {
        try {
          await appNewOnly.checkSecondFactor(id, generateCode(secrets.get(id)!, later), { endpoint: 'verify' });
        } catch (err) {
          refused.push(`${id}: ${(err as Error).message}`);
        }
      }));
    }
    expect(refused.slice(0, 5), `${refused.length} users refused`).to.deep.equal([]);

    // Pending enrolments: re-sealed, their 10 minutes kept.
    for (const [userId, id, secret] of enrolmentIds) {
      const e = (await guard.getEnrolment(userId, id))!;
      expect(onlyNew.open(e.sealedSecret, userId)).to.equal(secret);
      expect(await client.pttl(redisKeys().enrolment(userId, id))).to.be.within(1, 600_000);
    }
  });

  it('a second run finds nothing left to re-seal (resumable)', async () => {
    const run = await cli(['rotate-keys', '--json', '--redis', redis.url], { TWO_FACTOR_KEYS: bothKeys });
    expect(run.status, run.stderr).to.equal(0);
    expect(run.json()).to.deep.include({ resealed: 0 });
    expect(run.json().devices).to.include({ resealed: 0, current: USERS, changed: 0, unopenable: 0 });
  });
});
