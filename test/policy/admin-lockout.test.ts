/**
 * Issue #10, defect 7: after four wrong admin passwords the fifth, right one
 * was answered "That password is not right." and locked the admin out,
 * because the attempt that reached the limit was never judged. Now it is: a
 * right password passes and takes back the lockout its count started; a
 * wrong one keeps it. Default limits (5 failures, then a lockout).
 */
import { expect } from 'chai';
import type { RunningExample } from '../support/example-server.ts';
import { describeEachExampleApp, startExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { storeReady, waitUntil } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import { adminPut, loginAndEnrol } from './helpers.ts';

for (const mode of ['memory', 'redis'] as const) {
  describeEachExampleApp(`policy: the admin password at the failure limit (${mode === 'memory' ? 'in-memory stores' : 'Redis'})`, function (kind) {
    this.timeout(30_000);
    let redis: RedisProcess | undefined;
    let ex: RunningExample | undefined;
    let admin: HttpClient;
    let prefixes = 0;

    before(async () => {
      if (mode === 'redis') redis = await startRedis();
    });

    beforeEach(async () => {
      prefixes += 1;
      ex = mode === 'redis'
        ? await startExample({ redisUrl: redis!.url, twoFactor: { stateCacheMs: 0, redisKeyPrefix: `admin${prefixes}` } }, kind)
        : await startExample({ twoFactor: { stateCacheMs: 0 } }, kind);
      await storeReady(ex.app.tf.service);
      if (mode === 'redis') await waitUntil(() => ex!.login('alice').then(() => true), 5_000, 20);
      ({ client: admin } = await loginAndEnrol(ex, 'admin'));
    });

    afterEach(async () => {
      await ex?.stop();
      ex = undefined;
    });

    after(async () => {
      await redis?.stop();
    });

    const policy = (password: string, requireAll = false) => adminPut(admin, '/2fa/admin/policy', { requireAll }, password);

    async function fourWrong(): Promise<void> {
      for (let i = 1; i <= 4; i++) {
        const res = await policy(`wrong-${i}`);
        expect(res.status, `wrong password ${i}`).to.equal(403);
        expect(res.body).to.include({ error: 'forbidden', field: 'password' });
      }
    }

    it('accepts the right password after four wrong ones, and does not lock the admin out', async () => {
      await fourWrong();
      const right = await policy('admin-password', true);
      expect(right.status, right.text).to.equal(200);
      expect(right.body).to.deep.equal({ requireAll: true });
      // No lockout stands: the right password keeps working.
      const again = await policy('admin-password');
      expect(again.status, again.text).to.equal(200);
      expect(ex!.audit.filter((e) => e.type === 'lockout')).to.deep.equal([]);
      // The budget is as it was before: one more wrong password reaches the limit.
      expect((await policy('wrong-5')).status).to.equal(403);
      expect((await policy('admin-password')).status).to.equal(429);
    });

    it('keeps the lockout a fifth wrong password starts: then even the right one is refused with 429', async () => {
      await fourWrong();
      const fifth = await policy('wrong-5');
      expect(fifth.status).to.equal(403);
      expect(fifth.body).to.include({ error: 'forbidden', field: 'password' });
      expect(ex!.audit.filter((e) => e.type === 'lockout')).to.have.length(1);
      const locked = await policy('admin-password', true);
      expect(locked.status).to.equal(429);
      expect(locked.body.error).to.equal('too_many_attempts');
      expect(locked.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      expect((await admin.get('/2fa/admin/users')).body.requireAll).to.equal(false);
    });
  });
}
