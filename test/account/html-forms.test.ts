/**
 * The account page's forms (issue #4), driven as a browser would: urlencoded
 * posts with the session's `_csrf`, answered with a 303 back to the account
 * page and a one-time notice, the new backup codes page, or the account page
 * again with the error and the error's status.
 */
import { expect } from 'chai';
import { codeWithTimeLeft, describeEachExampleApp } from '../support/example-server.ts';
import type { HttpClient, HttpResponse } from '../support/http-client.ts';
import { wrongCodes } from '../support/parallel.ts';
import { ALICE, BACKUP_CODE_FORMAT, addDevice, codesOnPage, csrfOf, enrolled, freshExample, info, loginVerified, status, verify } from './helpers.ts';

const INVALID_CODE = 'That code is not valid. Check your authenticator app and try again.';

/** A form post as the account page sends it. */
async function submit(client: HttpClient, path: string, fields: Record<string, string>): Promise<HttpResponse> {
  return client.post(path, { form: { _csrf: await csrfOf(client), ...fields }, accept: 'html' });
}

/** Follows a 303 to the account page and returns that page. */
async function followToAccount(client: HttpClient, res: HttpResponse): Promise<string> {
  expect(res.status, res.text).to.equal(303);
  expect(res.headers.get('location')).to.equal('/2fa');
  const page = await client.get('/2fa', { accept: 'html' });
  expect(page.status).to.equal(200);
  expect(page.headers.get('content-type')).to.match(/^text\/html/);
  return page.text;
}

