/**
 * The Redis record's layout (issue 18): an authenticator app and its backup
 * codes stay in Redis' compact listpack encoding, and a record written in the
 * layout before 0.2 (each device one JSON field `d:<id>`, backup codes as the
 * whole HMAC in hex) is still read, still verifies, and is converted by the
 * first script that writes to it.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { generateBackupCodes, legacyBackupHash, normalizeBackupCode } from '../../src/core/backup-codes.ts';
import { generateCode, generateSecret, MemoryGuardStore, SecretBox, TwoFactorService } from '../../src/index.ts';
import { redisKeys } from '../../src/stores/redis-keys.ts';
import { RedisGuardStore } from '../../src/stores/redis-guard-store.ts';
import { RedisRecordStore } from '../../src/stores/redis-record-store.ts';
import { resolveLimits } from '../../src/core/limits.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

const KEYS = `k1:${SecretBox.randomKey()}`;
/** Redis' default `hash-max-listpack-value`: a longer field or value turns the hash into a hashtable. */
const LISTPACK_VALUE = 64;
const info = { endpoint: 'verify' };

describe('stores/redis: the record layout', function () {
  this.timeout(20_000);
  let server: RedisProcess;
  let client: Redis;
  let prefix = 0;

  before(async () => {
    server = await startRedis();
    client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    client?.disconnect();
    await server?.stop();
  });

  function setup() {
    prefix += 1;
    const keyPrefix = `layout${prefix}`;
    const records = new RedisRecordStore(client, { keyPrefix });
    const service = new TwoFactorService({ records, guard: new MemoryGuardStore(), encryptionKeys: KEYS, issuer: 'test', logger: () => {} });
    return { records, service, keys: redisKeys(keyPrefix) };
  }

  it('keeps an authenticator app, 10 backup codes and its last use in a listpack of at most 600 bytes', async () => {
    const { service, keys } = setup();
    const started = await service.startEnrolment('12345', 'alice', 'Phone', info);
    const done = await service.confirmEnrolment('12345', started.enrolmentId, generateCode(started.secret, Date.now() - 30_000), info);
    expect(done.backupCodes).to.have.length(10);
    await service.checkSecondFactor('12345', generateCode(started.secret, Date.now()), info);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the last-use write is not awaited

    const h = await client.hgetall(keys.record('12345'));
    expect(Object.keys(h).filter((f) => f.startsWith('u:'))).to.have.length(1);
    for (const [field, value] of Object.entries(h)) {
      expect(Buffer.byteLength(field), field).to.be.at.most(LISTPACK_VALUE);
      expect(Buffer.byteLength(value), `${field} = ${value}`).to.be.at.most(LISTPACK_VALUE);
    }
    expect(await client.object('ENCODING', keys.record('12345'))).to.equal('listpack');
    expect(await client.memory('USAGE', keys.record('12345'))).to.be.at.most(600);
  });

  it('reads a record of the layout before 0.2, verifies its codes, and converts it at the first write', async () => {
    const { records, service, keys } = setup();
    const box = new SecretBox([{ id: 'k1', key: KEYS.slice(3) }]);
    const secret = generateSecret();
    const backupCodes = generateBackupCodes(3);
    const [backupKey] = box.deriveKeys('koa-two-factor backup codes');
    const passkey = { credentialId: 'Y3JlZA', publicKey: 'cHVibGlj', transports: [] as string[] };
    await client.hset(keys.record('u1'),
      'd:app', JSON.stringify({ id: 'app', sealedSecret: box.seal(secret, 'u1'), createdAt: 1_700_000_000_000 }),
      'n:app', 'Old phone', 'u:app', '1700000100000',
      'd:key', JSON.stringify({ id: 'key', sealedSecret: '', createdAt: 1_700_000_050_000, passkey }),
      'n:key', 'Laptop', 'c:key', '7',
      ...backupCodes.flatMap((c) => [`b:${legacyBackupHash(backupKey!, 'u1', normalizeBackupCode(c)!)}`, '1']),
      'gen', '4');

    const before = await records.get('u1');
    expect(before).to.deep.include({ backupCodesRemaining: 3, generation: 4, required: false });
    expect(before.devices.map((d) => [d.id, d.name, d.createdAt, d.lastUsedAt])).to.deep.equal([
      ['app', 'Old phone', 1_700_000_000_000, 1_700_000_100_000],
      ['key', 'Laptop', 1_700_000_050_000, null],
    ]);
    expect(before.devices[1]!.passkey).to.deep.equal({ ...passkey, counter: 7 });

    // A backup code stored in the old form is consumed, once.
    expect((await service.checkSecondFactor('u1', backupCodes[0]!, info)).method).to.equal('backup');
    expect((await records.get('u1')).backupCodesRemaining).to.equal(2);
    // The app's code opens the old box; the last-use write converts the record.
    expect((await service.checkSecondFactor('u1', generateCode(secret, Date.now()), info)).method).to.equal('totp');
    await new Promise((resolve) => setTimeout(resolve, 50));

    const h = await client.hgetall(keys.record('u1'));
    expect(Object.keys(h).filter((f) => f.startsWith('d:')), 'old device fields left').to.deep.equal([]);
    expect(h).to.include({ v: '2', 't:app': '1700000000000', 't:key': '1700000050000', 'c:key': '7', 'n:key': 'Laptop' });
    const after = await records.get('u1');
    expect(after.devices.map((d) => ({ ...d, lastUsedAt: null }))).to.deep.equal(before.devices.map((d) => ({ ...d, lastUsedAt: null })));
    expect(after.backupCodesRemaining).to.equal(2);

    // Converted devices still count: a limit of 2 is full.
    expect(await records.addDevice('u1', { id: 'third', name: 'x', sealedSecret: box.sealSecret(generateSecret(), 'u1'), createdAt: Date.now(), lastUsedAt: null }, 2)).to.equal('full');
    expect(await records.removeDevice('u1', 'key')).to.equal('removed');
    expect(await records.removeDevice('u1', 'app')).to.equal('removed-last');
    expect((await records.get('u1')).backupCodesRemaining, 'the last device takes the backup codes').to.equal(0);
  });

  it('the attempt script writes an accepted device\'s last use into the record when the stores share a client (recordLastUse)', async () => {
    const { records, keys } = setup();
    const keyPrefix = keys.record('x').split(':{')[0]!;
    const limits = resolveLimits({});
    const beside = new RedisGuardStore(client, { keyPrefix, recordLastUse: true });
    const alone = new RedisGuardStore(client, { keyPrefix });
    await records.addDevice('u', { id: 'app', name: 'Phone', sealedSecret: 'k1.x', createdAt: 1, lastUsedAt: null }, 10);
    await client.hset(keys.record('old'), 'd:app', JSON.stringify({ id: 'app', sealedSecret: 'v1.k1.a.b.c', createdAt: 1 }));

    expect(await beside.attemptTotp('u', [{ deviceId: 'app', step: 10 }], limits, 1_000_000, 120_000, true)).to.deep.equal({ kind: 'accepted', deviceId: 'app', step: 10, lastUseRecorded: true });
    expect((await records.get('u')).devices[0]!.lastUsedAt).to.equal(1_000_000);
    expect(await beside.attemptTotp('old', [{ deviceId: 'app', step: 10 }], limits, 2_000_000, 120_000, true)).to.include({ lastUseRecorded: true });
    expect((await records.get('old')).devices[0]!.lastUsedAt, 'a record of the old layout too').to.equal(2_000_000);
    // A device removed meanwhile does not come back as a last use; a store without the option leaves it to the caller.
    expect(await beside.attemptTotp('u', [{ deviceId: 'gone', step: 11 }], limits, 3_000_000, 120_000, true)).to.deep.equal({ kind: 'accepted', deviceId: 'gone', step: 11 });
    expect(await client.hexists(keys.record('u'), 'u:gone')).to.equal(0);
    expect(await alone.attemptTotp('u', [{ deviceId: 'app', step: 12 }], limits, 4_000_000, 120_000, true)).to.deep.equal({ kind: 'accepted', deviceId: 'app', step: 12 });
    expect((await records.get('u')).devices[0]!.lastUsedAt).to.equal(1_000_000);
  });

  it('converts a record holding only a passkey and leaves an absent record absent', async () => {
    const { records, keys } = setup();
    await client.hset(keys.record('p'), 'd:key', JSON.stringify({ id: 'key', sealedSecret: '', createdAt: 5, passkey: { credentialId: 'a', publicKey: 'b', transports: ['usb', 'nfc'] } }), 'n:key', 'Key');
    expect(await records.advancePasskeyCounter('p', 'key', 3)).to.equal('advanced');
    expect((await records.get('p')).devices[0]!.passkey).to.deep.equal({ credentialId: 'a', publicKey: 'b', transports: ['usb', 'nfc'], counter: 3 });
    expect(await client.hget(keys.record('p'), 'v')).to.equal('2');

    await records.touchDevice('nobody', 'x', 1);
    expect(await client.exists(keys.record('nobody'))).to.equal(0);
  });
});
