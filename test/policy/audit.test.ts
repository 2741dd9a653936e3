/**
 * Issue #5, audit events: one for each enrolment step, verification success
 * and failure, lockout, backup code use, device removal, disable, reset and
 * policy change — each with who (userId, and actor for admin actions), from
 * where (ip), when (ISO `at`) and the outcome; and never a secret, a code, a
 * backup code or a password.
 */
import { expect } from 'chai';
import type { AuditEvent, AuditEventType } from '../../src/index.ts';
import { codeAt, codeWithTimeLeft, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';
import { adminPut, loginAndEnrol, wrongCode } from './helpers.ts';

describeEachExampleApp('policy: audit events', (kind) => {
  let ex: RunningExample;
  let startedAt: number;
  /** Everything secret the test typed or was shown: none may reach an event. */
  const secrets: string[] = [];
  const codes: string[] = [];
  const backupCodes: string[] = [];
  const passwords = ['alice-password', 'bob-password', 'admin-password'];
  let tabletId: string;

  /** Codes that enrol() may have used (step -1, or -2 across a step boundary). */
  function enrolCodes(secret: string): void {
    secrets.push(secret);
    codes.push(codeAt(secret, -1), codeAt(secret, -2));
  }

  const of = (type: AuditEventType, userId?: string): AuditEvent[] =>
    ex.audit.filter((e) => e.type === type && (userId === undefined || e.userId === userId));

  before(async function () {
    startedAt = Date.now();
    ex = await startExample({ twoFactor: { stateCacheMs: 0 } }, kind);

    // alice: enrolment, a wrong and a right code, a backup code, a second device removed, then 2FA off.
    const alice = await loginAndEnrol(ex, 'alice');
    enrolCodes(alice.secret);
    backupCodes.push(...alice.backupCodes);

    const second = await ex.login('alice');
    const wrong = wrongCode(alice.secret);
    codes.push(wrong);
    expect((await second.post('/2fa/verify', { json: { code: wrong } })).status).to.equal(401);
    const good = await codeWithTimeLeft(alice.secret, 0);
    codes.push(good);
    expect((await second.post('/2fa/verify', { json: { code: good } })).status).to.equal(200);

    const third = await ex.login('alice');
    expect((await third.post('/2fa/verify', { json: { code: alice.backupCodes[0] } })).body.method).to.equal('backup');

    const tablet = await alice.client.post('/2fa/setup', { json: { name: 'Tablet' } });
    expect(tablet.status).to.equal(201);
    secrets.push(tablet.body.secret);
    const tabletCode = await codeWithTimeLeft(tablet.body.secret, -1);
    codes.push(tabletCode);
    const confirmed = await alice.client.post('/2fa/setup/confirm', { json: { enrolmentId: tablet.body.enrolmentId, code: tabletCode } });
    expect(confirmed.status).to.equal(200);
    tabletId = confirmed.body.deviceId;

    const removed = await alice.client.delete(`/2fa/devices/${tabletId}`, { json: { code: alice.backupCodes[1] } });
    expect(removed.status, removed.text).to.equal(200);
    const disabled = await alice.client.post('/2fa/disable', { json: { code: alice.backupCodes[2] } });
    expect(disabled.status, disabled.text).to.equal(200);
    expect(disabled.body.state).to.equal('none');

    // bob: locked out after 5 wrong codes.
    const bob = await loginAndEnrol(ex, 'bob');
    enrolCodes(bob.secret);
    backupCodes.push(...bob.backupCodes);
    const bobHalf = await ex.login('bob');
    const bobWrong = wrongCode(bob.secret);
    codes.push(bobWrong);
    for (let i = 0; i < 5; i++) expect((await bobHalf.post('/2fa/verify', { json: { code: bobWrong } })).status).to.equal(401);
    expect((await bobHalf.post('/2fa/verify', { json: { code: bobWrong } })).status).to.equal(429);

    // admin: a wrong password, the global switch on and off, one user required, bob reset.
    const admin = await loginAndEnrol(ex, 'admin');
    enrolCodes(admin.secret);
    backupCodes.push(...admin.backupCodes);
    passwords.push('admin-wrong-password');
    expect((await adminPut(admin.client, '/2fa/admin/policy', { requireAll: true }, 'admin-wrong-password')).status).to.equal(403);
    expect((await adminPut(admin.client, '/2fa/admin/policy', { requireAll: true })).status).to.equal(200);
    expect((await adminPut(admin.client, '/2fa/admin/policy', { requireAll: false })).status).to.equal(200);
    expect((await adminPut(admin.client, '/2fa/admin/users/required', { userIds: ['1'], required: true })).status).to.equal(200);
    expect((await admin.client.post('/2fa/admin/users/2/reset', { json: { password: 'admin-password' } })).status).to.equal(200);
  });
  after(async () => { await ex?.stop(); });

  it('gives every event a user, an ip, an ISO time, an outcome and its endpoint', () => {
    expect(ex.audit.length).to.be.greaterThan(20);
    for (const e of ex.audit) {
      const where = JSON.stringify(e);
      expect(e.userId, where).to.be.a('string').and.match(/^[123]$/);
      expect(e.ip, where).to.be.a('string').and.match(/127\.0\.0\.1$/);
      expect(new Date(e.at).toISOString(), where).to.equal(e.at);
      expect(Date.parse(e.at), where).to.be.within(startedAt - 1000, Date.now() + 1000);
      expect(e.outcome, where).to.be.oneOf(['success', 'failure']);
      expect(e.detail?.endpoint, where).to.be.a('string');
    }
  });

  it('records enrolment started and confirmed', () => {
    const started = of('enrolment.started', '1');
    expect(started).to.have.length(2);
    for (const e of started) expect(e).to.include({ outcome: 'success' });
    const confirmed = of('enrolment.confirmed', '1');
    expect(confirmed.map((e) => e.detail?.firstDevice)).to.deep.equal([true, false]);
    expect(confirmed[1]!.detail?.deviceId).to.equal(tabletId);
    for (const e of [...started, ...confirmed]) expect(e.actor).to.equal(undefined);
    expect(of('enrolment.confirmed').map((e) => e.userId)).to.deep.equal(['1', '1', '2', '3']);
  });

  it('records verification success (code and backup code) and failure', () => {
    const ok = of('verification.succeeded', '1');
    expect(ok.map((e) => e.detail?.method)).to.deep.equal(['totp', 'backup', 'backup', 'backup']);
    expect(ok.map((e) => e.detail?.endpoint)).to.deep.equal(['verify', 'verify', 'devices/remove', 'disable']);
    for (const e of ok) expect(e).to.include({ outcome: 'success' });
    const failed = of('verification.failed', '1');
    expect(failed).to.have.length(1);
    expect(failed[0]).to.include({ outcome: 'failure' });
    expect(failed[0]!.detail?.endpoint).to.equal('verify');
  });

  it('records the lockout after the fifth failure, and the refused attempt after it', () => {
    const failed = of('verification.failed', '2');
    expect(failed).to.have.length(6);
    expect(failed[5]!.detail?.reason).to.equal('locked');
    const lockout = of('lockout', '2');
    expect(lockout).to.have.length(1);
    expect(lockout[0]).to.include({ outcome: 'failure' });
    expect(lockout[0]!.detail?.lockedForMs).to.be.a('number').and.greaterThan(0);
  });

  it('records each backup code used, with the count left', () => {
    const used = of('backup_code.used', '1');
    expect(used.map((e) => e.detail?.remaining)).to.deep.equal([9, 8, 7]);
    for (const e of used) expect(e).to.include({ outcome: 'success' });
  });

  it('records device removal and disable', () => {
    const removed = of('device.removed', '1');
    expect(removed).to.have.length(1);
    expect(removed[0]).to.include({ outcome: 'success' });
    expect(removed[0]!.detail).to.include({ deviceId: tabletId, lastDevice: false });
    const disabled = of('disabled', '1');
    expect(disabled).to.have.length(1);
    expect(disabled[0]).to.include({ outcome: 'success' });
    for (const e of [...removed, ...disabled]) expect(e.actor).to.equal(undefined);
  });

  it('records admin actions with the admin as actor: policy changes, reset, a wrong password', () => {
    const policy = of('policy.changed');
    expect(policy.map((e) => [e.userId, e.actor, e.detail?.requireAll ?? e.detail?.required])).to.deep.equal([
      ['3', '3', true], ['3', '3', false], ['1', '3', true],
    ]);
    for (const e of policy) expect(e.outcome).to.equal('success');
    const reset = of('reset');
    expect(reset).to.have.length(1);
    expect(reset[0]).to.include({ userId: '2', actor: '3', outcome: 'success' });
    const wrong = of('verification.failed', '3');
    expect(wrong).to.have.length(1);
    expect(wrong[0]).to.include({ actor: '3', outcome: 'failure' });
    expect(wrong[0]!.detail?.method).to.equal('password');
    // Self-service events carry no actor.
    const adminMade = new Set<AuditEvent>([...policy, ...reset, ...wrong]);
    for (const e of ex.audit.filter((x) => !adminMade.has(x))) expect(e.actor, JSON.stringify(e)).to.equal(undefined);
  });

  it('never carries a secret, a code, a backup code or a password', () => {
    const all = JSON.stringify(ex.audit);
    expect(secrets).to.have.length(4);
    expect(backupCodes).to.have.length(30);
    const forbidden = [
      ...secrets, ...secrets.map((s) => s.toLowerCase()),
      ...codes,
      ...backupCodes, ...backupCodes.map((c) => c.replace('-', '')),
      ...passwords,
    ];
    for (const s of forbidden) expect(all, s).not.to.include(s);
    expect(all).not.to.match(/"password"\s*:/i);
  });
});
