/**
 * Backup codes (issue #4): single use, even under a race; bound to their
 * user; forgiving about how they are typed; replaced as a whole set; shown
 * once and never again; 50 random bits each; counted down as they go.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { inParallel, storeReady, tally, wrongCodes } from '../support/parallel.ts';
import { startRedis, type RedisProcess } from '../support/redis-server.ts';
import {
  BACKUP_ALPHABET, BACKUP_CODE_FORMAT, enrolled, freshExample, loginVerified, spellings, status, verify, type ExampleOptions,
} from './helpers.ts';

/**
 * Every wrong or spent code counts against the failure budget (5 per user,
 * 50 per IP by default); the tests that try many on purpose raise it so they
 * measure the codes, not the lockout. The budget has its own tests.
 */
const ROOMY_LIMITS = { maxFailures: 1000, hardCap: 100_000, ipMaxFailures: 0 };

describeEachExampleApp('account: backup codes', (kind) => {
  describe('logging in with them', () => {
    const app = freshExample(kind);

    it('logs in with a backup code: POST /2fa/verify answers method backup and 9 remaining', async () => {
      const { backupCodes } = await enrolled(app.ex, 'alice');
      const c = await app.ex.login('alice');
      expect((await c.get('/dashboard')).body.error).to.equal('second_factor_required');

      const res = await verify(c, backupCodes[0]!);
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.include({ verified: true, method: 'backup', backupCodesRemaining: 9 });
      const dashboard = await c.get('/dashboard');
      expect(dashboard.status).to.equal(200);
      expect(dashboard.body.twoFactor).to.equal('active');
      expect((await status(c)).session).to.include({ verified: true, method: 'backup' });
    });

    it('refuses the same backup code a second time with 401 invalid_code', async () => {
      const { backupCodes } = await enrolled(app.ex, 'alice');
      await loginVerified(app.ex, 'alice', backupCodes[0]!);

      const again = await app.ex.login('alice');
      const res = await verify(again, backupCodes[0]!);
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('invalid_code');
      expect((await again.get('/dashboard')).status).to.equal(401);
    });

    it("refuses another user's backup code, and leaves it usable by its owner", async () => {
      const alice = await enrolled(app.ex, 'alice');
      await enrolled(app.ex, 'bob');

      const bob = await app.ex.login('bob');
      const res = await verify(bob, alice.backupCodes[0]!);
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('invalid_code');
      expect((await bob.get('/dashboard')).status).to.equal(401);

      expect((await status(alice.client)).backupCodesRemaining).to.equal(10);
      const owner = await app.ex.login('alice');
      expect((await verify(owner, alice.backupCodes[0]!)).body).to.include({ verified: true, method: 'backup' });
    });

    it('accepts a backup code typed in upper case, with spaces, or without the hyphen', async () => {
      const { backupCodes } = await enrolled(app.ex, 'alice');
      const [a, b, c, d] = backupCodes as [string, string, string, string, ...string[]];
      const typed = [
        a.toUpperCase(),
        ` ${b.slice(0, 5)} ${b.slice(6)} `,
        c.replace('-', ''),
        `${d.slice(0, 3).toUpperCase()} ${d.slice(3, 5)}-${d.slice(6).toUpperCase()}`,
      ];
      let remaining = 10;
      for (const code of typed) {
        const client = await app.ex.login('alice');
        const res = await verify(client, code);
        expect(res.status, `${JSON.stringify(code)}: ${res.text}`).to.equal(200);
        expect(res.body).to.include({ method: 'backup', backupCodesRemaining: --remaining });
      }
    });

    it('counts down the remaining codes in GET /2fa and on the account page as they are used', async () => {
      const { client, backupCodes } = await enrolled(app.ex, 'alice');
      expect((await status(client)).backupCodesRemaining).to.equal(10);
      expect((await client.get('/2fa', { accept: 'html' })).text).to.include('10 backup codes left.');

      for (let used = 1; used <= 3; used++) {
        await loginVerified(app.ex, 'alice', backupCodes[used - 1]!);
        expect((await status(client)).backupCodesRemaining).to.equal(10 - used);
      }
      expect((await client.get('/2fa', { accept: 'html' })).text).to.include('7 backup codes left.');
    });
  });

  describe('regeneration', () => {
    const app = freshExample(kind, () => ({ twoFactor: { limits: ROOMY_LIMITS } }));

    it('POST /2fa/backup-codes with a code returns 10 new codes and kills every old one', async () => {
      const { client, secret, backupCodes: old } = await enrolled(app.ex, 'alice');

      const res = await client.post('/2fa/backup-codes', { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(res.status, res.text).to.equal(200);
      const fresh: string[] = res.body.backupCodes;
      expect(fresh).to.have.length(10);
      expect(new Set(fresh).size).to.equal(10);
      for (const code of fresh) expect(code).to.match(BACKUP_CODE_FORMAT);
      expect(fresh.filter((c) => old.includes(c))).to.deep.equal([]);
      expect((await status(client)).backupCodesRemaining).to.equal(10);

      const probe = await app.ex.login('alice');
      for (const code of old) {
        const refused = await verify(probe, code);
        expect(refused.status, code).to.equal(401);
        expect(refused.body.error).to.equal('invalid_code');
      }
      expect((await status(client)).backupCodesRemaining).to.equal(10);
      const ok = await verify(probe, fresh[3]!);
      expect(ok.body).to.include({ verified: true, method: 'backup', backupCodesRemaining: 9 });
    });

    it('keeps the old codes when the confirming code is wrong (401) or missing (400)', async () => {
      const { client, secret, backupCodes } = await enrolled(app.ex, 'alice');
      const wrong = await client.post('/2fa/backup-codes', { json: { code: wrongCodes(secret, 1)[0] } });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.error).to.equal('invalid_code');
      const missing = await client.post('/2fa/backup-codes', { json: {} });
      expect(missing.status).to.equal(400);
      expect(missing.body).to.include({ error: 'invalid_input', field: 'code' });

      expect((await status(client)).backupCodesRemaining).to.equal(10);
      await loginVerified(app.ex, 'alice', backupCodes[9]!);
    });

    it('accepts a backup code as the confirming code: it is spent, and the new set is whole', async () => {
      const { client, backupCodes: old } = await enrolled(app.ex, 'alice');
      const res = await client.post('/2fa/backup-codes', { json: { code: old[0] } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body.backupCodes).to.have.length(10);
      expect((await status(client)).backupCodesRemaining).to.equal(10);
    });
  });

  describe('display and format', () => {
    const app = freshExample(kind);

    it('never shows a backup code again after display: not in GET /2fa, the account page or the verify page', async () => {
      const { client, secret, backupCodes: first } = await enrolled(app.ex, 'alice');
      const regenerated = await client.post('/2fa/backup-codes', { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(regenerated.status).to.equal(200);
      const second: string[] = regenerated.body.backupCodes;

      const other = await app.ex.login('alice');
      const pages = [
        await client.get('/2fa'),
        await client.get('/2fa', { accept: 'html' }),
        await client.get('/2fa/verify', { accept: 'html' }),
        await client.get('/2fa/verify'),
        await client.get('/2fa/step-up', { accept: 'html' }),
        await client.get('/dashboard', { accept: 'html' }),
        await other.get('/2fa/verify', { accept: 'html' }),
        await other.get('/2fa'),
      ];
      expect(pages.map((p) => p.status)).to.deep.equal([200, 200, 200, 200, 200, 200, 200, 200]);
      expect(pages[1]!.text).to.include('Backup codes');
      for (const page of pages) {
        for (const code of [...first, ...second]) {
          for (const spelling of spellings(code)) expect(page.text).not.to.include(spelling);
        }
      }
      const audit = JSON.stringify(app.ex.audit);
      for (const code of [...first, ...second]) for (const spelling of spellings(code)) expect(audit).not.to.include(spelling);
    });

    it('gives every code at least 50 bits: 10 symbols of a 32-symbol alphabet, written xxxxx-xxxxx', async () => {
      const { client, backupCodes } = await enrolled(app.ex, 'alice');
      const all = [...backupCodes];
      // Four more sets, each confirmed with a code of the set before.
      for (let i = 0; i < 4; i++) {
        const res = await client.post('/2fa/backup-codes', { json: { code: all[all.length - 1] } });
        expect(res.status, res.text).to.equal(200);
        all.push(...(res.body.backupCodes as string[]));
      }
      expect(all).to.have.length(50);
      expect(new Set(all).size).to.equal(50);

      const symbols = new Set<string>();
      for (const code of all) {
        expect(code).to.match(BACKUP_CODE_FORMAT);
        for (const ch of code.replace('-', '')) symbols.add(ch);
      }
      // 500 random symbols leave none of 32 unseen except with odds of about 4e-6.
      expect([...symbols].sort().join('')).to.equal(BACKUP_ALPHABET);
      // Measured on what the service handed out: symbols per code × log2(the alphabet it used).
      const lengths = new Set(all.map((code) => code.replace('-', '').length));
      expect(lengths.size).to.equal(1);
      const bits = [...lengths][0]! * Math.log2(symbols.size);
      expect(bits).to.be.at.least(50);
    });
  });

  for (const backend of ['in-memory stores', 'Redis'] as const) {
    describe(`50 concurrent uses of one backup code (${backend})`, function () {
      this.timeout(30_000);
      let redis: RedisProcess | undefined;
      let ex: RunningExample;

      before(async () => {
        let options: ExampleOptions = { twoFactor: { limits: ROOMY_LIMITS } };
        if (backend === 'Redis') {
          redis = await startRedis();
          options = { ...options, redisUrl: redis.url };
        }
        ex = await startExample(options, kind);
        await storeReady(ex.app.tf.service);
      });
      after(async () => {
        await ex?.stop();
        await redis?.stop();
      });

      it('lets exactly one of 50 sessions in with one backup code', async () => {
        const { backupCodes } = await enrolled(ex, 'alice');
        const sessions: HttpClient[] = [];
        for (let i = 0; i < 50; i++) sessions.push(await ex.login('alice'));

        const answers = await inParallel(50, (i) => verify(sessions[i]!, backupCodes[0]!));
        expect(tally(answers)).to.deep.equal({ '200': 1, '401 invalid_code': 49 });

        const winner = sessions[answers.findIndex((a) => a.status === 200)]!;
        expect((await winner.get('/dashboard')).status).to.equal(200);
        const losers = sessions.filter((s) => s !== winner);
        const gated = await inParallel(losers.length, (i) => losers[i]!.get('/dashboard'));
        expect(tally(gated)).to.deep.equal({ '401 second_factor_required': 49 });
        expect((await status(winner)).backupCodesRemaining).to.equal(9);
        expect(ex.audit.filter((e) => e.type === 'backup_code.used')).to.have.length(1);
      });
    });
  }
});
