import { expect } from 'chai';
import { resolveLimits } from '../../src/core/limits.ts';
import { MemoryGuardStore } from '../../src/stores/memory-guard-store.ts';
import { MemoryRecordStore } from '../../src/stores/memory-record-store.ts';
import { guardStoreContract } from './guard-store.contract.ts';
import { recordStoreContract } from './record-store.contract.ts';

const noCleanup = async (): Promise<void> => {};

describe('stores/memory', () => {
  recordStoreContract('MemoryRecordStore', async () => ({ store: new MemoryRecordStore(), cleanup: noCleanup }));
  guardStoreContract('MemoryGuardStore', async () => ({ store: new MemoryGuardStore(), cleanup: noCleanup }));

  describe('MemoryGuardStore clock', () => {
    it('expires enrolments and IP counters by its replaceable `now`', async () => {
      const store = new MemoryGuardStore();
      let clock = 1_000_000;
      store.now = () => clock;
      await store.saveEnrolment({ id: 'e', userId: 'u', name: 'P', sealedSecret: 's', createdAt: clock, expiresAt: clock + 100 });
      const limits = resolveLimits({ ipMaxFailures: 1, ipWindowMs: 100 });
      expect(await store.countIpAttempt('ip', limits)).to.deep.equal({ kind: 'counted' });
      clock += 99;
      expect(await store.getEnrolment('u', 'e')).to.not.equal(null);
      expect(await store.countIpAttempt('ip', limits)).to.deep.equal({ kind: 'refused', retryAfterMs: 1 });
      clock += 1;
      expect(await store.getEnrolment('u', 'e')).to.equal(null);
      expect(await store.countIpAttempt('ip', limits)).to.deep.equal({ kind: 'counted' });
    });
  });
});
