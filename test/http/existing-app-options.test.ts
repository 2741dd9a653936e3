/**
 * An existing app's own conventions reach the built-in pages: its logout
 * route and method (a GET link where the app logs out with a link, not a
 * post to a `/logout` that does not exist) and the code length it chose.
 */
import { expect } from 'chai';
import { startMiniApp, type MiniApp } from '../support/mini-app.ts';

describe('built-in pages follow the app: logoutPath, logoutMethod, totp.digits', () => {
  let custom: MiniApp;
  let plain: MiniApp;
  before(async () => {
    custom = await startMiniApp({ twoFactor: { logoutPath: '/signout', logoutMethod: 'GET', totp: { digits: 8 } } });
    plain = await startMiniApp();
  });
  after(async () => {
    await custom.stop();
    await plain.stop();
  });

  it('the verify page signs out through the app\'s GET logout and asks for 8 digits', async () => {
    const c = await custom.login('carol');
    const page = await c.get('/2fa/verify', { accept: 'html' });
    expect(page.status).to.equal(200);
    expect(page.text).to.include('<a href="/signout">Sign out</a>').and.include('8-digit code');
    expect(page.text).not.to.include('action="/logout"');
  });

  it('the setup page accepts an 8-digit code', async () => {
    const c = await custom.login('carol');
    const page = await c.get('/2fa/setup', { accept: 'html' });
    expect(page.status).to.equal(200);
    expect(page.text).to.include('maxlength="8"').and.include('8-digit code');
  });

  it('by default: a form post to /logout with the token, 6 digits', async () => {
    const c = await plain.login('dave');
    const page = await c.get('/2fa/verify', { accept: 'html' });
    expect(page.text).to.match(/<form method="post" action="\/logout">\s*<input type="hidden" name="_csrf" value="[^"]+">/);
    expect(page.text).to.include('6-digit code');
    const setup = await c.get('/2fa/setup', { accept: 'html' });
    expect(setup.text).to.include('maxlength="6"');
  });
});
