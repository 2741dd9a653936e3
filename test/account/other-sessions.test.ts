/**
 * Account changes end the verified state of the user's other sessions
 * (issue #4): after session A regenerates the backup codes, removes a device
 * or turns 2FA off, session B must pass the second factor again (or, after a
 * disable, has none to pass), while A carries on. The gate notices within
 * `stateCacheMs`; the 2FA routes notice at once.
 */
import { expect } from 'chai';
import { DEFAULT_STATE_CACHE_MS } from '../../src/index.ts';
import { codeAt, codeWithTimeLeft, describeEachExampleApp, enrol, startExample, waitForTimeLeft, type RunningExample } from '../support/example-server.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { addDevice, freshExampleOn, enrolled, loginVerified, status, verify } from './helpers.ts';

for (const backend of ['in-memory stores', 'Redis'] as const) {
  describeEachExampleApp(`account: other sessions of the user (${backend}, stateCacheMs 0)`, (kind) => {
    const fresh = freshExampleOn(kind, backend);
    let ex: RunningExample;
    beforeEach(() => {
      ex = fresh.ex;
    });

    /** Session A enrolled alice (step -1); session B passed with step 0; both reach the dashboard. */
    async function twoSessions() {
      const a = await enrolled(ex, 'alice');
      const b = await loginVerified(ex, 'alice', await codeWithTimeLeft(a.secret, 0));
      expect((await a.client.get('/dashboard')).status).to.equal(200);
      expect((await b.get('/dashboard')).status).to.equal(200);
      return { ...a, a: a.client, b };
    }

    it('regenerating backup codes in A unverifies B (401 second_factor_required); A stays verified', async () => {
      const { a, b, secret } = await twoSessions();
      const res = await a.post('/2fa/backup-codes', { json: { code: await codeWithTimeLeft(secret, 1) } });
      expect(res.status, res.text).to.equal(200);
      const fresh: string[] = res.body.backupCodes;

      const blocked = await b.get('/dashboard');
      expect(blocked.status).to.equal(401);
      expect(blocked.body.error).to.equal('second_factor_required');
      expect((await status(b)).session.verified).to.equal(false);
      expect((await b.get('/2fa/verify')).body.verified).to.equal(false);
      const action = await b.post('/2fa/backup-codes', { json: { code: fresh[0] } });
      expect(action.status).to.equal(401);
      expect(action.body.error).to.equal('second_factor_required');

      expect((await a.get('/dashboard')).status).to.equal(200);
      expect((await status(a)).session.verified).to.equal(true);
      expect((await status(a)).backupCodesRemaining).to.equal(10);

      expect((await verify(b, fresh[0]!)).status).to.equal(200);
      expect((await b.get('/dashboard')).status).to.equal(200);
    });

    it('GET /2fa and GET /2fa/verify report B unverified at once, before B meets the gate', async () => {
      const { a, b, secret } = await twoSessions();
      const before = (await b.get('/2fa/verify')).body;
      expect(before.verified).to.equal(true);
      // The same ISO time GET /2fa gives.
      expect(before.verifiedAt).to.equal((await status(b)).session.verifiedAt);
      expect((await a.post('/2fa/backup-codes', { json: { code: await codeWithTimeLeft(secret, 1) } })).status).to.equal(200);

      // Only 2FA routes (the gate skips them): nothing has cleared B's session yet.
      expect((await status(b)).session.verified).to.equal(false);
      const challenge = await b.get('/2fa/verify');
      expect(challenge.status).to.equal(200);
      expect(challenge.body).to.deep.equal({ verified: false, verifiedAt: null });
      expect((await a.get('/2fa/verify')).body.verified).to.equal(true);
    });

    it('removing a device in A unverifies B (401 second_factor_required); A stays verified', async () => {
      const first = await enrolled(ex, 'alice');
      const tablet = await addDevice(first.client, 'Tablet');
      const a = first.client;
      const b = await loginVerified(ex, 'alice', await codeWithTimeLeft(tablet.secret, 0));
      expect((await b.get('/dashboard')).status).to.equal(200);

      const res = await a.delete(`/2fa/devices/${tablet.deviceId}`, { json: { code: await codeWithTimeLeft(first.secret, 0) } });
      expect(res.status, res.text).to.equal(200);

      const blocked = await b.get('/dashboard');
      expect(blocked.status).to.equal(401);
      expect(blocked.body.error).to.equal('second_factor_required');
      expect((await status(b)).session.verified).to.equal(false);
      expect((await a.get('/dashboard')).status).to.equal(200);
      expect((await status(a)).session.verified).to.equal(true);

      expect((await verify(b, first.backupCodes[0]!)).status).to.equal(200);
      expect((await b.get('/dashboard')).status).to.equal(200);
    });

    it('turning 2FA off in A leaves B nothing to pass: B reaches the app, unverified; re-enabling blocks B', async () => {
      const { a, b, secret } = await twoSessions();
      const res = await a.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 1) } });
      expect(res.status, res.text).to.equal(200);

      const through = await b.get('/dashboard');
      expect(through.status).to.equal(200);
      expect(through.body.twoFactor).to.equal('none');
      const bs = await status(b);
      expect(bs.state).to.equal('none');
      expect(bs.session.verified).to.equal(false);
      expect((await a.get('/dashboard')).status).to.equal(200);

      // A turns it on again: B's old verification does not carry over to the new factors.
      await enrol(a, 'New phone');
      expect((await a.get('/dashboard')).status).to.equal(200);
      const blocked = await b.get('/dashboard');
      expect(blocked.status).to.equal(401);
      expect(blocked.body.error).to.equal('second_factor_required');
    });
  });
}

