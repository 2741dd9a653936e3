/**
 * A password alone learns nothing about the account's second factor beyond
 * what the verify page needs (issue 10, item 9): before the second factor,
 * `GET /2fa` lists no devices, no last-use times and no backup-code count.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, enrol, describeEachExampleApp, startExample, type RunningExample } from '../support/example-server.ts';

describeEachExampleApp('security: GET /2fa from a password-only session', (kind) => {
  let ex: RunningExample;
  before(async () => {
    ex = await startExample({}, kind);
  });
  after(async () => {
    await ex.stop();
  });

  it('answers state, requirement, session and CSRF token only; after the code, the devices and backup codes', async () => {
    const owner = await ex.login('alice');
    const { secret } = await enrol(owner, 'Work phone');
    const half = await ex.login('alice');
    const before = await half.get('/2fa', { accept: 'json' });
    expect(before.status).to.equal(200);
    expect(Object.keys(before.body).sort()).to.deep.equal(['csrfToken', 'required', 'session', 'state']);
    expect(before.body.state).to.equal('active');
    expect(before.body.session).to.deep.equal({ verified: false, verifiedAt: null, method: null });
    expect(before.text).not.to.include('Work phone');

    expect((await half.post('/2fa/verify', { json: { code: await codeWithTimeLeft(secret, 0) } })).status).to.equal(200);
    const after = await half.get('/2fa', { accept: 'json' });
    expect(after.body.devices.map((d: { name: string }) => d.name)).to.deep.equal(['Work phone']);
    expect(after.body.backupCodesRemaining).to.equal(10);
  });

  it('a user without 2FA sees their (empty) status as before', async () => {
    const res = await (await ex.login('bob')).get('/2fa', { accept: 'json' });
    expect(res.body).to.include({ state: 'none', backupCodesRemaining: 0 });
    expect(res.body.devices).to.deep.equal([]);
  });
});
