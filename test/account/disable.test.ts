/**
 * Turning 2FA off (issue #4): only with a valid code, it takes every device
 * and backup code with it, and it is refused while an administrator requires
 * 2FA for the user or for everyone.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, describeEachExampleApp } from '../support/example-server.ts';
import { wrongCodes } from '../support/parallel.ts';
import { ALICE, enrolled, freshExample, info, loginVerified, status, verify } from './helpers.ts';

describeEachExampleApp('account: turning 2FA off', (kind) => {
  const app = freshExample(kind, () => ({ twoFactor: { stateCacheMs: 0 } }));

  it('refuses a wrong code with 401 invalid_code and a missing one with 400; 2FA stays on', async () => {
    const { client, secret } = await enrolled(app.ex, 'alice');
    const wrong = await client.post('/2fa/disable', { json: { code: wrongCodes(secret, 1)[0] } });
    expect(wrong.status).to.equal(401);
    expect(wrong.body.error).to.equal('invalid_code');
    const missing = await client.post('/2fa/disable', { json: {} });
    expect(missing.status).to.equal(400);
    expect(missing.body).to.include({ error: 'invalid_input', field: 'code' });

    const s = await status(client);
    expect(s).to.include({ state: 'active', backupCodesRemaining: 10 });
    expect(s.devices).to.have.length(1);
    expect((await (await app.ex.login('alice')).get('/dashboard')).status).to.equal(401);
  });

  it('refuses a session that has not passed the second factor, even with a valid code', async () => {
    const { secret } = await enrolled(app.ex, 'alice');
    const unverified = await app.ex.login('alice');
    const res = await unverified.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 0) } });
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('second_factor_required');
    expect((await status(unverified)).state).to.equal('active');
  });

  it('with a valid code: state none, devices and backup codes gone, login needs the password only', async () => {
    const { client, secret, backupCodes } = await enrolled(app.ex, 'alice');
    const res = await client.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 0) } });
    expect(res.status, res.text).to.equal(200);
    expect(res.body).to.deep.equal({ state: 'none' });

    const s = await status(client);
    expect(s).to.include({ state: 'none', required: false, backupCodesRemaining: 0 });
    expect(s.devices).to.deep.equal([]);
    expect((await client.get('/dashboard')).body.twoFactor).to.equal('none');

    const login = await app.ex.client().post('/login', { json: { username: 'alice', password: 'alice-password' } });
    expect(login.body).to.include({ twoFactor: 'none', next: '/dashboard' });
    const fresh = await app.ex.login('alice');
    expect((await fresh.get('/dashboard')).status).to.equal(200);
    // Nothing of the old factors works any more.
    expect((await verify(fresh, backupCodes[0]!)).status).to.equal(401);
    expect((await verify(fresh, await codeWithTimeLeft(secret, 1))).status).to.equal(401);
    expect(app.ex.audit.filter((e) => e.type === 'disabled' && e.userId === ALICE)).to.have.length(1);
  });

  it('accepts a backup code as the confirming code', async () => {
    const { client, backupCodes } = await enrolled(app.ex, 'alice');
    const res = await client.post('/2fa/disable', { json: { code: backupCodes[4] } });
    expect(res.status, res.text).to.equal(200);
    expect((await status(client)).state).to.equal('none');
  });

  it('refuses with 403 forbidden while 2FA is required for the user, without spending the code', async () => {
    const { client, secret } = await enrolled(app.ex, 'alice');
    await app.ex.app.tf.service.setRequired([ALICE], true, info);

    const res = await client.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 0) } });
    expect(res.status).to.equal(403);
    expect(res.body.error).to.equal('forbidden');
    const s = await status(client);
    expect(s).to.include({ state: 'active', required: true, backupCodesRemaining: 10 });
    expect(s.devices).to.have.length(1);
    await loginVerified(app.ex, 'alice', await codeWithTimeLeft(secret, 0));

    // Once no longer required, the same account may turn it off.
    await app.ex.app.tf.service.setRequired([ALICE], false, info);
    expect((await client.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 1) } })).status).to.equal(200);
  });

  it('refuses with 403 forbidden while 2FA is required for all users (requireAll)', async () => {
    const { client, secret } = await enrolled(app.ex, 'alice');
    await app.ex.app.tf.service.setPolicy(true, info);

    const res = await client.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 0) } });
    expect(res.status).to.equal(403);
    expect(res.body.error).to.equal('forbidden');
    expect(await status(client)).to.include({ state: 'active', required: true });

    await app.ex.app.tf.service.setPolicy(false, info);
    expect((await client.post('/2fa/disable', { json: { code: await codeWithTimeLeft(secret, 1) } })).status).to.equal(200);
  });
});
