import { expect } from 'chai';
import { defaultViews, escapeHtml, html, raw } from '../../views/index.ts';
import type { SetupDonePageData, SetupPageData, VerifyPageData } from '../../views/index.ts';

const EVIL = `<script>alert("x")</script>'`;
const QR = '<svg viewBox="0 0 21 21" class="test-qr"><path d="M0 0h7v7H0z"/></svg>';

function setupData(over: Partial<SetupPageData> = {}): SetupPageData {
  return {
    prefix: '/2fa',
    csrfToken: 'tok"en',
    enrolmentId: 'enr-1',
    qrSvg: QR,
    secret: 'JBSWY3DPEHPK3PXPJBSWY3DP',
    otpauthUri: 'otpauth://totp/Example%20App:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example%20App',
    expiresAt: '2024-05-01T14:05:00.000Z',
    deviceName: 'Phone',
    accountName: 'alice',
    issuer: 'Example App',
    ...over,
  };
}

function doneData(over: Partial<SetupDonePageData> = {}): SetupDonePageData {
  return {
    prefix: '/2fa',
    csrfToken: 'tok',
    continueUrl: '/account',
    deviceName: 'Phone',
    backupCodes: ['abcde-fghij', 'klmno-pqrst', 'uvwxy-zabcd'],
    ...over,
  };
}

function verifyData(over: Partial<VerifyPageData> = {}): VerifyPageData {
  return { prefix: '/2fa', csrfToken: 'tok', action: '/2fa/verify', title: 'Two-factor authentication', ...over };
}

function allPages(): string[] {
  return [
    defaultViews.setup(setupData({ error: 'Wrong code', returnTo: '/next' })),
    defaultViews.setupDone(doneData()),
    defaultViews.verify(verifyData({ error: 'Wrong code', returnTo: '/next', backupCodesRemaining: 2, retryAfterSeconds: 90 })),
    defaultViews.verify(verifyData({ returnTo: '/next', notice: 'We sent a code.', emailCode: { sendUrl: '/2fa/email-code', address: 'a***@example.test' } })),
    defaultViews.verify(verifyData({ rememberDays: 30 })),
  ];
}