describeEachExampleApp('account: other sessions and the gate cache', (kind) => {
  let ex: RunningExample | undefined;
  afterEach(async () => {
    resetClock();
    await ex?.stop();
    ex = undefined;
  });

  it(`by default (stateCacheMs ${DEFAULT_STATE_CACHE_MS} ms) the gate may let B through for a while; the 2FA routes refuse B at once`, async () => {
    expect(DEFAULT_STATE_CACHE_MS).to.equal(15_000);
    ex = await startExample({}, kind);
    const a = await enrolled(ex, 'alice');
    const b = await loginVerified(ex, 'alice', await codeWithTimeLeft(a.secret, 0));
    expect((await b.get('/dashboard')).status).to.equal(200);
    expect((await a.client.post('/2fa/backup-codes', { json: { code: await codeWithTimeLeft(a.secret, 1) } })).status).to.equal(200);

    // Within the cache interval the gate does not read the store: the documented delay.
    expect((await b.get('/dashboard')).status).to.equal(200);
    expect((await status(b)).session.verified).to.equal(false);
    const action = await b.post('/2fa/backup-codes', { json: { code: a.backupCodes[0] } });
    expect(action.status).to.equal(401);
    expect(action.body.error).to.equal('second_factor_required');
  });

  it('trusts its cache for stateCacheMs, then notices a change in another session (a clock moved past it)', async () => {
    // Long enough that no machine is slow enough to leave it by itself; the
    // clock is moved past it (in-memory stores: see test/support/clock.ts).
    const CACHE_MS = 60_000;
    ex = await startExample({ twoFactor: { stateCacheMs: CACHE_MS } }, kind);
    const a = await enrolled(ex, 'alice');
    const b = await ex.login('alice');
    // Both codes now, so no wait for a time step falls inside the measured interval.
    await waitForTimeLeft();
    const [forB, forA] = [codeAt(a.secret, 0), codeAt(a.secret, 1)];
    expect((await verify(b, forB)).status).to.equal(200);
    // B's gate caches what it reads here.
    expect((await b.get('/dashboard')).status).to.equal(200);

    const res = await a.client.post('/2fa/backup-codes', { json: { code: forA } });
    expect(res.status).to.equal(200);
    // Within the cache interval the gate does not read the store: B is let through.
    advanceClock(CACHE_MS - 10_000);
    expect((await b.get('/dashboard')).status).to.equal(200);

    // Past it, the gate reads the store again and B is stopped.
    advanceClock(10_001);
    const late = await b.get('/dashboard');
    expect(late.status).to.equal(401);
    expect(late.body.error).to.equal('second_factor_required');
    expect((await a.client.get('/dashboard')).status).to.equal(200);
  });
});