describeEachExampleApp('account: HTML forms', (kind) => {
  const app = freshExample(kind, () => ({ twoFactor: { stateCacheMs: 0 } }));

  it('remove (POST /2fa/devices/:id/remove): 303 to /2fa, the notice once, the device gone', async () => {
    const first = await enrolled(app.ex, 'alice');
    const tablet = await addDevice(first.client, 'Tablet');
    const c = first.client;

    const page = await followToAccount(c, await submit(c, `/2fa/devices/${tablet.deviceId}/remove`, { code: await codeWithTimeLeft(first.secret, 0) }));
    expect(page).to.include('<p class="notice" role="status">The authenticator was removed.</p>');
    expect(page).to.include('>Phone</h3>').and.not.include('>Tablet</h3>');
    expect((await c.get('/2fa', { accept: 'html' })).text).not.to.include('The authenticator was removed.');
    expect((await status(c)).devices).to.have.length(1);
  });

  it('rename (POST /2fa/devices/:id/rename): 303 to /2fa, the notice and the new name, escaped', async () => {
    const { client: c, deviceId } = await enrolled(app.ex, 'alice');
    const page = await followToAccount(c, await submit(c, `/2fa/devices/${deviceId}/rename`, { name: 'Work <b>phone</b>' }));
    expect(page).to.include('The authenticator was renamed.');
    expect(page).to.include('>Work &lt;b&gt;phone&lt;/b&gt;</h3>').and.not.include('<b>phone</b>');
    expect((await status(c)).devices[0].name).to.equal('Work <b>phone</b>');
  });

  it('backup codes (POST /2fa/backup-codes): the new codes page lists 10 codes that work; the old ones do not', async () => {
    const { client: c, secret, backupCodes: old } = await enrolled(app.ex, 'alice');
    const res = await submit(c, '/2fa/backup-codes', { code: await codeWithTimeLeft(secret, 0) });
    expect(res.status, res.text).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    expect(res.text).to.include('Your new backup codes');
    const shown = codesOnPage(res.text);
    expect(shown).to.have.length(10);
    expect(new Set(shown).size).to.equal(10);
    for (const code of shown) expect(code).to.match(BACKUP_CODE_FORMAT);
    expect(shown.filter((code) => old.includes(code))).to.deep.equal([]);
    expect(res.text).to.include('download="backup-codes.txt"');

    const account = (await c.get('/2fa', { accept: 'html' })).text;
    expect(account).to.include('10 backup codes left.');
    for (const code of shown) expect(account).not.to.include(code);

    const other = await app.ex.login('alice');
    expect((await verify(other, old[0]!)).status).to.equal(401);
    expect((await verify(other, shown[0]!)).body).to.include({ verified: true, method: 'backup', backupCodesRemaining: 9 });
  });

  it('disable (POST /2fa/disable): 303 to /2fa, the notice, and the page says 2FA is off', async () => {
    const { client: c, secret } = await enrolled(app.ex, 'alice');
    const page = await followToAccount(c, await submit(c, '/2fa/disable', { code: await codeWithTimeLeft(secret, 0) }));
    expect(page).to.include('Two-factor authentication is now off.');
    expect(page).to.include('Two-factor authentication is off.');
    expect(page).to.include('Set up an authenticator app');
    expect((await status(c)).state).to.equal('none');
  });

  it('a wrong code on remove, regenerate or disable re-renders the account page with the error, status 401', async () => {
    const first = await enrolled(app.ex, 'alice');
    const tablet = await addDevice(first.client, 'Tablet');
    const c = first.client;
    const wrongForTablet = wrongCodes(tablet.secret, 10);
    const [w1, w2, w3] = wrongCodes(first.secret, 10).filter((code) => wrongForTablet.includes(code));

    for (const [path, code] of [[`/2fa/devices/${tablet.deviceId}/remove`, w1], ['/2fa/backup-codes', w2], ['/2fa/disable', w3]] as const) {
      const res = await submit(c, path, { code: code! });
      expect(res.status, path).to.equal(401);
      expect(res.headers.get('content-type')).to.match(/^text\/html/);
      expect(res.text).to.include(`<p class="error" role="alert">${INVALID_CODE}</p>`);
      // It is the account page again, with its forms.
      expect(res.text).to.include('Authenticator apps').and.include('>Tablet</h3>').and.include('action="/2fa/disable"');
      expect(codesOnPage(res.text)).to.deep.equal([]);
    }
    const s = await status(c);
    expect(s).to.include({ state: 'active', backupCodesRemaining: 10 });
    expect(s.devices).to.have.length(2);
  });

  it('while 2FA is required: the page offers neither removal of the last app nor turning off, and the posts answer 409 and 403', async () => {
    const { client: c, secret, deviceId } = await enrolled(app.ex, 'alice');
    await app.ex.app.tf.service.setRequired([ALICE], true, info);

    const account = (await c.get('/2fa', { accept: 'html' })).text;
    expect(account).to.include('Required by your administrator: add another app before removing this one.');
    expect(account).to.include('Your administrator requires two-factor authentication; it cannot be turned off.');
    expect(account).not.to.include('/remove"').and.not.include('action="/2fa/disable"');

    const remove = await submit(c, `/2fa/devices/${deviceId}/remove`, { code: await codeWithTimeLeft(secret, 0) });
    expect(remove.status).to.equal(409);
    expect(remove.text).to.include('Two-factor authentication is required: add another authenticator before removing the last one.');
    const disable = await submit(c, '/2fa/disable', { code: await codeWithTimeLeft(secret, 0) });
    expect(disable.status).to.equal(403);
    expect(disable.text).to.include('Two-factor authentication is required for your account and cannot be turned off.');
    // Neither refusal spent the code.
    await loginVerified(app.ex, 'alice', await codeWithTimeLeft(secret, 0));
  });

  it('refuses a form without the CSRF token (403), and a session that has not passed the second factor', async () => {
    const { client: c, secret } = await enrolled(app.ex, 'alice');
    const noToken = await c.post('/2fa/disable', { form: { code: await codeWithTimeLeft(secret, 0) }, accept: 'html' });
    expect(noToken.status).to.equal(403);
    expect(noToken.text).to.include('The form expired or came from another site.');

    const unverified = await app.ex.login('alice');
    const page = await unverified.get('/2fa', { accept: 'html' });
    expect(page.status).to.equal(302);
    expect(page.headers.get('location')).to.equal('/2fa/verify?returnTo=%2F2fa');
    const res = await submit(unverified, '/2fa/disable', { code: await codeWithTimeLeft(secret, 0) });
    expect(res.status).to.equal(401);
    expect(res.text).to.include('Enter the code from your authenticator app to continue.');
    expect((await status(c)).state).to.equal('active');
  });
});
