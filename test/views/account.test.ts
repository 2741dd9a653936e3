import { expect } from 'chai';
import { backupCodesText, defaultViews, formatUtcDateTime } from '../../views/index.ts';
import type { AccountPageData, BackupCodesPageData, BrowserView, DeviceView, SetupRequiredPageData } from '../../views/index.ts';

const EVIL = `<script>alert("x")</script>'`;
const EVIL_ESCAPED = '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;';

const PHONE: DeviceView = { id: 'dev-1', name: 'Phone', kind: 'totp', createdAt: '2024-05-01T14:05:09.000Z', lastUsedAt: '2024-06-02T03:04:00.000Z' };
const TABLET: DeviceView = { id: 'dev-2', name: 'Tablet', kind: 'totp', createdAt: '2024-05-03T09:00:00.000Z', lastUsedAt: null };
const CHROME: BrowserView = { id: 'br-1', name: 'Chrome on Linux', lastUsedAt: '2024-06-02T03:04:00.000Z', expiresAt: '2024-07-01T14:05:00.000Z' };
const FIREFOX: BrowserView = { id: 'br-2', name: 'Firefox on Windows', lastUsedAt: '2024-05-20T10:00:00.000Z', expiresAt: '2024-06-19T10:00:00.000Z' };

function accountData(over: Partial<AccountPageData> = {}): AccountPageData {
  return {
    prefix: '/2fa',
    csrfToken: 'tok',
    state: 'active',
    required: false,
    devices: [PHONE, TABLET],
    backupCodesRemaining: 7,
    ...over,
  };
}

function codesData(over: Partial<BackupCodesPageData> = {}): BackupCodesPageData {
  return {
    prefix: '/2fa',
    csrfToken: 'tok',
    backupCodes: ['abcde-fghij', 'klmno-pqrst', 'uvwxy-zabcd'],
    continueUrl: '/2fa/account',
    ...over,
  };
}

function requiredData(over: Partial<SetupRequiredPageData> = {}): SetupRequiredPageData {
  return {
    prefix: '/2fa',
    csrfToken: 'tok',
    activateUrl: '/2fa/setup?returnTo=%2Fremote%2F1',
    laterUrl: '/sessions',
    reason: 'Taking control of a remote session needs two-factor authentication.',
    ...over,
  };
}

/** All `<form …>…</form>` blocks. */
function forms(page: string): string[] {
  return page.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
}

/** The `href` of the download link, entity-decoded. */
function downloadHref(page: string): string {
  const m = /<a class="button" download="backup-codes.txt" href="([^"]*)">Download as text<\/a>/.exec(page);
  expect(m, 'download link').not.to.equal(null);
  return (m?.[1] ?? '').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function decodedDownload(page: string): string {
  const href = downloadHref(page);
  const prefix = 'data:text/plain;charset=utf-8,';
  expect(href.startsWith(prefix)).to.equal(true);
  return decodeURIComponent(href.slice(prefix.length));
}

