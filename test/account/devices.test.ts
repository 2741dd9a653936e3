/**
 * Several authenticators per user (issue #4): adding one needs a verified and
 * recent session (or a fresh code), each passes login with its own replay
 * state, and they can be listed, renamed and removed, never leaving a
 * required account without one.
 */
import { expect } from 'chai';
import { codeAt, codeWithTimeLeft, describeEachExampleApp, waitForTimeLeft, type RunningExample } from '../support/example-server.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { wrongCodes } from '../support/parallel.ts';
import { ALICE, addDevice, enrolled, freshExample, freshExampleOn, info, loginVerified, patch, sleep, status, verify } from './helpers.ts';

describeEachExampleApp('account: devices', (kind) => {
  describe('adding a second authenticator', () => {
    // Staleness comes from moving the clock past it, so a slow machine never
    // makes a fresh session stale (in-memory stores: see test/support/clock.ts).
    const RECENT_MS = 60_000;
    const app = freshExample(kind, () => ({ twoFactor: { recentVerificationMs: RECENT_MS, stateCacheMs: 0 } }));
    afterEach(resetClock);

    it('needs a verified session, and after recentVerificationMs a fresh code in the body (else 403 step_up_required)', async () => {
      const { client, secret } = await enrolled(app.ex, 'alice');

      const unverified = await app.ex.login('alice');
      const refused = await unverified.post('/2fa/setup', { json: { name: 'Tablet' } });
      expect(refused.status).to.equal(401);
      expect(refused.body.error).to.equal('second_factor_required');

      advanceClock(RECENT_MS + 1_000);
      const stale = await client.post('/2fa/setup', { json: { name: 'Tablet' } });
      expect(stale.status).to.equal(403);
      expect(stale.body.error).to.equal('step_up_required');
      expect(stale.body.stepUpUrl).to.equal('/2fa/step-up?returnTo=%2F2fa%2Fsetup');

      const wrong = await client.post('/2fa/setup', { json: { name: 'Tablet', code: wrongCodes(secret, 1)[0] } });
      expect(wrong.status).to.equal(401);
      expect(wrong.body.error).to.equal('invalid_code');

      const started = await client.post('/2fa/setup', { json: { name: 'Tablet', code: await codeWithTimeLeft(secret, 0) } });
      expect(started.status, started.text).to.equal(201);
      const confirm = await client.post('/2fa/setup/confirm', { json: { enrolmentId: started.body.enrolmentId, code: await codeWithTimeLeft(started.body.secret, -1) } });
      expect(confirm.status, confirm.text).to.equal(200);
      expect(confirm.body.state).to.equal('active');
      expect(confirm.body).not.to.have.property('backupCodes');

      const s = await status(client);
      expect(s.devices.map((d: { name: string }) => d.name)).to.deep.equal(['Phone', 'Tablet']);
      expect(s.backupCodesRemaining).to.equal(10);
      // Adding a device does not end this session's verified state.
      expect((await client.get('/dashboard')).status).to.equal(200);
    });

    it('takes a fresh step-up (POST /2fa/step-up) as recent verification', async () => {
      const { client, secret } = await enrolled(app.ex, 'alice');
      advanceClock(RECENT_MS + 1_000);
      expect((await client.post('/2fa/setup', { json: {} })).status).to.equal(403);
      const stepUp = await client.post('/2fa/step-up', { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(stepUp.status, stepUp.text).to.equal(200);
      await addDevice(client, 'Tablet');
    });
  });

  describe('using, listing, renaming and removing', () => {
    const app = freshExample(kind, () => ({ twoFactor: { stateCacheMs: 0 } }));

    /** alice with "Phone" (A) and "Tablet" (B); both confirmed at step -1. */
    async function aliceWithTwo() {
      const a = await enrolled(app.ex, 'alice', 'Phone');
      const b = await addDevice(a.client, 'Tablet');
      return { client: a.client, a, b };
    }

    it("passes login with either device's code", async () => {
      const { a, b } = await aliceWithTwo();
      const viaB = await app.ex.login('alice');
      expect((await verify(viaB, await codeWithTimeLeft(b.secret, 0))).body).to.include({ verified: true, method: 'totp' });
      expect((await viaB.get('/dashboard')).status).to.equal(200);
      const viaA = await app.ex.login('alice');
      expect((await verify(viaA, await codeWithTimeLeft(a.secret, 0))).body).to.include({ verified: true, method: 'totp' });
      expect((await viaA.get('/dashboard')).status).to.equal(200);
    });

    it("keeps each device's time steps apart: B's code of step s passes after A's code of step s", async () => {
      const { a, b } = await aliceWithTwo();
      const codeA = await codeWithTimeLeft(a.secret, 0);
      const codeB = await codeWithTimeLeft(b.secret, 0);
      expect(codeA).not.to.equal(codeB);

      await loginVerified(app.ex, 'alice', codeA);
      const second = await app.ex.login('alice');
      const res = await verify(second, codeB);
      expect(res.status, res.text).to.equal(200);
      // A's own code of that step is spent: the separation is per device, not a free pass.
      const replay = await app.ex.login('alice');
      const again = await verify(replay, codeA);
      expect(again.status).to.equal(401);
      expect(again.body.error).to.equal('invalid_code');
    });

    it('lists both devices with their ids, names, createdAt and lastUsedAt, which moves on use', async () => {
      const { client, a, b } = await aliceWithTwo();
      const before = (await status(client)).devices as { id: string; name: string; createdAt: string; lastUsedAt: string | null }[];
      expect(before.map((d) => [d.id, d.name])).to.deep.equal([[a.deviceId, 'Phone'], [b.deviceId, 'Tablet']]);
      for (const d of before) {
        expect(new Date(d.createdAt).toISOString()).to.equal(d.createdAt);
        expect(d.lastUsedAt).to.be.a('string');
      }

      await sleep(5);
      await loginVerified(app.ex, 'alice', await codeWithTimeLeft(b.secret, 0));
      let after = before;
      for (let i = 0; i < 50 && after[1]!.lastUsedAt === before[1]!.lastUsedAt; i++) {
        await sleep(10);
        after = (await status(client)).devices;
      }
      expect(Date.parse(after[1]!.lastUsedAt!)).to.be.above(Date.parse(before[1]!.lastUsedAt!));
      expect(after[0]!.lastUsedAt).to.equal(before[0]!.lastUsedAt);

      const page = await client.get('/2fa', { accept: 'html' });
      expect(page.text).to.include('>Phone</h3>').and.include('>Tablet</h3>').and.include('Last used');
    });

    it('renames a device with PATCH /2fa/devices/:id {name}', async () => {
      const { client, a, b } = await aliceWithTwo();
      const res = await patch(client, `/2fa/devices/${b.deviceId}`, { name: '  Work tablet ' });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ renamed: true });
      const names = (await status(client)).devices.map((d: { id: string; name: string }) => [d.id, d.name]);
      expect(names).to.deep.equal([[a.deviceId, 'Phone'], [b.deviceId, 'Work tablet']]);

      const empty = await patch(client, `/2fa/devices/${b.deviceId}`, { name: '' });
      expect(empty.status).to.equal(400);
      expect(empty.body).to.include({ error: 'invalid_input', field: 'name' });
      const long = await patch(client, `/2fa/devices/${b.deviceId}`, { name: 'x'.repeat(65) });
      expect(long.status).to.equal(400);

      const unverified = await app.ex.login('alice');
      const refused = await patch(unverified, `/2fa/devices/${b.deviceId}`, { name: 'Mine now' });
      expect(refused.status).to.equal(401);
      expect(refused.body.error).to.equal('second_factor_required');
      expect((await status(client)).devices[1].name).to.equal('Work tablet');
    });

    it('removes a device with DELETE /2fa/devices/:id {code}, and its codes stop working', async () => {
      const { client, a, b } = await aliceWithTwo();
      const res = await client.delete(`/2fa/devices/${b.deviceId}`, { json: { code: await codeWithTimeLeft(a.secret, 0) } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ state: 'active' });

      const s = await status(client);
      expect(s.devices.map((d: { id: string }) => d.id)).to.deep.equal([a.deviceId]);
      expect(s.backupCodesRemaining).to.equal(10);
      expect(s.session.verified).to.equal(true);

      const withB = await app.ex.login('alice');
      const refused = await verify(withB, await codeWithTimeLeft(b.secret, 0));
      expect(refused.status).to.equal(401);
      expect(refused.body.error).to.equal('invalid_code');
      expect((await verify(withB, await codeWithTimeLeft(a.secret, 1))).status).to.equal(200);
    });

    it('removing the last device while not required turns 2FA off, backup codes included', async () => {
      const { client, secret, deviceId, backupCodes } = await enrolled(app.ex, 'alice');
      const res = await client.delete(`/2fa/devices/${deviceId}`, { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(res.status, res.text).to.equal(200);
      expect(res.body).to.deep.equal({ state: 'none' });
      const s = await status(client);
      expect(s).to.include({ state: 'none', backupCodesRemaining: 0 });
      expect(s.devices).to.deep.equal([]);
      const fresh = await app.ex.login('alice');
      expect((await verify(fresh, backupCodes[0]!)).status).to.equal(401);
      expect((await fresh.get('/dashboard')).status).to.equal(200);
    });

    it('refuses to remove the last device while 2FA is required: 409 conflict, nothing spent', async () => {
      const { client, secret, deviceId } = await enrolled(app.ex, 'alice');
      await app.ex.app.tf.service.setRequired([ALICE], true, info);

      const res = await client.delete(`/2fa/devices/${deviceId}`, { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(res.status).to.equal(409);
      expect(res.body.error).to.equal('conflict');
      expect((await status(client)).devices).to.have.length(1);
      // The code was not consumed by the refused request.
      await loginVerified(app.ex, 'alice', await codeWithTimeLeft(secret, 0));

      // With a second device, one of the two may go.
      const b = await addDevice(client, 'Tablet');
      const ok = await client.delete(`/2fa/devices/${deviceId}`, { json: { code: await codeWithTimeLeft(b.secret, 0) } });
      expect(ok.status, ok.text).to.equal(200);
      expect(ok.body.state).to.equal('active');
      const last = await client.delete(`/2fa/devices/${b.deviceId}`, { json: { code: await codeWithTimeLeft(b.secret, 1) } });
      expect(last.status).to.equal(409);
    });

    it('answers an unknown device id with 400 invalid_input, before judging the code', async () => {
      const { client, secret } = await enrolled(app.ex, 'alice');
      const del = await client.delete('/2fa/devices/no-such-device', { json: { code: await codeWithTimeLeft(secret, 0) } });
      expect(del.status).to.equal(400);
      expect(del.body).to.include({ error: 'invalid_input', field: 'id' });
      const ren = await patch(client, '/2fa/devices/no-such-device', { name: 'Ghost' });
      expect(ren.status).to.equal(400);
      expect(ren.body).to.include({ error: 'invalid_input', field: 'id' });
      // The code is still good: the unknown id was refused before it was judged.
      await loginVerified(app.ex, 'alice', await codeWithTimeLeft(secret, 0));
    });

    it("a device id of another user's is unknown too", async () => {
      const alice = await enrolled(app.ex, 'alice');
      const bob = await enrolled(app.ex, 'bob');
      const del = await bob.client.delete(`/2fa/devices/${alice.deviceId}`, { json: { code: await codeWithTimeLeft(bob.secret, 0) } });
      expect(del.status).to.equal(400);
      const ren = await patch(bob.client, `/2fa/devices/${alice.deviceId}`, { name: 'Bob was here' });
      expect(ren.status).to.equal(400);
      expect((await status(alice.client)).devices.map((d: { name: string }) => d.name)).to.deep.equal(['Phone']);
    });
  });

  describe('wrong codes on remove', () => {
    const app = freshExample(kind, () => ({ twoFactor: { stateCacheMs: 0, limits: { maxFailures: 3 } } }));

    it('answers 401 invalid_code and counts them in the budget login codes share', async () => {
      const a = await enrolled(app.ex, 'alice');
      const client = a.client;
      const b = await addDevice(client, 'Tablet');
      // Codes that are wrong for both devices, whatever step the test reaches.
      const wrongForB = wrongCodes(b.secret, 20);
      const wrong = wrongCodes(a.secret, 20).filter((c) => wrongForB.includes(c)).slice(0, 3);
      expect(wrong).to.have.length(3);

      for (const code of wrong.slice(0, 2)) {
        const res = await client.delete(`/2fa/devices/${b.deviceId}`, { json: { code } });
        expect(res.status).to.equal(401);
        expect(res.body.error).to.equal('invalid_code');
      }
      expect((await status(client)).devices).to.have.length(2);

      // The third failure, at login, spends the budget of 3.
      const other = await app.ex.login('alice');
      expect((await verify(other, wrong[2]!)).status).to.equal(401);
      expect(app.ex.audit.some((e) => e.type === 'lockout' && e.userId === ALICE)).to.equal(true);

      const locked = await other.post('/2fa/verify', { json: { code: await codeWithTimeLeft(a.secret, 0) } });
      expect(locked.status).to.equal(429);
      expect(locked.body.error).to.equal('too_many_attempts');
      const removeLocked = await client.delete(`/2fa/devices/${b.deviceId}`, { json: { code: await codeWithTimeLeft(b.secret, 0) } });
      expect(removeLocked.status).to.equal(429);
      expect((await status(client)).devices).to.have.length(2);
    });
  });

  for (const backend of ['in-memory stores', 'Redis'] as const) {
    describe(`removing both devices at once from two sessions (${backend})`, () => {
      const fresh = freshExampleOn(kind, backend);
      let ex: RunningExample;
      beforeEach(() => {
        ex = fresh.ex;
      });

      /** alice with Phone (A) and Tablet (B). */
      async function twoDevices() {
        const a = await enrolled(ex, 'alice');
        const b = await addDevice(a.client, 'Tablet');
        return { a, b };
      }

      /**
       * Removes A (with B's code) and B (with A's code) through the service,
       * both started in the same tick: each reads the record (two devices)
       * before either removes, so only the store's atomic removal can keep
       * the last device.
       */
      async function removeBothAtOnce() {
        const { a, b } = await twoDevices();
        const service = ex.app.tf.service;
        await waitForTimeLeft();
        const results = await Promise.allSettled([
          service.removeDevice(ALICE, a.deviceId, codeAt(b.secret, 0), info),
          service.removeDevice(ALICE, b.deviceId, codeAt(a.secret, 0), info),
        ]);
        return { results, after: await service.status(ALICE) };
      }

      it('never leaves a required account without a device: of two removals that overlap, exactly one wins', async () => {
        await ex.app.tf.service.setRequired([ALICE], true, info);
        const { results, after } = await removeBothAtOnce();
        const won = results.filter((r) => r.status === 'fulfilled');
        const lost = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
        expect(won, JSON.stringify(results)).to.have.length(1);
        expect(lost).to.deep.equal(['conflict']);
        expect(after.state).to.equal('active');
        expect(after.devices).to.have.length(1);
        expect(after.backupCodesRemaining).to.equal(10);
      });

      it('over HTTP from two verified sessions too: one DELETE 200, the other refused (409; or 401 once the first removal ended its verification or took the device its code belongs to)', async () => {
        await ex.app.tf.service.setRequired([ALICE], true, info);
        const { a, b } = await twoDevices();
        const other = await loginVerified(ex, 'alice', a.backupCodes[0]!);
        await waitForTimeLeft();
        const [codeA, codeB] = [codeAt(a.secret, 0), codeAt(b.secret, 0)];
        const answers = await Promise.all([
          a.client.delete(`/2fa/devices/${a.deviceId}`, { json: { code: codeB } }),
          other.delete(`/2fa/devices/${b.deviceId}`, { json: { code: codeA } }),
        ]);
        const [won, lost] = [...answers].sort((x, y) => x.status - y.status);
        expect([won!.status, lost!.status], answers.map((r) => r.text).join('\n')).to.satisfy(([w, l]: number[]) => w === 200 && (l === 409 || l === 401));
        // A 401 is either: the first removal bumped the generation before the second was checked (second_factor_required),
        // or it removed the device whose code the second carries (invalid_code). Either way exactly one removal won.
        expect(lost!.body.error).to.be.oneOf(lost!.status === 409 ? ['conflict'] : ['second_factor_required', 'invalid_code']);
        const after = await ex.app.tf.service.status(ALICE);
        expect(after).to.include({ state: 'active', backupCodesRemaining: 9 });
        expect(after.devices).to.have.length(1);
      });

      it('when not required, ends with 2FA off and no backup codes left behind, or one device kept', async () => {
        const { after } = await removeBothAtOnce();
        if (after.devices.length === 0) {
          expect(after).to.include({ state: 'none', backupCodesRemaining: 0 });
        } else {
          expect(after).to.include({ state: 'active', backupCodesRemaining: 10 });
        }
      });
    });
  }
});
