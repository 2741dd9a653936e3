/**
 * Spraying guesses from one address (issue #10, defect 5): with
 * `ipMaxFailures: 5`, 60 wrong codes sent at once over three accounts had 23
 * judged, because the per-IP count was read before and written after each
 * judgement. Now each attempt is counted before it is judged, in one store
 * step, on every endpoint that judges a code or password; a right one is
 * taken back. In memory and on Redis (the store contract covers Cluster).
 */
import { expect } from 'chai';
import type { TwoFactorOptions } from '../../src/index.ts';
import { codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { inParallel, storeReady, tally, waitUntil, wrongCodes } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';

/** Five attempts per address; the per-user budget is out of the way. */
const LIMITS = { ipMaxFailures: 5, maxFailures: 1000, hardCap: 1000 };
const USERS = ['alice', 'bob', 'admin'] as const;

for (const mode of ['memory', 'redis'] as const) {
  describeEachExampleApp(`per-IP limit (${mode === 'memory' ? 'in-memory stores' : 'Redis'})`, function (kind) {
    this.timeout(30_000);
    let redis: RedisProcess | undefined;
    let ex: RunningExample | undefined;
    let prefixes = 0;

    /** A fresh example app (its own stores or key prefix): every test starts with a whole IP budget. */
    async function app(twoFactor: Partial<TwoFactorOptions> = {}): Promise<RunningExample> {
      prefixes += 1;
      ex = mode === 'redis'
        ? await startExample({ redisUrl: redis!.url, twoFactor: { redisKeyPrefix: `ip${prefixes}`, limits: LIMITS, ...twoFactor } }, kind)
        : await startExample({ twoFactor: { limits: LIMITS, ...twoFactor } }, kind);
      await storeReady(ex.app.tf.service);
      if (mode === 'redis') await waitUntil(() => ex!.login('alice').then(() => true), 5_000, 20);
      return ex;
    }

    /** Each user enrolled (a right code: it must not use up the address's budget), and a fresh half-logged-in session of each. */
    async function enrolAll(e: RunningExample) {
      const out: { name: string; secret: string; backupCodes: string[]; verified: HttpClient; attacker: HttpClient }[] = [];
      for (const name of USERS) {
        const verified = await e.login(name);
        const { secret, backupCodes } = await enrol(verified);
        out.push({ name, secret, backupCodes, verified, attacker: await e.login(name) });
      }
      return out;
    }

    const judgedFailures = (e: RunningExample) =>
      e.audit.filter((a) => a.type === 'verification.failed' && a.detail?.reason !== 'ip_limit');
    const ipRefusals = (e: RunningExample) =>
      e.audit.filter((a) => a.type === 'verification.failed' && a.detail?.reason === 'ip_limit');

    before(async () => {
      if (mode === 'redis') redis = await startRedis();
    });

    afterEach(async () => {
      await ex?.stop();
      ex = undefined;
    });

    after(async () => {
      await redis?.stop();
    });

    it('stops a parallel burst from one address: of 60 wrong codes at once over three users, at most 5 are judged', async () => {
      const e = await app();
      const users = await enrolAll(e);
      const guesses = users.map((u) => wrongCodes(u.secret, 20));
      const answers = await inParallel(60, (i) => users[i % 3]!.attacker.post('/2fa/verify', { json: { code: guesses[i % 3]![Math.floor(i / 3)] } }));
      const counts = tally(answers);
      const judged = counts['401 invalid_code'] ?? 0;
      expect(judged, JSON.stringify(counts)).to.equal(5);
      expect(counts['429 too_many_attempts'], JSON.stringify(counts)).to.equal(55);
      expect(judgedFailures(e), 'codes judged').to.have.length(5);
      expect(ipRefusals(e)).to.have.length(55);
      for (const a of answers.filter((x) => x.status === 429)) {
        const retryAfter = Number(a.headers.get('retry-after'));
        expect(retryAfter).to.be.within(1, 15 * 60);
        expect(a.body.retryAfter).to.equal(retryAfter);
      }
    });

    it('judges nothing more from that address on any endpoint, not even a right code or password', async () => {
      const e = await app();
      const users = await enrolAll(e);
      const [alice, bob, admin] = users as [typeof users[0], typeof users[0], typeof users[0]];
      for (const code of wrongCodes(alice.secret, 5)) {
        expect((await alice.attacker.post('/2fa/verify', { json: { code } })).status).to.equal(401);
      }
      const judged = judgedFailures(e).length;
      const started = await bob.verified.post('/2fa/setup', { json: { name: 'Tablet' } });
      expect(started.status, started.text).to.equal(201);
      const refused = [
        await alice.attacker.post('/2fa/verify', { json: { code: await codeWithTimeLeft(alice.secret, 0) } }),
        await alice.attacker.post('/2fa/verify', { json: { code: alice.backupCodes[0] } }),
        await bob.verified.post('/2fa/step-up', { json: { code: await codeWithTimeLeft(bob.secret, 0) } }),
        await bob.verified.post('/2fa/backup-codes', { json: { code: await codeWithTimeLeft(bob.secret, 0) } }),
        await bob.verified.post('/2fa/disable', { json: { code: await codeWithTimeLeft(bob.secret, 0) } }),
        await bob.verified.post('/2fa/setup/confirm', { json: { enrolmentId: started.body.enrolmentId, code: await codeWithTimeLeft(started.body.secret, 0) } }),
        await admin.verified.put('/2fa/admin/policy', { json: { requireAll: false, password: 'admin-password' } }),
      ];
      for (const [i, r] of refused.entries()) {
        expect(r.status, `${i}: ${r.text}`).to.equal(429);
        expect(r.body.error).to.equal('too_many_attempts');
        expect(r.headers.get('retry-after')).to.match(/^[1-9]\d*$/);
      }
      expect(judgedFailures(e), 'nothing more judged').to.have.length(judged);
      expect(ipRefusals(e)).to.have.length(refused.length);
      expect(ipRefusals(e).every((a) => a.ip === '127.0.0.1')).to.equal(true);
      // Nothing happened: bob still has his one device and 2FA on.
      const status = await bob.verified.get('/2fa');
      expect(status.body.state).to.equal('active');
      expect(status.body.devices).to.have.length(1);
    });

    it('gives right codes and passwords their attempt back: only wrong answers use up the budget', async () => {
      const e = await app();
      const users = await enrolAll(e);
      const [alice, bob, admin] = users as [typeof users[0], typeof users[0], typeof users[0]];
      const wrong = wrongCodes(alice.secret, 6);
      for (const code of wrong.slice(0, 4)) {
        expect((await alice.attacker.post('/2fa/verify', { json: { code } })).status).to.equal(401);
      }
      // With 4 of 5 used, eight right answers in a row all pass.
      for (const code of alice.backupCodes.slice(0, 3)) {
        const r = await (await e.login('alice')).post('/2fa/verify', { json: { code } });
        expect(r.status, r.text).to.equal(200);
      }
      expect((await (await e.login('bob')).post('/2fa/verify', { json: { code: await codeWithTimeLeft(bob.secret, 0) } })).status).to.equal(200);
      expect((await bob.verified.post('/2fa/step-up', { json: { code: await codeWithTimeLeft(bob.secret, 1) } })).status).to.equal(200);
      const started = await bob.verified.post('/2fa/setup', { json: { name: 'Tablet' } });
      const linked = await bob.verified.post('/2fa/setup/confirm', { json: { enrolmentId: started.body.enrolmentId, code: await codeWithTimeLeft(started.body.secret, 0) } });
      expect(linked.status, linked.text).to.equal(200);
      for (let i = 0; i < 2; i++) {
        const r = await admin.verified.put('/2fa/admin/policy', { json: { requireAll: false, password: 'admin-password' } });
        expect(r.status, r.text).to.equal(200);
      }
      // The fifth wrong one is still judged; the sixth is refused.
      expect((await alice.attacker.post('/2fa/verify', { json: { code: wrong[4] } })).status).to.equal(401);
      const sixth = await alice.attacker.post('/2fa/verify', { json: { code: wrong[5] } });
      expect(sixth.status).to.equal(429);
      expect(judgedFailures(e)).to.have.length(5);
      expect(ipRefusals(e)).to.have.length(1);
    });

    it('can be turned off with ipMaxFailures 0', async () => {
      const e = await app({ limits: { ...LIMITS, ipMaxFailures: 0 } });
      const [alice] = await enrolAll(e);
      const answers = await inParallel(20, (i) => alice!.attacker.post('/2fa/verify', { json: { code: wrongCodes(alice!.secret, 20)[i] } }));
      expect(tally(answers)).to.deep.equal({ '401 invalid_code': 20 });
    });
  });
}
