/**
 * Passkeys over HTTP (issue 14), driven with a software authenticator
 * (test/support/soft-authenticator.ts) against the example apps: linking,
 * verifying, and every way an answer could be reused or misdirected — a
 * challenge used twice (in parallel too, on memory, one Redis and a
 * 3-master Cluster), a challenge of another session or user, a counter
 * that goes back — plus the failure budget, the admin policy and removal.
 */
import { expect } from 'chai';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { TwoFactorOptions } from '../../src/index.ts';
import { csrfOf } from '../account/helpers.ts';
import { describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';
import { inParallel, storeReady } from '../support/parallel.ts';
import { clusterBackend, memoryBackend, redisBackend } from '../support/race-backends.ts';
import { SoftAuthenticator } from '../support/soft-authenticator.ts';

/** Links a passkey held by `authenticator` to the logged-in user of `client`; returns the JSON answer. */
async function linkPasskey(client: HttpClient, authenticator: SoftAuthenticator, name = 'Laptop') {
  const options = await client.post('/2fa/passkeys/options', { json: { name } });
  expect(options.status, options.text).to.equal(200);
  const credential = authenticator.register(options.body, client.baseUrl.replace(/\/$/, ''));
  const linked = await client.post('/2fa/passkeys', { json: { name, credential } });
  expect(linked.status, linked.text).to.equal(201);
  return linked.body as { state: string; deviceId: string; backupCodes?: string[] };
}

/** A fresh challenge for `client`'s session, answered by `authenticator`. */
async function assertion(client: HttpClient, authenticator: SoftAuthenticator, o?: Parameters<SoftAuthenticator['authenticate']>[2]): Promise<AuthenticationResponseJSON> {
  const options = await client.post('/2fa/passkeys/authentication-options', { json: {} });
  expect(options.status, options.text).to.equal(200);
  return authenticator.authenticate(options.body, client.baseUrl.replace(/\/$/, ''), o);
}

async function logoutAndLogin(ex: RunningExample, client: HttpClient, username: string): Promise<HttpClient> {
  await client.post('/logout', { json: {} });
  return ex.login(username);
}

describeEachExampleApp('passkeys over HTTP', function (kind) {
  this.timeout(30_000);
  let ex: RunningExample;

  beforeEach(async () => {
    ex = await startExample({}, kind);
  });
  afterEach(async () => ex?.stop());

  it('links a passkey as the first factor (backup codes shown once), then logs in with it: method passkey, dashboard open', async () => {
    const key = new SoftAuthenticator();
    const alice = await ex.login('alice');
    const linked = await linkPasskey(alice, key);
    expect(linked.state).to.equal('active');
    expect(linked.backupCodes).to.have.length(10);
    expect((await alice.get('/dashboard')).status, 'the linking session counts as verified').to.equal(200);
    const status = await alice.get('/2fa');
    expect(status.body.devices.map((d: { kind: string; name: string }) => [d.kind, d.name])).to.deep.equal([['passkey', 'Laptop']]);

    const again = await logoutAndLogin(ex, alice, 'alice');
    expect((await again.get('/dashboard')).status).to.equal(401);
    const verified = await again.post('/2fa/verify', { json: { passkey: await assertion(again, key) } });
    expect(verified.status, verified.text).to.equal(200);
    expect(verified.body).to.include({ verified: true, method: 'passkey' });
    expect((await again.get('/dashboard')).status).to.equal(200);
    const types = ex.audit.map((e) => e.type);
    expect(types).to.include('passkey.registered');
    expect(ex.audit.find((e) => e.type === 'verification.succeeded' && e.detail?.method === 'passkey')).to.not.equal(undefined);
  });

  it('refuses an answer used twice, an answer to another session\'s challenge, and one to another user\'s', async () => {
    const key = new SoftAuthenticator();
    const alice = await ex.login('alice');
    await linkPasskey(alice, key);
    const first = await logoutAndLogin(ex, alice, 'alice');
    const answer = await assertion(first, key);
    expect((await first.post('/2fa/verify', { json: { passkey: answer } })).status).to.equal(200);

    // The same answer, replayed in another half-logged-in session of alice.
    const second = await ex.login('alice');
    const replayed = await second.post('/2fa/verify', { json: { passkey: answer } });
    expect(replayed.status).to.equal(401);
    expect(replayed.body.error).to.equal('invalid_code');

    // A challenge given to one session, answered and sent from another.
    const third = await ex.login('alice');
    const stolen = await assertion(second, key);
    const foreign = await third.post('/2fa/verify', { json: { passkey: stolen } });
    expect(foreign.status).to.equal(401);
    expect((await third.get('/dashboard')).status).to.equal(401);
    // ... and it did not use up the challenge of the session it was given to.
    expect((await second.post('/2fa/verify', { json: { passkey: stolen } })).status).to.equal(200);

    // bob's challenge, answered by alice's key, sent in alice's session.
    const bob = await ex.login('bob');
    const bobOptions = await bob.post('/2fa/passkeys/authentication-options', { json: {} });
    expect(bobOptions.status, 'bob has no passkey').to.equal(400);
    const aliceAgain = await ex.login('alice');
    const own = await aliceAgain.post('/2fa/passkeys/authentication-options', { json: {} });
    const forged = key.authenticate(own.body, ex.url, { challenge: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect((await aliceAgain.post('/2fa/verify', { json: { passkey: forged } })).status).to.equal(401);
  });

  it('refuses a signature counter that goes back (a cloned key), and audits it', async () => {
    const key = new SoftAuthenticator();
    const alice = await ex.login('alice');
    await linkPasskey(alice, key);
    let session = await logoutAndLogin(ex, alice, 'alice');
    expect((await session.post('/2fa/verify', { json: { passkey: await assertion(session, key) } })).status).to.equal(200);
    session = await logoutAndLogin(ex, session, 'alice');
    // The key's counter is 1 now; a clone answers with 1 again.
    const cloned = await session.post('/2fa/verify', { json: { passkey: await assertion(session, key, { counter: 1 }) } });
    expect(cloned.status).to.equal(401);
    expect(cloned.body.error).to.equal('invalid_code');
    expect(ex.audit.find((e) => e.type === 'passkey.counter_regression')?.detail).to.include({ counter: 1, stored: 1 });
    // The real key moves on and still works.
    expect((await session.post('/2fa/verify', { json: { passkey: await assertion(session, key) } })).status).to.equal(200);
  });

  it('accepts keys that keep no counter (always 0), each answer still single use', async () => {
    const key = new SoftAuthenticator({ signCount: 'zero' });
    const alice = await ex.login('alice');
    await linkPasskey(alice, key);
    const session = await logoutAndLogin(ex, alice, 'alice');
    const answer = await assertion(session, key);
    expect((await session.post('/2fa/verify', { json: { passkey: answer } })).status).to.equal(200);
    const next = await logoutAndLogin(ex, session, 'alice');
    expect((await next.post('/2fa/verify', { json: { passkey: answer } })).status).to.equal(401);
    expect((await next.post('/2fa/verify', { json: { passkey: await assertion(next, key) } })).status).to.equal(200);
  });

  it('counts passkey failures in the user\'s failure budget: after 5, even a right answer waits (429)', async () => {
    const key = new SoftAuthenticator();
    const alice = await ex.login('alice');
    await linkPasskey(alice, key);
    const session = await logoutAndLogin(ex, alice, 'alice');
    const answers = [];
    for (let i = 0; i < 5; i++) {
      const wrong = await session.post('/2fa/verify', { json: { passkey: await assertion(session, key, { challenge: `${'B'.repeat(42)}${i}` }) } });
      answers.push(wrong.status);
    }
    expect(answers).to.deep.equal([401, 401, 401, 401, 401]);
    const right = await session.post('/2fa/verify', { json: { passkey: await assertion(session, key) } });
    expect(right.status).to.equal(429);
    expect(right.headers.get('retry-after')).to.match(/^\d+$/);
  });

  it('a user required by the admin satisfies the policy with a passkey alone', async () => {
    const admin = await ex.login('admin');
    // The admin needs active 2FA to manage others: a passkey of their own.
    await linkPasskey(admin, new SoftAuthenticator(), 'Admin key');
    const required = await admin.put('/2fa/admin/users/required', { json: { userIds: ['2'], required: true, password: 'admin-password' } });
    expect(required.status, required.text).to.equal(200);
    const bob = await ex.login('bob');
    expect((await bob.get('/dashboard')).status, 'required, nothing linked').to.equal(403);
    const key = new SoftAuthenticator();
    const linked = await linkPasskey(bob, key);
    expect(linked.backupCodes).to.have.length(10);
    expect((await bob.get('/dashboard')).status).to.equal(200);
    const again = await logoutAndLogin(ex, bob, 'bob');
    expect((await again.post('/2fa/verify', { json: { passkey: await assertion(again, key) } })).status).to.equal(200);
    expect((await again.get('/dashboard')).status).to.equal(200);
    // The only device of a required user stays.
    const status = await again.get('/2fa');
    const removal = await again.post(`/2fa/devices/${encodeURIComponent(status.body.devices[0].id)}/remove`, { json: { passkey: await assertion(again, key) } });
    expect(removal.status).to.equal(409);
    expect(removal.body.error).to.equal('conflict');
  });

  it('removing the passkey (proved with the passkey itself) stops it working; disable accepts a passkey too', async () => {
    const key = new SoftAuthenticator();
    const alice = await ex.login('alice');
    const { deviceId } = await linkPasskey(alice, key);
    const laptop = new SoftAuthenticator();
    await linkPasskey(alice, laptop, 'Second key');
    const removed = await alice.post(`/2fa/devices/${encodeURIComponent(deviceId)}/remove`, { json: { passkey: await assertion(alice, key) } });
    expect(removed.status, removed.text).to.equal(200);
    expect(ex.audit.find((e) => e.type === 'device.removed')?.detail).to.include({ deviceId, kind: 'passkey' });
    const session = await logoutAndLogin(ex, alice, 'alice');
    const options = await session.post('/2fa/passkeys/authentication-options', { json: {} });
    expect(() => key.authenticate(options.body, ex.url), 'the removed key is no longer offered').to.throw();
    const forced = key.authenticate(options.body, ex.url, { credentialId: key.credentials[0]!.id });
    expect((await session.post('/2fa/verify', { json: { passkey: forced } })).status).to.equal(401);
    expect((await session.post('/2fa/verify', { json: { passkey: await assertion(session, laptop) } })).status).to.equal(200);
    const disabled = await session.post('/2fa/disable', { json: { passkey: await assertion(session, laptop) } });
    expect(disabled.status, disabled.text).to.equal(200);
    expect((await session.get('/2fa')).body.state).to.equal('none');
  });

  it('answers malformed passkey fields with 400 invalid_input, never a 500', async () => {
    const key = new SoftAuthenticator();
    const alice = await ex.login('alice');
    await linkPasskey(alice, key);
    const session = await logoutAndLogin(ex, alice, 'alice');
    for (const passkey of ['not json', '{"id":1}', [], { id: 'x', type: 'public-key', response: {} }, { id: 'x'.repeat(5000), type: 'public-key', response: { clientDataJSON: 'e30' } }]) {
      const answer = await session.post('/2fa/verify', { json: { passkey } });
      expect(answer.status, JSON.stringify(passkey).slice(0, 40)).to.equal(400);
      expect(answer.body.error).to.equal('invalid_input');
    }
    const form = await session.post('/2fa/verify', { form: { _csrf: await csrfOf(session), passkey: '{"broken"' } });
    expect(form.status, 'a page form with a broken hidden field').to.equal(400);
    // Registration: garbage, and a credential for another session's challenge.
    const other = await ex.login('bob');
    for (const credential of ['nope', { id: 'x', type: 'public-key', response: { clientDataJSON: 'e30' } }]) {
      const linked = await other.post('/2fa/passkeys', { json: { name: 'K', credential } });
      expect(linked.status, linked.text).to.equal(400);
    }
    const bobKey = new SoftAuthenticator();
    const options = await other.post('/2fa/passkeys/options', { json: {} });
    const third = await ex.login('bob');
    expect((await third.post('/2fa/passkeys', { json: { credential: bobKey.register(options.body, ex.url) } })).status).to.equal(400);
  });
});

describe('passkey settings', function () {
  this.timeout(30_000);
  let ex: RunningExample | undefined;
  afterEach(async () => ex?.stop());

  async function started(passkeys: TwoFactorOptions['passkeys'], logs: string[]) {
    ex = await startExample({ twoFactor: { ...(passkeys ? { passkeys } : {}), logger: (m) => logs.push(m) } }, 'koa');
    return ex;
  }

  it('without rpId: warned once, at start when passkeys are configured, else at the first passkey request', async () => {
    const atStart: string[] = [];
    await started({ userVerification: 'preferred' }, atStart);
    expect(atStart.filter((m) => m.includes('passkeys.rpId'))).to.have.length(1);
    await ex!.stop();

    const atUse: string[] = [];
    const app = await started(undefined, atUse);
    expect(atUse.filter((m) => m.includes('passkeys.rpId'))).to.have.length(0);
    const alice = await app.login('alice');
    await linkPasskey(alice, new SoftAuthenticator());
    await alice.post('/2fa/passkeys/authentication-options', { json: {} });
    expect(atUse.filter((m) => m.includes('passkeys.rpId'))).to.have.length(1);
    expect(atUse.find((m) => m.includes('passkeys.rpId'))).to.include('(127.0.0.1)');
  });

  it('with rpId and origins: no warning, and the options name that relying party; an answer for another origin is refused', async () => {
    const logs: string[] = [];
    const app = await started({ rpId: 'localhost', origins: ['http://localhost:1'] }, logs);
    const alice = await app.login('alice');
    const options = await alice.post('/2fa/passkeys/options', { json: {} });
    expect(options.body.rp).to.deep.equal({ name: 'koa-two-factor example', id: 'localhost' });
    const key = new SoftAuthenticator();
    const wrongOrigin = await alice.post('/2fa/passkeys', { json: { credential: key.register(options.body, app.url) } });
    expect(wrongOrigin.status, 'made on this server\'s own origin, which is not listed').to.equal(400);
    const again = await alice.post('/2fa/passkeys/options', { json: {} });
    expect((await alice.post('/2fa/passkeys', { json: { credential: key.register(again.body, 'http://localhost:1') } })).status).to.equal(201);
    expect(logs.filter((m) => m.includes('passkeys.rpId'))).to.deep.equal([]);
  });

  it('enabled: false: the passkey routes answer 403 and a passkey field is refused with 400', async () => {
    const app = await started({ enabled: false }, []);
    const alice = await app.login('alice');
    expect((await alice.post('/2fa/passkeys/options', { json: {} })).status).to.equal(403);
    expect((await alice.post('/2fa/verify', { json: { passkey: { id: 'x' } } })).status).to.equal(400);
  });
});

const BACKENDS = [memoryBackend(), redisBackend(), clusterBackend()];

for (const backend of BACKENDS) {
  describe(`passkey challenges race on ${backend.name}`, function () {
    this.timeout(60_000);
    let ex: RunningExample;
    let key: SoftAuthenticator;

    before(async () => {
      ex = await startExample(await backend.start(), 'koa');
      await storeReady(ex.app.tf.service);
      key = new SoftAuthenticator();
      const alice = await ex.login('alice');
      await linkPasskey(alice, key);
    });
    after(async () => {
      await ex?.stop();
      await backend.stop();
    });

    it('one challenge, 20 answers at once from its session (the same one, and different ones): exactly one gets in, 5 rounds', async () => {
      for (let round = 0; round < 5; round++) {
        const session = await ex.login('alice');
        const options = await session.post('/2fa/passkeys/authentication-options', { json: {} });
        // Odd requests resend one answer; even ones carry answers of their own (new signatures, higher counters) to the same challenge.
        const shared = key.authenticate(options.body, ex.url);
        const answers = await inParallel(20, (i) => session.post('/2fa/verify', { json: { passkey: i % 2 ? shared : key.authenticate(options.body, ex.url) } }));
        // The winner's session id is rotated: answers that arrive after it find that session gone (401 unauthenticated).
        expect(answers.filter((a) => a.status === 200), `round ${round}`).to.have.length(1);
        expect(answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${a.body.error}`), `round ${round}`)
          .to.satisfy((refused: string[]) => refused.length === 19 && refused.every((r) => r === '401 invalid_code' || r === '401 unauthenticated'));
        expect(ex.audit.filter((e) => e.type === 'verification.succeeded').length, 'one success per round').to.equal(round + 1);
      }
    });
  });
}
