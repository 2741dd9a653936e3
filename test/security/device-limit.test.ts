/**
 * Issue #10, defect 8: thirteen setups started in parallel and then confirmed
 * linked 13 authenticators against a limit of 10, because `maxDevices` was
 * only checked when a setup started. The record store now counts and adds in
 * one step at confirmation; the rest get 409 and leave nothing behind. In
 * memory and on Redis (the record-store contract covers Cluster).
 */
import { expect } from 'chai';
import { codeAt, enrol, describeEachExampleApp, startExample, waitForTimeLeft, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { inParallel, storeReady, tally, waitUntil } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

const MAX_DEVICES = 3;

for (const mode of ['memory', 'redis'] as const) {
  describeEachExampleApp(`device limit (${mode === 'memory' ? 'in-memory stores' : 'Redis'})`, function (kind) {
    this.timeout(30_000);
    let redis: RedisProcess | undefined;
    let ex: RunningExample;

    before(async () => {
      if (mode === 'redis') redis = await startRedis();
      ex = mode === 'redis'
        ? await startExample({ redisUrl: redis!.url, twoFactor: { maxDevices: MAX_DEVICES, redisKeyPrefix: 'devices' } }, kind)
        : await startExample({ twoFactor: { maxDevices: MAX_DEVICES } }, kind);
      await storeReady(ex.app.tf.service);
      if (mode === 'redis') await waitUntil(() => ex.login('alice').then(() => true), 5_000, 20);
    });

    after(async () => {
      await ex?.stop();
      await redis?.stop();
    });

    /** `n` setups started one after another (each passes the early check: nothing is linked yet). */
    async function startSetups(client: HttpClient, n: number): Promise<{ enrolmentId: string; secret: string }[]> {
      const out: { enrolmentId: string; secret: string }[] = [];
      for (let i = 0; i < n; i++) {
        const res = await client.post('/2fa/setup', { json: { name: `Tablet ${i}` } });
        expect(res.status, res.text).to.equal(201);
        out.push({ enrolmentId: res.body.enrolmentId, secret: res.body.secret });
      }
      return out;
    }

    it('stops linking past maxDevices by confirming parallel setups: only the free slots are filled, the rest get 409', async () => {
      const client = await ex.login('alice');
      await enrol(client);
      const setups = await startSetups(client, 6);
      // One wait for time left in the step, then all six codes at once.
      await waitForTimeLeft();
      const codes = setups.map((s) => codeAt(s.secret, 0));
      const answers = await inParallel(6, (i) => client.post('/2fa/setup/confirm', {
        json: { enrolmentId: setups[i]!.enrolmentId, code: codes[i]! },
      }));
      expect(tally(answers), answers.map((a) => a.text).join('\n')).to.deep.equal({ '200': MAX_DEVICES - 1, '409 conflict': 6 - (MAX_DEVICES - 1) });
      for (const a of answers.filter((x) => x.status === 409)) {
        expect(a.body.message).to.equal(`At most ${MAX_DEVICES} authenticators can be linked.`);
      }
      const status = await client.get('/2fa');
      expect(status.body.devices).to.have.length(MAX_DEVICES);
      const linked = answers.filter((a) => a.status === 200).map((a) => a.body.deviceId as string);
      expect(status.body.devices.map((d: { id: string }) => d.id)).to.include.members(linked);
      // A right code after a conflict is no failure: the budget is untouched.
      expect(ex.audit.filter((e) => e.type === 'verification.failed' && e.userId === '1')).to.deep.equal([]);
    });

    it('links exactly maxDevices and issues one set of backup codes when a user\'s first setups are confirmed in parallel', async () => {
      // Through the service: over HTTP the gate already stops half-logged-in
      // sessions once the first confirmation lands, so the race is narrow there.
      const service = ex.app.tf.service;
      const info = { endpoint: 'setup/confirm' };
      const setups = await Promise.all(Array.from({ length: 6 }, (_, i) => service.startEnrolment('2', 'bob', `Tablet ${i}`, info)));
      await waitForTimeLeft();
      const results = await Promise.allSettled(setups.map((s) => service.confirmEnrolment('2', s.enrolmentId, codeAt(s.secret, 0), info)));
      const linked = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
      expect(linked).to.have.length(MAX_DEVICES);
      expect(refused.map((e) => e.code)).to.deep.equal(Array(6 - MAX_DEVICES).fill('conflict'));
      const withCodes = linked.filter((r) => r.backupCodes);
      expect(withCodes, 'confirmations showing backup codes').to.have.length(1);
      const status = await service.status('2');
      expect(status.devices).to.have.length(MAX_DEVICES);
      expect(status.backupCodesRemaining).to.equal(withCodes[0]!.backupCodes!.length);
    });
  });
}