describe('views: account, backup codes, setup required', () => {
  describe('formatUtcDateTime', () => {
    it('formats ISO strings as YYYY-MM-DD HH:MM UTC', () => {
      expect(formatUtcDateTime('2024-05-01T14:05:09.000Z')).to.equal('2024-05-01 14:05 UTC');
      expect(formatUtcDateTime('2024-12-31T23:59:59+02:00')).to.equal('2024-12-31 21:59 UTC');
      expect(formatUtcDateTime('not a date')).to.equal('not a date');
    });
  });

  describe('account page', () => {
    it('lists devices with added / last used dates', () => {
      const page = defaultViews.account(accountData());
      expect(page).to.include('<h1>Two-factor authentication</h1>');
      expect(page).to.include('Authenticator apps');
      expect(page).to.include('>Phone</h3>').and.include('>Tablet</h3>');
      expect(page).to.include('Added <time datetime="2024-05-01T14:05:09.000Z">2024-05-01 14:05 UTC</time>');
      expect(page).to.include('Last used <time datetime="2024-06-02T03:04:00.000Z">2024-06-02 03:04 UTC</time>');
      expect(page).to.include('Never used');
      expect(page).to.include('<form method="get" action="/2fa/setup" class="add-device">');
      expect(page).to.include('<input type="hidden" name="returnTo" value="/2fa">');
      expect(page).to.include('+ Add another authenticator app</button>');
      expect(page).to.include('<nav><a href="/">Back to the app</a></nav>');
    });

    it('has rename and remove forms per device, and backup-codes and disable forms', () => {
      const page = defaultViews.account(accountData());
      const actions = forms(page).map((f) => /action="([^"]*)"/.exec(f)?.[1]);
      expect(actions).to.deep.equal([
        '/2fa/devices/dev-1/rename',
        '/2fa/devices/dev-1/remove',
        '/2fa/devices/dev-2/rename',
        '/2fa/devices/dev-2/remove',
        '/2fa/setup',
        '/2fa/backup-codes',
        '/2fa/disable',
      ]);
      for (const f of forms(page).filter((x) => !x.includes('action="/2fa/setup"'))) {
        expect(f).to.match(/^<form method="post" /);
        expect(f).to.include('<input type="hidden" name="_csrf" value="tok">');
      }
      const rename = forms(page)[0] ?? '';
      expect(rename).to.match(/<input type="text"[^>]* name="name" value="Phone"[^>]*required>/);
      expect(rename).to.include('>Rename</button>');
      const remove = forms(page)[1] ?? '';
      expect(remove).to.match(/<input [^>]*name="code" autocomplete="one-time-code" inputmode="numeric"[^>]*required>/);
      expect(remove).to.include('>Remove</button>');
      // Adding a device is a plain GET (it changes nothing until confirmed) that names the new device.
      expect(forms(page)[4]).to.match(/^<form method="get" /).and.include('name="name"');
      expect(forms(page)[5]).to.include('>Generate new backup codes</button>').and.include('Your old codes stop working.');
      expect(forms(page)[6]).to.include('>Turn off</button>');
    });

    it('labels every input with a unique id', () => {
      const page = defaultViews.account(accountData({ devices: [PHONE, TABLET, { ...TABLET, id: 'dev-3' }] }));
      const inputs = page.match(/<input type="text"[^>]*>/g) ?? [];
      expect(inputs).to.have.length(3 * 2 + 2 + 1);
      const ids = inputs.map((i) => /\bid="([^"]+)"/.exec(i)?.[1]);
      expect(new Set(ids).size).to.equal(ids.length);
      for (const id of ids) {
        expect(id).to.be.a('string');
        expect(page.match(new RegExp(`<label for="${id}">`, 'g'))).to.have.length(1);
      }
      expect(ids).to.include.members(['code-remove-0', 'code-remove-1', 'code-remove-2', 'code-regenerate', 'code-disable']);
      const codeInputs = inputs.filter((i) => i.includes('name="code"'));
      expect(codeInputs).to.have.length(5);
      for (const i of codeInputs) expect(i).to.include('autocomplete="one-time-code"').and.include('inputmode="numeric"').and.include('required');
    });

    it('escapes device names, notice, error and ids; URL-encodes ids in actions', () => {
      const id = `a/b?c#d "e'<f>&g`;
      const page = defaultViews.account(accountData({
        devices: [{ ...PHONE, id, name: EVIL }, TABLET],
        notice: EVIL,
        error: EVIL,
        csrfToken: 't"k',
      }));
      expect(page).not.to.include('<script>');
      expect(page).to.include(`<h3 class="device-name" id="device-0-name">${EVIL_ESCAPED}</h3>`);
      expect(page).to.include(`value="${EVIL_ESCAPED}"`);
      expect(page).to.include(`<p class="notice" role="status">${EVIL_ESCAPED}</p>`);
      expect(page).to.include(`<p class="error" role="alert">${EVIL_ESCAPED}</p>`);
      expect(page).to.include('value="t&quot;k"');
      expect(encodeURIComponent(id)).not.to.match(/[/?#"<>& ]/);
      const enc = encodeURIComponent(id).replace(/'/g, '&#39;');
      expect(page).to.include(`action="/2fa/devices/${enc}/rename"`);
      expect(page).to.include(`action="/2fa/devices/${enc}/remove"`);
    });

    it('when required: no disable form, and no remove form for the last device', () => {
      const page = defaultViews.account(accountData({ required: true, devices: [PHONE] }));
      expect(page).not.to.include('/2fa/disable');
      expect(page).not.to.include('>Turn off</button>');
      expect(page).to.include('Your administrator requires two-factor authentication; it cannot be turned off.');
      expect(page).not.to.include('/remove"');
      expect(page).not.to.include('>Remove</button>');
      expect(page).to.include('Required by your administrator: add another app before removing this one.');
      expect(page).to.include('/2fa/devices/dev-1/rename');
    });

    it('when required with two devices: each can be removed', () => {
      const page = defaultViews.account(accountData({ required: true }));
      expect(page.match(/>Remove<\/button>/g)).to.have.length(2);
      expect(page).not.to.include('add another app before removing');
      expect(page).not.to.include('/2fa/disable');
    });

    it('counts backup codes left', () => {
      expect(defaultViews.account(accountData())).to.include('<p>7 backup codes left.</p>');
      expect(defaultViews.account(accountData({ backupCodesRemaining: 1 }))).to.include('<p>1 backup code left.</p>');
      expect(defaultViews.account(accountData({ backupCodesRemaining: 0 }))).to.include('<p>No backup codes left.</p>');
    });

    it('offers setup when not active', () => {
      const off = defaultViews.account(accountData({ state: 'none', devices: [] }));
      expect(off).to.include('Two-factor authentication is off.');
      expect(off).to.include('<a class="button" href="/2fa/setup">Set up an authenticator app</a>');
      expect(off).not.to.include('<form');
      expect(off).not.to.include('Backup codes');
      const pending = defaultViews.account(accountData({ state: 'pending', required: true, devices: [], notice: 'Phone removed' }));
      expect(pending).to.include('Your administrator requires two-factor authentication. Set it up to continue.');
      expect(pending).to.include('<a class="button" href="/2fa/setup">Set up an authenticator app</a>');
      expect(pending).to.include('<p class="notice" role="status">Phone removed</p>');
    });
  });

  describe('account page: remembered browsers', () => {
    const BROWSERS = { rememberedBrowsers: [CHROME, FIREFOX], browsersUrl: '/2fa/browsers' };

    /** The "Remembered browsers" section, or undefined. */
    function browsersSection(page: string): string | undefined {
      return /<section aria-labelledby="browsers-heading">[\s\S]*?<\/section>/.exec(page)?.[0];
    }

    it('without the option (no browsers given): no section, no forget form, no mention', () => {
      const page = defaultViews.account(accountData());
      expect(browsersSection(page)).to.equal(undefined);
      expect(page).not.to.include('/browsers');
      expect(page).not.to.match(/remembered/i);
    });

    it('lists each browser with its last use and expiry, and a "Forget" form posting the token', () => {
      const page = defaultViews.account(accountData(BROWSERS));
      const section = browsersSection(page) ?? '';
      expect(section).to.include('<h2 id="browsers-heading">Remembered browsers</h2>');
      expect(section).to.include('<h3 class="device-name" id="browser-0-name">Chrome on Linux</h3>');
      expect(section).to.include('<h3 class="device-name" id="browser-1-name">Firefox on Windows</h3>');
      expect(section).to.include('Last used <time datetime="2024-06-02T03:04:00.000Z">2024-06-02 03:04 UTC</time>');
      expect(section).to.include('Remembered until <time datetime="2024-07-01T14:05:00.000Z">2024-07-01 14:05 UTC</time>');
      const actions = forms(section).map((f) => /action="([^"]*)"/.exec(f)?.[1]);
      expect(actions).to.deep.equal(['/2fa/browsers/br-1/forget', '/2fa/browsers/br-2/forget', '/2fa/browsers/forget-all']);
      for (const f of forms(section)) {
        expect(f).to.match(/^<form method="post" /);
        expect(f).to.include('<input type="hidden" name="_csrf" value="tok">');
        // Forgetting needs no code: it only takes a convenience away.
        expect(f).not.to.include('name="code"');
      }
      // Each "Forget" says which browser; "Forget all" is the last form of the section.
      expect(forms(section)[0]).to.include('<button type="submit" class="secondary" aria-describedby="browser-0-name">Forget</button>');
      expect(forms(section)[1]).to.include('aria-describedby="browser-1-name">Forget</button>');
      expect(forms(section)[2]).to.include('<button type="submit" class="danger">Forget all remembered browsers</button>');
    });

    it('sits between the backup codes and turning 2FA off; every id stays unique', () => {
      const page = defaultViews.account(accountData(BROWSERS));
      const at = (s: string) => page.indexOf(s);
      expect(at('id="backup-heading"')).to.be.lessThan(at('id="browsers-heading"'));
      expect(at('id="browsers-heading"')).to.be.lessThan(at('id="disable-heading"'));
      const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('when none is remembered: says so, with no forget form', () => {
      const section = browsersSection(defaultViews.account(accountData({ rememberedBrowsers: [], browsersUrl: '/2fa/browsers' }))) ?? '';
      expect(section).to.include('<h2 id="browsers-heading">Remembered browsers</h2>');
      expect(section).to.include('No browser is remembered');
      expect(forms(section)).to.deep.equal([]);
    });

    it('without browsersUrl: the forms post under the prefix', () => {
      const page = defaultViews.account(accountData({ prefix: '/mfa', rememberedBrowsers: [CHROME] }));
      expect(forms(browsersSection(page) ?? '').map((f) => /action="([^"]*)"/.exec(f)?.[1])).to.deep.equal(['/mfa/browsers/br-1/forget', '/mfa/browsers/forget-all']);
    });

    it('not shown without active 2FA', () => {
      const page = defaultViews.account(accountData({ state: 'none', devices: [], ...BROWSERS }));
      expect(browsersSection(page)).to.equal(undefined);
      expect(page).not.to.include('/browsers');
    });

    it('escapes browser names, ids (URL-encoded in actions), the URL and the token', () => {
      const id = `a/b?c#d "e'<f>&g`;
      const page = defaultViews.account(accountData({
        rememberedBrowsers: [{ ...CHROME, id, name: EVIL }],
        browsersUrl: '/b"<x>',
        csrfToken: 't"k',
      }));
      const section = browsersSection(page) ?? '';
      expect(page).not.to.include('<script>');
      expect(section).to.include(`<h3 class="device-name" id="browser-0-name">${EVIL_ESCAPED}</h3>`);
      const enc = encodeURIComponent(id).replace(/'/g, '&#39;');
      expect(section).to.include(`action="/b&quot;&lt;x&gt;/${enc}/forget"`);
      expect(section).to.include('action="/b&quot;&lt;x&gt;/forget-all"');
      for (const f of forms(section)) expect(f).to.include('value="t&quot;k"');
    });
  });

  describe('account page with passkeys', () => {
    const LINKS = { optionsUrl: '/2fa/passkeys/options', registerUrl: '/2fa/passkeys', scriptUrl: '/2fa/assets/passkeys.js' };
    const WITH_PASSKEY = { ...LINKS, authenticationOptionsUrl: '/2fa/passkeys/authentication-options' };
    const KEY: DeviceView = { id: 'dev-3', name: 'YubiKey', kind: 'passkey', createdAt: '2024-05-04T09:00:00.000Z', lastUsedAt: null };

    function passkeyForms(page: string, kind: 'register' | 'authenticate'): string[] {
      return forms(page).filter((f) => f.includes(`data-passkey="${kind}"`));
    }

    /** The page after its stylesheet (which styles the passkey elements for every page). */
    function markup(page: string): string {
      return page.slice(page.indexOf('</style>'));
    }

    it('without passkey data: no passkey form, note or script', () => {
      for (const over of [{}, { state: 'none' as const, devices: [] }]) {
        const page = markup(defaultViews.account(accountData(over)));
        expect(page).not.to.include('data-passkey');
        expect(page).not.to.include('<script');
        expect(page).not.to.match(/passkey/i);
      }
    });

    it('shows whether each device is an authenticator app or a passkey', () => {
      const page = defaultViews.account(accountData({ devices: [PHONE, KEY], passkey: WITH_PASSKEY }));
      expect(page).to.include('<h2 id="devices-heading">Authenticator apps and passkeys</h2>');
      expect(page).to.include('>Phone</h3>\n<p class="muted">Authenticator app<br>Added');
      expect(page).to.include('>YubiKey</h3>\n<p class="muted">Passkey or security key<br>Added');
    });

    it('active, no passkey yet: "Add a passkey" posts to registerUrl, comes back here, asks a code only when the server does', () => {
      const page = defaultViews.account(accountData({ passkey: LINKS }));
      const [form, ...more] = passkeyForms(page, 'register');
      expect(more).to.deep.equal([]);
      expect(form).to.match(/^<form method="post" action="\/2fa\/passkeys" class="passkey" data-passkey="register" data-options-url="\/2fa\/passkeys\/options" hidden>/);
      expect(form).to.include('<input type="hidden" name="_csrf" value="tok">');
      expect(form).to.include('<input type="hidden" name="returnTo" value="/2fa">');
      expect(form).to.include('<input type="hidden" name="credential" value="">');
      const name = /<input [^>]*name="name"[^>]*>/.exec(form ?? '')?.[0] ?? '';
      expect(name).to.include('placeholder="YubiKey or This laptop"').and.not.include('value=').and.not.include('required');
      // The fresh code: hidden until the server asks (a session verified a while ago), never required.
      expect(form).to.match(/<div data-passkey-code hidden>\s*<label for="code-passkey">Code from your authenticator app, or a backup code<\/label>\s*<input type="text" id="code-passkey" name="code" autocomplete="one-time-code" inputmode="numeric"[^>]*>\s*<\/div>/);
      expect(/<input [^>]*id="code-passkey"[^>]*>/.exec(form ?? '')?.[0]).not.to.include('required');
      expect(form).to.include('<p class="error" role="alert" data-passkey-message hidden></p>');
      expect(form).to.include('>+ Add a passkey</button>');
      // Nobody to prove an action with a passkey yet.
      expect(passkeyForms(page, 'authenticate')).to.deep.equal([]);
      expect(page).not.to.include('Use a passkey instead');
      expect(page).to.include('<p class="notice" data-passkey-unsupported hidden>');
      expect(page.match(/<script\b[^>]*>/g)).to.deep.equal(['<script src="/2fa/assets/passkeys.js" defer>']);
      expect(page).not.to.match(/\son[a-z]+\s*=/i);
    });

    it('with a passkey: every form that asks for a fresh code also offers "Use a passkey instead", doing the same action', () => {
      const page = defaultViews.account(accountData({ devices: [PHONE, KEY], passkey: WITH_PASSKEY }));
      const auth = passkeyForms(page, 'authenticate');
      expect(auth.map((f) => /action="([^"]*)"/.exec(f)?.[1])).to.deep.equal([
        '/2fa/devices/dev-1/remove',
        '/2fa/devices/dev-3/remove',
        '/2fa/backup-codes',
        '/2fa/disable',
      ]);
      for (const f of auth) {
        expect(f).to.include('data-options-url="/2fa/passkeys/authentication-options" hidden>');
        expect(f).to.include('<input type="hidden" name="_csrf" value="tok">');
        expect(f).to.include('<input type="hidden" name="passkey" value="">');
        expect(f).to.include('role="alert" data-passkey-message hidden');
        expect(f).to.include('>Use a passkey instead</button>');
        expect(f).not.to.include('name="code"');
      }
      // Each one follows the code form of the same action.
      const all = forms(page).map((f) => /action="([^"]*)"/.exec(f)?.[1]);
      for (const action of ['/2fa/devices/dev-1/remove', '/2fa/devices/dev-3/remove', '/2fa/backup-codes', '/2fa/disable']) {
        const i = all.indexOf(action);
        expect(all[i + 1], action).to.equal(action);
        expect(forms(page)[i]).to.include('name="code"');
      }
      // The remove buttons say which device.
      expect(auth[0]).to.include('<button type="submit" class="danger" aria-describedby="device-0-name">');
      expect(auth[1]).to.include('aria-describedby="device-1-name"');
      expect(auth[3]).to.include('class="danger"');
      expect(page).to.include('Confirm with a code from your authenticator app or a backup code instead.');
    });

    it('with a passkey while required, as the only device: neither a remove form nor a passkey one for it', () => {
      const page = defaultViews.account(accountData({ required: true, devices: [KEY], passkey: WITH_PASSKEY }));
      expect(page).not.to.include('/remove"');
      expect(page).to.include('Required by your administrator: add another authenticator before removing this passkey.');
      expect(passkeyForms(page, 'authenticate').map((f) => /action="([^"]*)"/.exec(f)?.[1])).to.deep.equal(['/2fa/backup-codes']);
    });

    it('not active: offers "Or use a passkey" with the register form and no code field', () => {
      for (const state of ['none', 'pending'] as const) {
        const page = defaultViews.account(accountData({ state, required: state === 'pending', devices: [], passkey: LINKS }));
        expect(page).to.include('<a class="button" href="/2fa/setup">Set up an authenticator app</a>');
        expect(page).to.match(/<section aria-labelledby="passkey-heading" data-passkey hidden>\s*<h2 id="passkey-heading">Or use a passkey<\/h2>/);
        const [form, ...more] = passkeyForms(page, 'register');
        expect(more).to.deep.equal([]);
        expect(form).to.include('action="/2fa/passkeys"').and.include('name="returnTo" value="/2fa"');
        expect(form).not.to.include('name="code"');
        expect(forms(page)).to.have.length(1);
        expect(page).to.include('<script src="/2fa/assets/passkeys.js" defer></script>');
      }
    });

    it('labels every input with a unique id', () => {
      const page = defaultViews.account(accountData({ devices: [PHONE, KEY], passkey: WITH_PASSKEY }));
      const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size).to.equal(ids.length);
      const inputs = page.match(/<input type="text"[^>]*>/g) ?? [];
      for (const input of inputs) {
        const id = /\bid="([^"]+)"/.exec(input)?.[1];
        expect(page.match(new RegExp(`<label for="${id}">`, 'g')), input).to.have.length(1);
      }
    });

    it('escapes the passkey URLs and the token', () => {
      const page = defaultViews.account(accountData({
        devices: [PHONE, KEY],
        csrfToken: 't"k',
        passkey: { optionsUrl: '/o"<x>', registerUrl: '/r"<x>', scriptUrl: '/s"><script>alert(1)</script>', authenticationOptionsUrl: `/a'<x>` },
      }));
      expect(page).not.to.include('<script>');
      expect(page).to.include('data-options-url="/o&quot;&lt;x&gt;"');
      expect(page).to.include('action="/r&quot;&lt;x&gt;"');
      expect(page).to.include('data-options-url="/a&#39;&lt;x&gt;"');
      expect(page).to.include('<script src="/s&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" defer></script>');
      for (const f of forms(page).filter((x) => x.includes('data-passkey='))) expect(f).to.include('value="t&quot;k"');
    });
  });

  describe('backup codes page', () => {
    it('lists the codes with a download link containing every code', () => {
      const page = defaultViews.backupCodes(codesData());
      expect(page).to.include('<h1>Your new backup codes</h1>');
      expect(page).to.include('Your old codes no longer work. Keep these carefully, they will no longer be displayed. Each code is for single use only.');
      expect(page).to.include('<ol class="backup-codes">');
      for (const c of codesData().backupCodes) expect(page).to.include(`<li><code>${c}</code></li>`);
      expect(decodedDownload(page)).to.equal('Backup codes for two-factor authentication\nabcde-fghij\nklmno-pqrst\nuvwxy-zabcd\n');
      expect(page).to.include('Print this page or write them down.');
      expect(page).to.include('<a class="button" href="/2fa/account">Continue</a>');
    });

    it('escapes codes in the list and in the download href', () => {
      const codes = [EVIL, `a"b&c'd`];
      const page = defaultViews.backupCodes(codesData({ backupCodes: codes }));
      expect(page).not.to.include('<script>');
      expect(page).to.include(`<li><code>${EVIL_ESCAPED}</code></li>`);
      expect(decodedDownload(page)).to.equal(backupCodesText(codes));
    });

    it('neutralises a javascript: continue URL', () => {
      const page = defaultViews.backupCodes(codesData({ continueUrl: 'javascript:alert(1)' }));
      expect(page).not.to.match(/javascript:/i);
      expect(page).to.include('<a class="button" href="/">Continue</a>');
    });

    it('setup-done page offers the same download link', () => {
      const codes = ['abcde-fghij', 'klmno-pqrst'];
      const done = defaultViews.setupDone({ prefix: '/2fa', csrfToken: 'tok', continueUrl: '/', deviceName: 'Phone', backupCodes: codes });
      const regen = defaultViews.backupCodes(codesData({ backupCodes: codes }));
      expect(downloadHref(done)).to.equal(downloadHref(regen));
      expect(decodedDownload(done)).to.equal('Backup codes for two-factor authentication\nabcde-fghij\nklmno-pqrst\n');
      const noCodes = defaultViews.setupDone({ prefix: '/2fa', csrfToken: 'tok', continueUrl: '/', deviceName: 'Phone' });
      expect(noCodes).not.to.include('Download as text');
    });
  });

  describe('setup required page', () => {
    it('shows the reason and both actions', () => {
      const page = defaultViews.setupRequired(requiredData());
      expect(page).to.include('<h1>Two-factor authentication needed</h1>');
      expect(page).to.include('<p>Taking control of a remote session needs two-factor authentication.</p>');
      expect(page).to.include('<a class="button" href="/2fa/setup?returnTo=%2Fremote%2F1">Activate now</a>');
      expect(page).to.include('<a class="button secondary" href="/sessions">Activate later</a>');
      expect(page).to.match(/<div class="actions">/);
      expect(page).to.match(/@media \(max-width:30rem\)\{[^@]*\.actions\{flex-direction:column\}/);
    });

    it('neutralises javascript: links and escapes the reason', () => {
      const page = defaultViews.setupRequired(requiredData({
        activateUrl: 'javascript:alert(1)',
        laterUrl: ' \tJaVaScRiPt:alert(2)',
        reason: EVIL,
      }));
      expect(page).not.to.match(/javascript:/i);
      expect(page).not.to.include('<script>');
      expect(page).to.include(`<p>${EVIL_ESCAPED}</p>`);
      expect(page).to.include('<a class="button" href="/">Activate now</a>');
      expect(page).to.include('<a class="button secondary" href="/">Activate later</a>');
    });

    it('escapes quotes in hrefs', () => {
      const page = defaultViews.setupRequired(requiredData({ laterUrl: '/a"onmouseover="x' }));
      expect(page).to.include('href="/a&quot;onmouseover=&quot;x"');
    });

    it('names the address the confirmation goes to, when given, before the actions', () => {
      const page = defaultViews.setupRequired(requiredData({ emailAddress: 'alice@example.test' }));
      const said = page.indexOf("Once it is on, we'll email a confirmation to alice@example.test.");
      expect(said).to.be.greaterThan(-1);
      expect(said).to.be.lessThan(page.indexOf('Activate now'));
    });

    it('says nothing about email without an address, and escapes one', () => {
      expect(defaultViews.setupRequired(requiredData())).not.to.include('confirmation');
      expect(defaultViews.setupRequired(requiredData({ emailAddress: '' }))).not.to.include('confirmation');
      const page = defaultViews.setupRequired(requiredData({ emailAddress: EVIL }));
      expect(page).not.to.include('<script>');
      expect(page).to.include(`we'll email a confirmation to ${EVIL_ESCAPED}.`);
    });
  });

  describe('new pages', () => {
    it('are self-contained HTML5 documents with no references to other hosts', () => {
      const pages = [
        defaultViews.account(accountData({ notice: 'Done', error: 'Wrong code', retryAfterSeconds: 30 })),
        defaultViews.account(accountData({ state: 'none', devices: [] })),
        defaultViews.account(accountData({ rememberedBrowsers: [CHROME, FIREFOX], browsersUrl: '/2fa/browsers' })),
        defaultViews.backupCodes(codesData()),
        defaultViews.setupRequired(requiredData()),
        defaultViews.setupRequired(requiredData({ emailAddress: 'alice@example.test' })),
      ];
      for (const page of pages) {
        expect(page.startsWith('<!doctype html>')).to.equal(true);
        expect(page).to.include('<meta name="viewport" content="width=device-width, initial-scale=1">');
        expect(page).not.to.match(/https?:\/\//i);
        expect(page).not.to.match(/(src|href|action)\s*=\s*["']?\/\//i);
        expect(page).not.to.match(/<script|<link|<img|<iframe|@import|url\(/i);
        expect(page.match(/<style>/g)).to.have.length(1);
      }
    });
  });
});
