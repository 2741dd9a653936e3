/**
 * Issue #5, admin policy: only managers, from a verified session, each change
 * confirmed with the admin's password (wrong ones spend the admin's failure
 * budget); the global switch and per-user requirement hold pending users to
 * setup — already-open sessions too, within `stateCacheMs`; a reset removes a
 * user's devices and codes and ends their verified sessions.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { advanceClock, resetClock } from '../support/clock.ts';
import { adminPut, csrfOf, loginAndEnrol } from './helpers.ts';

/** Every admin route, JSON and form twins, with a body that would be valid for an admin. */
function adminCalls(password: string): [string, (c: HttpClient) => Promise<HttpResponse>][] {
  return [
    ['GET /2fa/admin/users', (c) => c.get('/2fa/admin/users')],
    ['PUT /2fa/admin/policy', (c) => c.put('/2fa/admin/policy', { json: { requireAll: true, password } })],
    ['POST /2fa/admin/policy', (c) => c.post('/2fa/admin/policy', { json: { requireAll: true, password } })],
    ['PUT /2fa/admin/users/required', (c) => c.put('/2fa/admin/users/required', { json: { userIds: ['1', '2'], required: true, password } })],
    ['POST /2fa/admin/users/required', (c) => c.post('/2fa/admin/users/required', { json: { userIds: ['1', '2'], required: true, password } })],
    ['POST /2fa/admin/users/3/reset', (c) => c.post('/2fa/admin/users/3/reset', { json: { password } })],
  ];
}

type Overview = { requireAll: boolean; users: { id: string; username: string; state: string; required: boolean }[] };

async function overview(admin: HttpClient): Promise<Overview> {
  const res = await admin.get('/2fa/admin/users');
  expect(res.status, res.text).to.equal(200);
  return res.body as Overview;
}

function userIn(o: Overview, username: string) {
  const u = o.users.find((x) => x.username === username);
  if (!u) throw new Error(`${username} not listed`);
  return u;
}

