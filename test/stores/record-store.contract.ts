/**
 * The RecordStore contract: every implementation (memory, Redis, Redis
 * Cluster) runs these same tests. Not a spec file itself: the *.test.ts
 * files call `recordStoreContract` with a factory.
 */
import { expect } from 'chai';
import type { DeviceRecord, RecordStore } from '../../src/core/store-types.ts';

export interface StoreHandle<S> {
  store: S;
  /** Releases whatever `makeStore` set up for this one test. */
  cleanup: () => Promise<void>;
}

function device(id: string, createdAt: number, over: Partial<DeviceRecord> = {}): DeviceRecord {
  return { id, name: `Device ${id}`, sealedSecret: `v1.k.iv.tag.${id}`, createdAt, lastUsedAt: null, ...over };
}

/** A device limit none of the tests below reaches. */
const MAX = 10;

/** Ten distinct fake hashes, tagged so two sets differ. */
function hashes(tag: string, n = 10): string[] {
  return Array.from({ length: n }, (_, i) => `${tag}${i}`.padEnd(64, '0'));
}

export function recordStoreContract(name: string, makeStore: () => Promise<StoreHandle<RecordStore>>): void {
  describe(`${name}: RecordStore contract`, () => {
    let store: RecordStore;
    let cleanup: (() => Promise<void>) | undefined;
    const T = 1_700_000_000_000;

    beforeEach(async () => {
      const made = await makeStore();
      store = made.store;
      cleanup = made.cleanup;
    });

    afterEach(async () => {
      await cleanup?.();
      cleanup = undefined;
    });

    describe('get', () => {
      it('returns an empty record for an unknown user', async () => {
        expect(await store.get('nobody')).to.deep.equal({
          userId: 'nobody', devices: [], backupCodesRemaining: 0, required: false, generation: 0,
        });
      });

      it('returns a snapshot: changing it does not change the store', async () => {
        await store.addDevice('u', device('d1', T), MAX);
        const r = await store.get('u');
        r.devices[0]!.name = 'changed';
        r.devices.push(device('d2', T));
        expect((await store.get('u')).devices.map((d) => d.name)).to.deep.equal(['Device d1']);
      });
    });

    describe('passkeys', () => {
      const passkey = (id: string, counter: number) => device(id, T, { sealedSecret: '', passkey: { credentialId: `cred-${id}`, publicKey: 'pQECAyYgASFYIA', counter, transports: ['internal', 'usb'] } });

      it('keeps a passkey\'s credential, public key, transports and counter', async () => {
        await store.addDevice('u', passkey('p1', 7), MAX);
        expect((await store.get('u')).devices).to.deep.equal([passkey('p1', 7)]);
      });

      it('advances the counter only forwards; a key that keeps none (0) stays valid at 0', async () => {
        await store.addDevice('u', passkey('p1', 5), MAX);
        expect(await store.advancePasskeyCounter('u', 'p1', 5)).to.equal('regressed');
        expect(await store.advancePasskeyCounter('u', 'p1', 4)).to.equal('regressed');
        expect(await store.advancePasskeyCounter('u', 'p1', 0)).to.equal('regressed');
        expect(await store.advancePasskeyCounter('u', 'p1', 6)).to.equal('advanced');
        expect((await store.get('u')).devices[0]!.passkey!.counter).to.equal(6);
        await store.addDevice('u', passkey('p0', 0), MAX);
        expect(await store.advancePasskeyCounter('u', 'p0', 0)).to.equal('advanced');
        expect(await store.advancePasskeyCounter('u', 'p0', 0)).to.equal('advanced');
        expect(await store.advancePasskeyCounter('u', 'nope', 9)).to.equal('missing');
      });

      it('of 20 concurrent advances to the same counter, exactly one succeeds', async () => {
        await store.addDevice('u', passkey('p1', 1), MAX);
        const outcomes = await Promise.all(Array.from({ length: 20 }, () => store.advancePasskeyCounter('u', 'p1', 2)));
        expect(outcomes.filter((o) => o === 'advanced')).to.have.length(1);
      });

      it('forgets the counter with the device: a re-added id starts from its own counter', async () => {
        await store.addDevice('u', passkey('p1', 9), MAX);
        await store.removeDevice('u', 'p1');
        await store.addDevice('u', passkey('p1', 2), MAX);
        expect((await store.get('u')).devices[0]!.passkey!.counter).to.equal(2);
        await store.clearFactors('u');
        await store.addDevice('u', passkey('p1', 0), MAX);
        expect(await store.advancePasskeyCounter('u', 'p1', 0)).to.equal('advanced');
      });
    });

    describe('devices', () => {
      it('adds devices and lists them with every field, oldest first', async () => {
        const a = device('a', T + 2, { name: 'Phone ✓', lastUsedAt: T + 5 });
        const b = device('b', T + 1);
        await store.addDevice('u', a, MAX);
        await store.addDevice('u', b, MAX);
        const r = await store.get('u');
        expect(r.devices).to.deep.equal([b, a]);
        expect(r.devices[0]!.lastUsedAt).to.equal(null);
      });

      it('says which device was the first one', async () => {
        expect(await store.addDevice('u', device('a', T), MAX)).to.equal('added-first');
        expect(await store.addDevice('u', device('b', T + 1), MAX)).to.equal('added');
        expect(await store.addDevice('other', device('a', T), MAX)).to.equal('added-first');
      });

      it('refuses a device past maxDevices and writes nothing of it', async () => {
        await store.addDevice('u', device('a', T), 2);
        await store.addDevice('u', device('b', T + 1), 2);
        expect(await store.addDevice('u', device('c', T + 2, { lastUsedAt: T }), 2)).to.equal('full');
        expect((await store.get('u')).devices.map((d) => d.id)).to.deep.equal(['a', 'b']);
        expect(await store.renameDevice('u', 'c', 'x')).to.equal(false);
        // Re-adding an existing id replaces it: never refused as one more.
        expect(await store.addDevice('u', device('b', T + 3, { name: 'New' }), 2)).to.equal('added');
        expect((await store.get('u')).devices.map((d) => d.name)).to.deep.equal(['Device a', 'New']);
      });

      it('stops parallel linking past the limit: of 13 concurrent adds with maxDevices 10, exactly 10 land', async () => {
        await store.addDevice('u', device('first', T), 10);
        const outcomes = await Promise.all(Array.from({ length: 13 }, (_, i) => store.addDevice('u', device(`p${i}`, T + 1 + i), 10)));
        expect(outcomes.filter((o) => o === 'added')).to.have.length(9);
        expect(outcomes.filter((o) => o === 'full')).to.have.length(4);
        expect((await store.get('u')).devices).to.have.length(10);
      });

      it('lets exactly one of parallel first devices be the first', async () => {
        const outcomes = await Promise.all(Array.from({ length: 5 }, (_, i) => store.addDevice('u', device(`p${i}`, T + i), MAX)));
        expect(outcomes.filter((o) => o === 'added-first')).to.have.length(1);
        expect(outcomes.filter((o) => o === 'added')).to.have.length(4);
      });

      it('renames an existing device and reports a missing one', async () => {
        await store.addDevice('u', device('a', T), MAX);
        expect(await store.renameDevice('u', 'a', 'Work phone')).to.equal(true);
        expect((await store.get('u')).devices[0]!.name).to.equal('Work phone');
        expect(await store.renameDevice('u', 'missing', 'x')).to.equal(false);
        expect(await store.renameDevice('other', 'a', 'x')).to.equal(false);
        expect((await store.get('u')).devices).to.have.length(1);
        expect((await store.get('other')).devices).to.have.length(0);
      });

      it('touches an existing device and ignores a missing one', async () => {
        await store.addDevice('u', device('a', T), MAX);
        await store.touchDevice('u', 'a', T + 1234);
        expect((await store.get('u')).devices[0]!.lastUsedAt).to.equal(T + 1234);
        await store.touchDevice('u', 'missing', T);
        await store.touchDevice('other', 'a', T);
        expect((await store.get('u')).devices.map((d) => d.id)).to.deep.equal(['a']);
        expect((await store.get('other')).devices).to.deep.equal([]);
      });

      it('removes a device once, leaving the others', async () => {
        await store.addDevice('u', device('a', T), MAX);
        await store.addDevice('u', device('b', T + 1), MAX);
        expect(await store.removeDevice('u', 'a')).to.equal('removed');
        expect(await store.removeDevice('u', 'a')).to.equal('missing');
        expect(await store.removeDevice('nobody', 'b')).to.equal('missing');
        expect((await store.get('u')).devices.map((d) => d.id)).to.deep.equal(['b']);
      });

      it('keeps the last device when asked, and drops the backup codes with the last one', async () => {
        await store.addDevice('u', device('a', T), MAX);
        await store.addDevice('u', device('b', T + 1), MAX);
        await store.replaceBackupCodes('u', ['h1', 'h2']);
        expect(await store.removeDevice('u', 'a', true)).to.equal('removed');
        expect(await store.removeDevice('u', 'b', true)).to.equal('kept-last');
        expect((await store.get('u')).backupCodesRemaining).to.equal(2);
        expect(await store.removeDevice('u', 'b')).to.equal('removed-last');
        const after = await store.get('u');
        expect(after.devices).to.deep.equal([]);
        expect(after.backupCodesRemaining).to.equal(0);
      });

      it('lets exactly one of two concurrent keepLast removals of the last two devices through', async () => {
        await store.addDevice('u', device('a', T), MAX);
        await store.addDevice('u', device('b', T + 1), MAX);
        const outcomes = await Promise.all([store.removeDevice('u', 'a', true), store.removeDevice('u', 'b', true)]);
        expect(outcomes.sort()).to.deep.equal(['kept-last', 'removed']);
        expect((await store.get('u')).devices).to.have.length(1);
      });

      it('does not bring back the old name or last use when a removed device id is renamed or touched', async () => {
        await store.addDevice('u', device('a', T, { lastUsedAt: T }), MAX);
        await store.removeDevice('u', 'a');
        expect(await store.renameDevice('u', 'a', 'ghost')).to.equal(false);
        await store.touchDevice('u', 'a', T + 1);
        expect((await store.get('u')).devices).to.deep.equal([]);
      });

      it('keeps each user\'s devices apart, including ids with braces, colons and non-ASCII', async () => {
        const users = ['alice', '{alice}', 'alice:record', 'ålice smith', '42'];
        for (const [i, u] of users.entries()) await store.addDevice(u, device(`d${i}`, T + i), MAX);
        for (const [i, u] of users.entries()) {
          const r = await store.get(u);
          expect(r.userId).to.equal(u);
          expect(r.devices.map((d) => d.id), u).to.deep.equal([`d${i}`]);
        }
      });
    });

    describe('backup codes', () => {
      it('stores a set and counts what remains', async () => {
        await store.replaceBackupCodes('u', hashes('a'));
        expect((await store.get('u')).backupCodesRemaining).to.equal(10);
      });

      it('replaces the whole set: old codes are gone, new ones work', async () => {
        const oldSet = hashes('a');
        const newSet = hashes('b');
        await store.replaceBackupCodes('u', oldSet);
        await store.replaceBackupCodes('u', newSet);
        expect((await store.get('u')).backupCodesRemaining).to.equal(10);
        for (const h of oldSet) expect(await store.consumeBackupCode('u', [h])).to.equal(false);
        expect(await store.consumeBackupCode('u', [newSet[3]!])).to.equal(true);
        expect((await store.get('u')).backupCodesRemaining).to.equal(9);
      });

      it('replaces with an empty set', async () => {
        await store.replaceBackupCodes('u', hashes('a'));
        await store.replaceBackupCodes('u', []);
        expect((await store.get('u')).backupCodesRemaining).to.equal(0);
      });

      it('leaves devices, required and generation alone when replacing codes', async () => {
        await store.addDevice('u', device('a', T), MAX);
        await store.setRequired(['u'], true);
        await store.bumpGeneration('u');
        await store.replaceBackupCodes('u', hashes('a'));
        const r = await store.get('u');
        expect(r.devices).to.have.length(1);
        expect(r.required).to.equal(true);
        expect(r.generation).to.equal(1);
      });

      it('consumes a code exactly once', async () => {
        const set = hashes('a');
        await store.replaceBackupCodes('u', set);
        expect(await store.consumeBackupCode('u', [set[0]!])).to.equal(true);
        expect(await store.consumeBackupCode('u', [set[0]!])).to.equal(false);
        expect((await store.get('u')).backupCodesRemaining).to.equal(9);
      });

      it('refuses an unknown hash and another user\'s hash', async () => {
        const set = hashes('a');
        await store.replaceBackupCodes('u', set);
        expect(await store.consumeBackupCode('u', ['f'.repeat(64)])).to.equal(false);
        expect(await store.consumeBackupCode('other', [set[0]!])).to.equal(false);
        expect((await store.get('u')).backupCodesRemaining).to.equal(10);
      });

      it('lets exactly one of 50 concurrent consumes of one code succeed', async () => {
        const set = hashes('a');
        await store.replaceBackupCodes('u', set);
        const results = await Promise.all(Array.from({ length: 50 }, () => store.consumeBackupCode('u', [set[7]!])));
        expect(results.filter(Boolean)).to.have.length(1);
        expect((await store.get('u')).backupCodesRemaining).to.equal(9);
      });
    });

    describe('clearFactors', () => {
      it('removes devices and backup codes but keeps required and generation', async () => {
        await store.addDevice('u', device('a', T, { lastUsedAt: T }), MAX);
        await store.addDevice('u', device('b', T + 1), MAX);
        await store.replaceBackupCodes('u', hashes('a'));
        await store.setRequired(['u'], true);
        await store.bumpGeneration('u');
        await store.clearFactors('u');
        expect(await store.get('u')).to.deep.equal({
          userId: 'u', devices: [], backupCodesRemaining: 0, required: true, generation: 1,
        });
      });

      it('does not touch other users, and is harmless for an unknown user', async () => {
        await store.addDevice('u', device('a', T), MAX);
        await store.clearFactors('nobody');
        expect((await store.get('nobody')).devices).to.deep.equal([]);
        expect((await store.get('u')).devices).to.have.length(1);
      });

      it('lets a re-added device start without the old name or last use', async () => {
        await store.addDevice('u', device('a', T, { name: 'Old', lastUsedAt: T + 9 }), MAX);
        await store.clearFactors('u');
        await store.addDevice('u', device('a', T + 1, { name: 'New' }), MAX);
        expect((await store.get('u')).devices).to.deep.equal([device('a', T + 1, { name: 'New' })]);
      });
    });

    describe('generation', () => {
      it('bumpGeneration increments and returns the new value', async () => {
        expect(await store.bumpGeneration('u')).to.equal(1);
        expect(await store.bumpGeneration('u')).to.equal(2);
        expect(await store.bumpGeneration('u')).to.equal(3);
        expect((await store.get('u')).generation).to.equal(3);
        expect((await store.get('other')).generation).to.equal(0);
      });

      it('bumps once per call under concurrency', async () => {
        const got = await Promise.all(Array.from({ length: 20 }, () => store.bumpGeneration('u')));
        expect([...got].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      });
    });

    describe('required', () => {
      it('sets and clears required for several users at once', async () => {
        await store.setRequired(['a', 'b'], true);
        expect((await store.get('a')).required).to.equal(true);
        expect((await store.get('b')).required).to.equal(true);
        expect((await store.get('c')).required).to.equal(false);
        await store.setRequired(['a'], false);
        expect((await store.get('a')).required).to.equal(false);
        expect((await store.get('b')).required).to.equal(true);
        await store.setRequired([], true);
      });
    });

    describe('policy', () => {
      it('defaults to requireAll false, and stores what is set', async () => {
        expect(await store.getPolicy()).to.deep.equal({ requireAll: false });
        await store.setPolicy({ requireAll: true });
        expect(await store.getPolicy()).to.deep.equal({ requireAll: true });
        await store.setPolicy({ requireAll: false });
        expect(await store.getPolicy()).to.deep.equal({ requireAll: false });
      });

      it('returns a copy of the policy', async () => {
        await store.setPolicy({ requireAll: true });
        const p = await store.getPolicy();
        p.requireAll = false;
        expect(await store.getPolicy()).to.deep.equal({ requireAll: true });
      });
    });
  });
}