describe('views', () => {
  describe('html helpers', () => {
    it('escapes & < > " \'', () => {
      expect(escapeHtml(`&<>"'`)).to.equal('&amp;&lt;&gt;&quot;&#39;');
    });

    it('escapes interpolations but not raw() or nested html, and joins arrays', () => {
      const out = html`<p>${EVIL}${raw('<b>ok</b>')}${[html`<i>${'<'}</i>`, '>']}</p>`.toString();
      expect(out).to.equal('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;<b>ok</b><i>&lt;</i>&gt;</p>');
    });
  });

  describe('escaping of user-influenced values', () => {
    it('setup page escapes deviceName, accountName, issuer, error, returnTo, secret', () => {
      const page = defaultViews.setup(
        setupData({ deviceName: EVIL, accountName: EVIL, issuer: EVIL, error: EVIL, returnTo: `/x"><script>` }),
      );
      expect(page).not.to.include('<script>');
      expect(page).to.include('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;');
      expect(page).to.include('value="/x&quot;&gt;&lt;script&gt;"');
      expect(page).to.include('value="tok&quot;en"');
    });

    it('setup-done page escapes deviceName, backup codes and error', () => {
      const page = defaultViews.setupDone(doneData({ deviceName: EVIL, error: EVIL, backupCodes: [EVIL] }));
      expect(page).not.to.include('<script>');
      expect(page).to.include('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;');
    });

    it('setup-done page neutralises a javascript: continue URL', () => {
      const page = defaultViews.setupDone(doneData({ continueUrl: ' JavaScript:alert(1)' }));
      expect(page).not.to.match(/javascript:/i);
      expect(page).to.include('<a class="button" href="/">Continue</a>');
    });

    it('verify page escapes title, error and returnTo', () => {
      const page = defaultViews.verify(verifyData({ title: EVIL, error: EVIL, returnTo: `/a'b"c<d>` }));
      expect(page).not.to.include('<script>');
      expect(page).to.include('<h1>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;</h1>');
      expect(page).to.include('<p class="error" role="alert">&lt;script&gt;');
      expect(page).to.include('name="returnTo" value="/a&#39;b&quot;c&lt;d&gt;"');
    });
  });

  describe('setup page', () => {
    const page = defaultViews.setup(setupData({ returnTo: '/next' }));

    it('inserts the QR svg unescaped inside a labelled figure', () => {
      expect(page).to.include(QR);
      expect(page).to.match(/<figure role="img" aria-label="[^"]+">\s*<svg/);
    });

    it('shows the secret grouped in fours, selectable', () => {
      expect(page).to.include('<code id="secret-key">JBSW Y3DP EHPK 3PXP JBSW Y3DP</code>');
      expect(page).to.include('user-select:all');
      expect(page).to.include('select the key to copy it');
    });

    it('links the otpauth URI and shows account, issuer and expiry', () => {
      expect(page).to.include('href="otpauth://totp/Example%20App:alice?secret=JBSWY3DPEHPK3PXP&amp;issuer=Example%20App"');
      expect(page).to.include('Open in authenticator app');
      expect(page).to.include('alice').and.include('Example App');
      expect(page).to.include('This key expires at 14:05 UTC.');
    });

    it('has the confirm form with hidden fields and a one-time-code input', () => {
      expect(page).to.include('<form method="post" action="/2fa/setup/confirm">');
      expect(page).to.include('name="enrolmentId" value="enr-1"');
      expect(page).to.include('name="returnTo" value="/next"');
      expect(page).to.include('<label for="code">');
      for (const attr of ['id="code"', 'name="code"', 'autocomplete="one-time-code"', 'inputmode="numeric"',
        'pattern="[0-9]*"', 'maxlength="6"', 'required']) {
        expect(page).to.include(attr);
      }
      // No autofocus: on a phone it scrolls past the instructions and the keyboard hides the QR code.
      expect(page).not.to.include('autofocus');
      expect(page).to.include('>Activate</button>');
    });

    it('omits returnTo and the alert when not set', () => {
      const plain = defaultViews.setup(setupData());
      expect(plain).not.to.include('name="returnTo"');
      expect(plain).not.to.include('role="alert"');
    });

    it('does not link a non-otpauth URI', () => {
      expect(defaultViews.setup(setupData({ otpauthUri: 'javascript:alert(1)' }))).not.to.include('javascript:');
    });
  });

  describe('setup-done page', () => {
    it('lists backup codes and links to continue', () => {
      const page = defaultViews.setupDone(doneData());
      expect(page).to.include("You're good to go");
      expect(page).to.include('Two-factor authentication is now active for <strong>Phone</strong>.');
      expect(page).to.include('<ol class="backup-codes">');
      for (const c of ['abcde-fghij', 'klmno-pqrst', 'uvwxy-zabcd']) expect(page).to.include(`<li><code>${c}</code></li>`);
      expect(page).to.include('they will no longer be displayed');
      expect(page).to.include('Print this page or write them down');
      expect(page).to.include('<a class="button" href="/account">Continue</a>');
    });

    it('has no backup section without codes', () => {
      const page = defaultViews.setupDone(doneData({ backupCodes: undefined }));
      expect(page).not.to.include('backup-codes"');
      expect(page).not.to.include('Your backup codes');
    });
  });

  describe('verify page', () => {
    it('has the form, input attributes and no pattern/maxlength', () => {
      const page = defaultViews.verify(verifyData({ returnTo: '/next' }));
      expect(page).to.include('<form method="post" action="/2fa/verify">');
      expect(page).to.include('name="_csrf" value="tok"');
      expect(page).to.include('name="returnTo" value="/next"');
      expect(page).to.include('<label for="code">Authentication code</label>');
      const input = /<input type="text" id="code"[^>]*>/.exec(page)?.[0] ?? '';
      expect(input).to.include('autocomplete="one-time-code"').and.include('inputmode="numeric"');
      expect(input).to.include('required').and.include('autofocus');
      expect(input).not.to.include('pattern=').and.not.to.include('maxlength=');
      expect(page).to.include('>Verify</button>');
      expect(page).to.include('Sign out');
    });

    it('warns about remaining backup codes at 3 or fewer, not at 10', () => {
      expect(defaultViews.verify(verifyData({ backupCodesRemaining: 3 }))).to.include('You have 3 backup codes left.');
      expect(defaultViews.verify(verifyData({ backupCodesRemaining: 1 }))).to.include('You have 1 backup code left.');
      expect(defaultViews.verify(verifyData({ backupCodesRemaining: 0 }))).to.include('You have 0 backup codes left.');
      expect(defaultViews.verify(verifyData({ backupCodesRemaining: 10 }))).not.to.include('backup codes left');
      expect(defaultViews.verify(verifyData())).not.to.include('backup codes left');
    });

    it('appends a human readable retry time to the error', () => {
      expect(defaultViews.verify(verifyData({ error: 'Too many attempts.', retryAfterSeconds: 300 })))
        .to.include('<p class="error" role="alert">Too many attempts. Try again in 5 minutes.</p>');
      expect(defaultViews.verify(verifyData({ error: 'Too many attempts.', retryAfterSeconds: 61 })))
        .to.include('Try again in 2 minutes.');
      expect(defaultViews.verify(verifyData({ error: 'Too many attempts.', retryAfterSeconds: 45 })))
        .to.include('Try again in 45 seconds.');
      expect(defaultViews.verify(verifyData({ error: 'Too many attempts.', retryAfterSeconds: 60 })))
        .to.include('Try again in 1 minute.');
    });
  });

  describe('"Don\'t ask for a code on this browser"', () => {
    const PASSKEY = { optionsUrl: '/2fa/passkeys/authentication-options', scriptUrl: '/2fa/assets/passkeys.js' };

    /** The form that posts a code. */
    function codeForm(page: string): string {
      return (page.match(/<form\b[\s\S]*?<\/form>/g) ?? []).find((f) => f.includes('name="code"')) ?? '';
    }

    function passkeyForm(page: string): string {
      return (page.match(/<form\b[\s\S]*?<\/form>/g) ?? []).find((f) => f.includes('data-passkey="authenticate"')) ?? '';
    }

    it('is not offered without rememberDays', () => {
      const page = defaultViews.verify(verifyData({ passkey: PASSKEY }));
      expect(page).not.to.include('name="remember"');
      expect(page).not.to.include('type="checkbox"');
      expect(page).not.to.include('Don&#39;t ask');
      expect(passkeyForm(page)).not.to.include('remember');
    });

    it('with rememberDays: an unticked checkbox inside the code form, labelled with the days, before the button', () => {
      const page = defaultViews.verify(verifyData({ returnTo: '/next', rememberDays: 30 }));
      const form = codeForm(page);
      expect(form).to.match(/^<form method="post" action="\/2fa\/verify">/);
      const box = /<input type="checkbox"[^>]*>/.exec(form)?.[0] ?? '';
      expect(box).to.equal('<input type="checkbox" id="remember" name="remember" value="on">');
      expect(form).to.include('<label class="check" for="remember"><input type="checkbox" id="remember" name="remember" value="on"> Don&#39;t ask for a code on this browser for 30 days</label>');
      expect(form.indexOf('name="remember"')).to.be.greaterThan(form.indexOf('name="code"'));
      expect(form.indexOf('name="remember"')).to.be.lessThan(form.indexOf('>Verify</button>'));
      expect(page.match(/name="remember"/g)).to.have.length(1);
      // The code field keeps the focus.
      expect(/<input type="text" id="code"[^>]*>/.exec(page)?.[0]).to.include('autofocus');
      expect(box).not.to.include('autofocus');
      const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('says "1 day" for one day', () => {
      const page = defaultViews.verify(verifyData({ rememberDays: 1 }));
      expect(page).to.include('Don&#39;t ask for a code on this browser for 1 day</label>');
    });

    it('is not offered for a number of days that is not positive', () => {
      for (const rememberDays of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(defaultViews.verify(verifyData({ rememberDays })), String(rememberDays)).not.to.include('name="remember"');
      }
    });

    it('the passkey form posts the same choice: a hidden remember field the script fills from the checkbox', () => {
      const page = defaultViews.verify(verifyData({ rememberDays: 30, passkey: PASSKEY }));
      const form = passkeyForm(page);
      expect(form).to.match(/^<form method="post" action="\/2fa\/verify" class="passkey" data-passkey="authenticate" data-options-url="[^"]*" data-remember-from="remember" hidden>/);
      expect(form).to.include('<input type="hidden" name="remember" value="">');
      expect(codeForm(page)).to.include('id="remember"');
    });

    it('works with the email form: the emailed code goes into the form that has the checkbox', () => {
      const page = defaultViews.verify(verifyData({ rememberDays: 30, emailCode: { sendUrl: '/2fa/email-code', address: 'a***@example.test' } }));
      const email = (page.match(/<form\b[\s\S]*?<\/form>/g) ?? []).find((f) => f.includes('Email me a code instead')) ?? '';
      expect(email).not.to.include('remember');
      expect(codeForm(page)).to.include('name="remember"');
    });
  });

  describe('email codes', () => {
    const EMAIL = { sendUrl: '/2fa/email-code', address: 'a***@example.test' };

    /** The form that asks for an emailed code. */
    function emailForm(page: string): string | undefined {
      return (page.match(/<form\b[\s\S]*?<\/form>/g) ?? []).find((f) => f.includes('Email me a code instead'));
    }

    it('verify page without email data: no "Email me a code" form, no mention of email', () => {
      const page = defaultViews.verify(verifyData({ returnTo: '/next' }));
      expect(emailForm(page)).to.equal(undefined);
      // The page after its stylesheet (which styles the email form for every page).
      const markup = page.slice(page.indexOf('</style>'));
      expect(markup).not.to.include('email-code');
      expect(markup).not.to.match(/email/i);
      expect(page).not.to.include('role="status"');
    });

    it('verify page with email data: a plain form posting token, kind and returnTo, naming the masked address; the code form stays', () => {
      const page = defaultViews.verify(verifyData({ returnTo: '/next', emailCode: EMAIL }));
      const form = emailForm(page) ?? '';
      expect(form).to.match(/^<form method="post" action="\/2fa\/email-code"/);
      expect(form).to.include('<input type="hidden" name="_csrf" value="tok">');
      expect(form).to.include('<input type="hidden" name="kind" value="verify">');
      expect(form).to.include('<input type="hidden" name="returnTo" value="/next">');
      expect(form).to.include("We'll send a code to a***@example.test.");
      expect(form).to.match(/<button type="submit"[^>]*>Email me a code instead<\/button>/);
      // Works without script: no hidden form, no passkey-style data attributes, no script on the page.
      expect(form).not.to.match(/\shidden\b|data-/);
      expect(form).not.to.include('name="code"');
      expect(page).not.to.include('<script');
      // The emailed code goes into the one code form.
      expect(page).to.include('<form method="post" action="/2fa/verify">');
      expect(page.match(/name="code"/g)).to.have.length(1);
      expect(page).to.include('or a code we emailed you.');
      // Every id stays unique (the description is referenced by the button).
      const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(form).to.include('aria-describedby="email-code-to"');
      expect(page).to.include('id="email-code-to"');
    });

    it('step-up page asks for a step-up code; without returnTo there is no returnTo field', () => {
      const page = defaultViews.verify(verifyData({ action: '/2fa/step-up', title: "Confirm it's you", emailCode: EMAIL }));
      const form = emailForm(page) ?? '';
      expect(form).to.include('<input type="hidden" name="kind" value="step-up">');
      expect(form).not.to.include('name="returnTo"');
    });

    it('shows the notice after a send as a status message', () => {
      const page = defaultViews.verify(verifyData({ emailCode: EMAIL, notice: 'We sent a code to a***@example.test. It works once, for a few minutes.' }));
      expect(page).to.include('<p class="notice" role="status">We sent a code to a***@example.test. It works once, for a few minutes.</p>');
    });

    it('escapes the send URL, the address, the notice, the token and returnTo', () => {
      const page = defaultViews.verify(verifyData({
        csrfToken: 't"k', returnTo: `/a'b"c<d>`, notice: EVIL,
        emailCode: { sendUrl: '/e"><script>alert(1)</script>', address: `<b>x</b>"@example.test` },
      }));
      expect(page).not.to.include('<script>');
      expect(page).not.to.include('<b>x</b>');
      const form = emailForm(page) ?? '';
      expect(form).to.include('action="/e&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
      expect(form).to.include('&lt;b&gt;x&lt;/b&gt;&quot;@example.test');
      expect(form).to.include('value="t&quot;k"').and.include('value="/a&#39;b&quot;c&lt;d&gt;"');
      expect(page).to.include('<p class="notice" role="status">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;</p>');
    });
  });

  describe('passkeys', () => {
    const PASSKEY = { optionsUrl: '/2fa/passkeys/authentication-options', scriptUrl: '/2fa/assets/passkeys.js' };
    const REGISTER = { optionsUrl: '/2fa/passkeys/options', registerUrl: '/2fa/passkeys', scriptUrl: '/2fa/assets/passkeys.js' };

    /** The `data-passkey="…"` forms of a page. */
    function passkeyForms(page: string, kind: 'register' | 'authenticate'): string[] {
      return (page.match(/<form\b[\s\S]*?<\/form>/g) ?? []).filter((f) => f.includes(`data-passkey="${kind}"`));
    }

    /** The page after its stylesheet (which styles the passkey elements for every page). */
    function markup(page: string): string {
      return page.slice(page.indexOf('</style>'));
    }

    function expectOnlyTheScript(page: string, src: string): void {
      expect(page.match(/<script\b[^>]*>/g)).to.deep.equal([`<script src="${src}" defer>`]);
      expect(page).to.include(`<script src="${src}" defer></script>`);
      // No inline script or handler: the default CSP allows neither.
      expect(page).not.to.match(/\son[a-z]+\s*=/i);
      expect(page).not.to.match(/javascript:/i);
    }

    it('verify page without passkey data: no passkey form, note or script', () => {
      const page = markup(defaultViews.verify(verifyData()));
      expect(page).not.to.include('data-passkey');
      expect(page).not.to.include('<script');
      expect(page).not.to.match(/passkey/i);
    });

    it('verify page with passkey data: a hidden "Use a passkey" form posting to the action, the note, the script; the code form stays', () => {
      const page = defaultViews.verify(verifyData({ returnTo: '/next', passkey: PASSKEY }));
      const [form, ...more] = passkeyForms(page, 'authenticate');
      expect(more).to.deep.equal([]);
      expect(form).to.match(/^<form method="post" action="\/2fa\/verify" class="passkey" data-passkey="authenticate" data-options-url="\/2fa\/passkeys\/authentication-options" hidden>/);
      expect(form).to.include('<input type="hidden" name="_csrf" value="tok">');
      expect(form).to.include('<input type="hidden" name="returnTo" value="/next">');
      expect(form).to.include('<input type="hidden" name="passkey" value="">');
      expect(form).to.include('<p class="error" role="alert" data-passkey-message hidden></p>');
      expect(form).to.include('<button type="submit">Use a passkey</button>');
      expect(form).not.to.include('name="code"');
      expect(page).to.include('<p class="notice" data-passkey-unsupported hidden>This browser cannot use passkeys. Enter a code from your authenticator app or one of your backup codes instead.</p>');
      expectOnlyTheScript(page, '/2fa/assets/passkeys.js');
      // The code form is there for everyone (a backup code, a browser without passkeys).
      expect(page).to.include('<form method="post" action="/2fa/verify">');
      expect(page.match(/name="code"/g)).to.have.length(1);
      expect(page).to.include('>Verify</button>');
    });

    it('step-up page posts the passkey to its own action', () => {
      const page = defaultViews.verify(verifyData({ action: '/2fa/step-up', title: "Confirm it's you", passkey: PASSKEY }));
      expect(passkeyForms(page, 'authenticate')[0]).to.include('action="/2fa/step-up"');
    });

    it('verify page escapes the passkey URLs, token and returnTo', () => {
      const page = defaultViews.verify(verifyData({
        csrfToken: 't"k', returnTo: `/a'b"c<d>`,
        passkey: { optionsUrl: '/o"><script>alert(1)</script>', scriptUrl: '/s"><script>alert(2)</script>' },
      }));
      expect(page).not.to.include('<script>');
      expect(page).to.include('data-options-url="/o&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
      expect(page).to.include('<script src="/s&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" defer></script>');
      expect(passkeyForms(page, 'authenticate')[0]).to.include('value="t&quot;k"').and.include('value="/a&#39;b&quot;c&lt;d&gt;"');
    });

    it('setup page without passkey data offers no passkey', () => {
      const page = markup(defaultViews.setup(setupData()));
      expect(page).not.to.include('data-passkey');
      expect(page).not.to.match(/passkey/i);
    });

    it('setup page with passkey data: "Use a passkey or security key instead" with the register form, keeping returnTo', () => {
      const page = defaultViews.setup(setupData({ returnTo: '/remote/1', passkey: REGISTER }));
      expect(page).to.match(/<section aria-labelledby="passkey-heading" data-passkey hidden>\s*<h2 id="passkey-heading">Use a passkey or security key instead<\/h2>/);
      const [form, ...more] = passkeyForms(page, 'register');
      expect(more).to.deep.equal([]);
      expect(form).to.match(/^<form method="post" action="\/2fa\/passkeys" class="passkey" data-passkey="register" data-options-url="\/2fa\/passkeys\/options" hidden>/);
      expect(form).to.include('<input type="hidden" name="_csrf" value="tok&quot;en">');
      expect(form).to.include('<input type="hidden" name="returnTo" value="/remote/1">');
      expect(form).to.include('<input type="hidden" name="credential" value="">');
      expect(form).to.include('<label for="passkey-name">Name of the passkey</label>');
      const name = /<input [^>]*name="name"[^>]*>/.exec(form ?? '')?.[0] ?? '';
      expect(name).to.include('id="passkey-name"').and.include('placeholder="YubiKey or This laptop"').and.not.include('value=');
      // First enrolment: nothing to prove yet, so no code field.
      expect(form).not.to.include('name="code"');
      expect(page).to.include('data-passkey-unsupported hidden');
      expectOnlyTheScript(page, '/2fa/assets/passkeys.js');
      // The app's own confirm form is unchanged, and every id is unique.
      expect(page).to.include('<form method="post" action="/2fa/setup/confirm">');
      const ids = [...page.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
      expect(new Set(ids).size).to.equal(ids.length);
    });

    it('setup page escapes the passkey URLs', () => {
      const page = defaultViews.setup(setupData({ passkey: { optionsUrl: '/o"x', registerUrl: '/r"<x>', scriptUrl: "/s'x" } }));
      expect(page).to.include('action="/r&quot;&lt;x&gt;"').and.include('data-options-url="/o&quot;x"').and.include('<script src="/s&#39;x" defer>');
    });
  });

  describe('every page', () => {
    it('is a self-contained HTML5 document with no references to other hosts', () => {
      for (const page of allPages()) {
        expect(page.startsWith('<!doctype html>')).to.equal(true);
        expect(page).to.include('<html lang="en">');
        expect(page).to.include('<meta name="viewport" content="width=device-width, initial-scale=1">');
        expect(page).not.to.match(/https?:\/\//i);
        expect(page).not.to.match(/(src|href)\s*=\s*["']?\/\//i); // protocol-relative
        expect(page).not.to.match(/<script|<link|<img|@import|url\(/i);
        expect(page.match(/<style>/g)).to.have.length(1);
      }
    });
  });
});