describeEachExampleApp('policy: admin routes', (kind) => {
  describe('who may use them', () => {
    let ex: RunningExample;
    /** Verified admin, from the second test on. */
    let admin: HttpClient;
    before(async () => { ex = await startExample({ twoFactor: { stateCacheMs: 0 } }, kind); });
    after(async () => { await ex?.stop(); });

    it('answers 401 unauthenticated without a user', async () => {
      const anon = ex.client();
      for (const [name, call] of adminCalls('admin-password')) {
        const res = await call(anon);
        expect(res.status, name).to.equal(401);
        expect(res.body.error, name).to.equal('unauthenticated');
      }
      const page = await anon.get('/2fa/admin/users', { accept: 'html' });
      expect(page.status).to.equal(302);
      expect(page.headers.get('location')).to.equal('/login');
    });

    it('answers 403 forbidden to non-admins (alice without 2FA, bob verified), even with their own password', async () => {
      const alice = await ex.login('alice');
      const { client: bob } = await loginAndEnrol(ex, 'bob');
      for (const [who, c] of [['alice', alice], ['bob', bob]] as const) {
        for (const [name, call] of adminCalls(`${who}-password`)) {
          const res = await call(c);
          expect(res.status, `${who}: ${name}`).to.equal(403);
          expect(res.body.error, `${who}: ${name}`).to.equal('forbidden');
        }
      }
      // Nothing changed, and no failure was spent on their budgets.
      ({ client: admin } = await loginAndEnrol(ex, 'admin'));
      const o = await overview(admin);
      expect(o.requireAll).to.equal(false);
      expect(o.users.every((u) => !u.required)).to.equal(true);
      expect(ex.audit.filter((e) => e.type === 'policy.changed' || e.type === 'reset' || e.type === 'verification.failed')).to.deep.equal([]);
    });

    it('asks an admin with 2FA for the second factor first', async () => {
      const half = await ex.login('admin');
      const res = await half.get('/2fa/admin/users');
      expect(res.status).to.equal(401);
      expect(res.body.error).to.equal('second_factor_required');
      const put = await adminPut(half, '/2fa/admin/policy', { requireAll: true });
      expect(put.status).to.equal(401);
      expect(put.body.error).to.equal('second_factor_required');
    });

    it('lists every user with state and required, and the global flag (JSON and page)', async () => {
      expect(await overview(admin)).to.deep.equal({
        requireAll: false,
        users: [
          { id: '1', username: 'alice', state: 'none', required: false },
          { id: '2', username: 'bob', state: 'active', required: false },
          { id: '3', username: 'admin', state: 'active', required: false },
        ],
      });
      const page = await admin.get('/2fa/admin/users', { accept: 'html' });
      expect(page.status).to.equal(200);
      expect(page.text).to.include('Two-factor policy');
      for (const name of ['alice', 'bob', 'admin']) expect(page.text).to.include(name);
    });
  });

  describe('password confirmation and the admin failure budget', () => {
    let ex: RunningExample;
    let admin: HttpClient;
    let adminSecret: string;
    before(async () => {
      ex = await startExample({ twoFactor: { stateCacheMs: 0 } }, kind);
      ({ client: admin, secret: adminSecret } = await loginAndEnrol(ex, 'admin'));
    });
    after(async () => { await ex?.stop(); });

    it('refuses a wrong password with 403, saves nothing, and locks after 5 (429 even with the right password)', async () => {
      for (let i = 1; i <= 5; i++) {
        const res = await adminPut(admin, '/2fa/admin/policy', { requireAll: true }, `wrong-${i}`);
        expect(res.status, `wrong password ${i}`).to.equal(403);
        expect(res.body).to.include({ error: 'forbidden', field: 'password' });
      }
      const locked = await adminPut(admin, '/2fa/admin/policy', { requireAll: true });
      expect(locked.status).to.equal(429);
      expect(locked.body.error).to.equal('too_many_attempts');
      expect(Number(locked.headers.get('retry-after'))).to.be.greaterThan(0);
      for (const [name, call] of adminCalls('admin-password').slice(1)) {
        expect((await call(admin)).status, name).to.equal(429);
      }
      expect((await overview(admin)).requireAll).to.equal(false);

      // The same budget as the admin's codes: a new session cannot verify either.
      const half = await ex.login('admin');
      const verify = await half.post('/2fa/verify', { json: { code: await codeWithTimeLeft(adminSecret, 0) } });
      expect(verify.status).to.equal(429);
      expect(ex.audit.filter((e) => e.type === 'verification.failed' && e.userId === '3' && e.detail?.method === 'password')).to.have.length(5);
      expect(ex.audit.filter((e) => e.type === 'lockout' && e.userId === '3')).to.have.length(1);
    });
  });

  describe('global policy, per-user requirement, bad input', () => {
    let ex: RunningExample;
    let admin: HttpClient;
    before(async () => {
      ex = await startExample({ twoFactor: { stateCacheMs: 0 } }, kind);
      ({ client: admin } = await loginAndEnrol(ex, 'admin'));
    });
    after(async () => { await ex?.stop(); });

    it('starts with nobody required', async () => {
      const o = await overview(admin);
      expect(o).to.deep.equal({
        requireAll: false,
        users: [
          { id: '1', username: 'alice', state: 'none', required: false },
          { id: '2', username: 'bob', state: 'none', required: false },
          { id: '3', username: 'admin', state: 'active', required: false },
        ],
      });
    });

    it('global on: every user without 2FA is pending, and per-user settings answer 409', async () => {
      const res = await adminPut(admin, '/2fa/admin/policy', { requireAll: true });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ requireAll: true });
      const o = await overview(admin);
      expect(o.requireAll).to.equal(true);
      expect(userIn(o, 'alice')).to.include({ state: 'pending', required: true });
      expect(userIn(o, 'bob')).to.include({ state: 'pending', required: true });
      expect(userIn(o, 'admin')).to.include({ state: 'active', required: true });

      const conflict = await adminPut(admin, '/2fa/admin/users/required', { userIds: ['1'], required: false });
      expect(conflict.status).to.equal(409);
      expect(conflict.body.error).to.equal('conflict');
    });

    it('holds a pending user (bob) to setup after login: JSON 403, browser to setup, setup and logout work', async () => {
      const bob = ex.client();
      const login = await bob.post('/login', { json: { username: 'bob', password: 'bob-password' } });
      expect(login.body).to.include({ twoFactor: 'pending', next: '/2fa/setup' });
      const dash = await bob.get('/dashboard');
      expect(dash.status).to.equal(403);
      expect(dash.body).to.include({ error: 'two_factor_setup_required', setupUrl: '/2fa/setup' });
      const action = await bob.post('/remote/take-control', { json: {} });
      expect(action.status).to.equal(403);
      expect(action.body.error).to.equal('two_factor_setup_required');

      const page = await bob.get('/dashboard', { accept: 'html' });
      expect(page.status).to.equal(303);
      expect(page.headers.get('location')).to.equal('/2fa/setup?returnTo=%2Fdashboard');

      const setup = await bob.get('/2fa/setup');
      expect(setup.status).to.equal(200);
      expect(setup.body.secret).to.match(/^[A-Z2-7]{32}$/);
      const setupPage = await bob.get('/2fa/setup?returnTo=%2Fdashboard', { accept: 'html' });
      expect(setupPage.status).to.equal(200);

      // Nor may a pending user reach the admin routes.
      expect((await bob.get('/2fa/admin/users')).status).to.equal(403);

      const logout = await bob.post('/logout', { json: {} });
      expect(logout.status).to.equal(200);
      expect(logout.body).to.deep.equal({ ok: true });
      const after = await bob.get('/dashboard', { accept: 'html' });
      expect(after.status).to.equal(302);
      expect(after.headers.get('location')).to.equal('/login');

      // A browser login lands on setup, with the way back.
      const browser = ex.client();
      const form = await browser.post('/login', { form: { username: 'bob', password: 'bob-password' } });
      expect(form.status).to.equal(302);
      expect(form.headers.get('location')).to.equal('/2fa/setup?returnTo=%2Fdashboard');
    });

    it('global off: per-user requirement works for several users at once, on and off', async () => {
      expect((await adminPut(admin, '/2fa/admin/policy', { requireAll: false })).body).to.deep.equal({ requireAll: false });
      let o = await overview(admin);
      expect(o.requireAll).to.equal(false);
      expect(userIn(o, 'alice')).to.include({ state: 'none', required: false });

      const on = await adminPut(admin, '/2fa/admin/users/required', { userIds: ['1', '2'], required: true });
      expect(on.status).to.equal(200);
      expect(on.body).to.deep.equal({ userIds: ['1', '2'], required: true });
      o = await overview(admin);
      expect(userIn(o, 'alice')).to.include({ state: 'pending', required: true });
      expect(userIn(o, 'bob')).to.include({ state: 'pending', required: true });
      expect(userIn(o, 'admin')).to.include({ state: 'active', required: false });
      expect((await (await ex.login('alice')).get('/dashboard')).body.error).to.equal('two_factor_setup_required');

      const off = await adminPut(admin, '/2fa/admin/users/required', { userIds: ['1', '2'], required: false });
      expect(off.status).to.equal(200);
      o = await overview(admin);
      expect(userIn(o, 'alice')).to.include({ state: 'none', required: false });
      expect(userIn(o, 'bob')).to.include({ state: 'none', required: false });
      expect((await (await ex.login('alice')).get('/dashboard')).status).to.equal(200);
    });

    it('takes the form twins (POST with _csrf) and comes back to the admin page with a notice', async () => {
      const page = await admin.get('/2fa/admin/users', { accept: 'html' });
      expect(page.status).to.equal(200);
      const csrf = csrfOf(page.text);
      // One ticked box sends a single string.
      const one = await admin.post('/2fa/admin/users/required', { form: { _csrf: csrf, userIds: '2', required: 'true', password: 'admin-password' } });
      expect(one.status).to.equal(303);
      expect(one.headers.get('location')).to.equal('/2fa/admin/users');
      expect(userIn(await overview(admin), 'bob')).to.include({ state: 'pending', required: true });
      const notice = await admin.get('/2fa/admin/users', { accept: 'html' });
      expect(notice.text).to.include('The users were updated.');

      const two = await admin.post('/2fa/admin/users/required', { form: `_csrf=${encodeURIComponent(csrf)}&userIds=1&userIds=2&required=false&password=admin-password` });
      expect(two.status).to.equal(303);
      const o = await overview(admin);
      expect(userIn(o, 'alice').required).to.equal(false);
      expect(userIn(o, 'bob').required).to.equal(false);

      const wrong = await admin.post('/2fa/admin/policy', { form: { _csrf: csrf, requireAll: 'true', password: 'not-it' } });
      expect(wrong.status).to.equal(403);
      expect(wrong.text).to.include('That password is not right.');
      expect((await overview(admin)).requireAll).to.equal(false);
    });

    it('answers bad input with 400 invalid_input, never 500', async () => {
      const cases: [string, () => Promise<HttpResponse>, string | undefined][] = [
        ['requireAll: "yes"', () => adminPut(admin, '/2fa/admin/policy', { requireAll: 'yes' }), 'requireAll'],
        ['requireAll missing', () => adminPut(admin, '/2fa/admin/policy', {}), 'requireAll'],
        ['requireAll: 1', () => adminPut(admin, '/2fa/admin/policy', { requireAll: 1 }), 'requireAll'],
        ['userIds: "x" in JSON', () => adminPut(admin, '/2fa/admin/users/required', { userIds: 'x', required: true }), 'userIds'],
        ['userIds: []', () => adminPut(admin, '/2fa/admin/users/required', { userIds: [], required: true }), 'userIds'],
        ['userIds: [1]', () => adminPut(admin, '/2fa/admin/users/required', { userIds: [1], required: true }), 'userIds'],
        ['userIds: {}', () => adminPut(admin, '/2fa/admin/users/required', { userIds: { a: '1' }, required: true }), 'userIds'],
        ['userIds: null', () => adminPut(admin, '/2fa/admin/users/required', { userIds: null, required: true }), 'userIds'],
        ['required: "maybe"', () => adminPut(admin, '/2fa/admin/users/required', { userIds: ['1'], required: 'maybe' }), 'required'],
        ['policy without password', () => admin.put('/2fa/admin/policy', { json: { requireAll: true } }), 'password'],
        ['required without password', () => admin.put('/2fa/admin/users/required', { json: { userIds: ['1'], required: true } }), 'password'],
        ['reset without password', () => admin.post('/2fa/admin/users/1/reset', { json: {} }), 'password'],
        ['password: ""', () => admin.put('/2fa/admin/policy', { json: { requireAll: true, password: '' } }), 'password'],
        ['password: 123', () => admin.put('/2fa/admin/policy', { json: { requireAll: true, password: 123 } }), 'password'],
        ['password: [..]', () => admin.put('/2fa/admin/policy', { json: { requireAll: true, password: ['admin-password'] } }), 'password'],
        ['body is a JSON array', () => admin.put('/2fa/admin/policy', { json: [true] }), undefined],
      ];
      for (const [name, call, field] of cases) {
        const res = await call();
        expect(res.status, `${name}: ${res.text}`).to.equal(400);
        expect(res.body.error, name).to.equal('invalid_input');
        if (field) expect(res.body.field, name).to.equal(field);
      }
      // None of it changed anything, and none of it spent the admin's budget.
      const o = await overview(admin);
      expect(o.requireAll).to.equal(false);
      expect(o.users.every((u) => !u.required)).to.equal(true);
      expect(ex.audit.filter((e) => e.type === 'verification.failed' && e.userId === '3')).to.have.length(1);
    });

    it('refuses the admin routes to an admin who is pending (required, 2FA not set up)', async () => {
      // A second manager is not in the example; reset the admin's own 2FA while everyone is required.
      expect((await adminPut(admin, '/2fa/admin/policy', { requireAll: true })).status).to.equal(200);
      const reset = await admin.post('/2fa/admin/users/3/reset', { json: { password: 'admin-password' } });
      expect(reset.status).to.equal(200);
      expect(reset.body).to.deep.equal({ state: 'pending' });
      const self = await ex.login('admin');
      expect((await self.get('/dashboard')).body.error).to.equal('two_factor_setup_required');
      const lift = await adminPut(self, '/2fa/admin/policy', { requireAll: false });
      expect(lift.status).to.equal(403);
      expect(lift.body.error).to.equal('two_factor_setup_required');
      expect((await self.get('/2fa/admin/users')).status).to.equal(403);
      expect((await ex.app.tf.service.usersOverview([{ id: '3', username: 'admin' }])).requireAll).to.equal(true);
    });
  });

  describe('already-open sessions (stateCacheMs: 60 s, the clock moved past it) and resets', () => {
    // Long enough that no machine leaves it by being slow; the tests move
    // the clock past it (in-memory stores: see test/support/clock.ts).
    const CACHE_MS = 60_000;
    let ex: RunningExample;
    let admin: HttpClient;
    before(async () => {
      ex = await startExample({ twoFactor: { stateCacheMs: CACHE_MS } }, kind);
      ({ client: admin } = await loginAndEnrol(ex, 'admin'));
    });
    after(async () => {
      resetClock();
      await ex?.stop();
    });

    it('holds a session of bob opened before the requirement to setup once the interval has passed', async () => {
      const bob = await ex.login('bob');
      expect((await bob.get('/dashboard')).status).to.equal(200);
      const res = await adminPut(admin, '/2fa/admin/users/required', { userIds: ['2'], required: true });
      expect(res.status).to.equal(200);
      // Within the interval the gate still trusts what it cached.
      advanceClock(CACHE_MS - 10_000);
      expect((await bob.get('/dashboard')).status).to.equal(200);

      advanceClock(10_001);
      const held = await bob.get('/dashboard');
      expect(held.status).to.equal(403);
      expect(held.body.error).to.equal('two_factor_setup_required');
      const page = await bob.get('/dashboard', { accept: 'html' });
      expect(page.status).to.equal(303);
      expect(page.headers.get('location')).to.equal('/2fa/setup?returnTo=%2Fdashboard');
      expect((await bob.get('/2fa/setup')).status).to.equal(200);
    });

    it('reset removes the devices and codes and ends the user\'s verified sessions', async () => {
      const { client: alice, secret, backupCodes } = await loginAndEnrol(ex, 'alice');
      expect((await adminPut(admin, '/2fa/admin/users/required', { userIds: ['1'], required: true })).status).to.equal(200);
      // A second verified session, with a backup code.
      const other = await ex.login('alice');
      expect((await other.post('/2fa/verify', { json: { code: backupCodes[0] } })).status).to.equal(200);
      for (const c of [alice, other]) expect((await c.get('/dashboard')).status).to.equal(200);
      expect(userIn(await overview(admin), 'alice').state).to.equal('active');

      const reset = await admin.post('/2fa/admin/users/1/reset', { json: { password: 'admin-password' } });
      expect(reset.status).to.equal(200);
      expect(reset.body).to.deep.equal({ state: 'pending' });
      expect(userIn(await overview(admin), 'alice')).to.include({ state: 'pending', required: true });

      const status = await alice.get('/2fa');
      expect(status.body).to.include({ state: 'pending', backupCodesRemaining: 0 });
      expect(status.body.devices).to.deep.equal([]);
      expect(status.body.session.verified).to.equal(false);
      // requireStepUp reads the store: the privileged action is closed at once.
      expect((await alice.post('/remote/take-control', { json: {} })).body.error).to.equal('two_factor_setup_required');

      advanceClock(CACHE_MS + 1);
      for (const c of [alice, other]) {
        const res = await c.get('/dashboard');
        expect(res.status).to.equal(403);
        expect(res.body.error).to.equal('two_factor_setup_required');
      }

      // The old factors are gone: neither a code nor a backup code verifies.
      const fresh = await ex.login('alice');
      for (const code of [await codeWithTimeLeft(secret, 1), backupCodes[1]!]) {
        const res = await fresh.post('/2fa/verify', { json: { code } });
        expect(res.status, code).to.equal(401);
        expect(res.body.error).to.equal('invalid_code');
      }
    });
  });
});
