import { html } from './html.ts';
import { errorAlert, layout, returnToField, safeHref } from './layout.ts';
import { passkeyAuthenticateForm, passkeyScript, passkeyUnsupported } from './passkeys.ts';
import type { VerifyPageData } from './types.ts';

function remainingNotice(n: number | undefined) {
  if (n === undefined || !Number.isFinite(n) || n > 3) return '';
  const text = `You have ${n} backup ${n === 1 ? 'code' : 'codes'} left.`;
  return html`<p class="notice">${text}</p>`;
}

/** The app's logout: a form post (with the token) or, for an app whose logout is a GET, a link. */
function signOut(d: VerifyPageData) {
  const path = d.logoutPath ?? '/logout';
  if (d.logoutMethod === 'GET') return html`<a href="${safeHref(path)}">Sign out</a>`;
  return html`<form method="post" action="${path}">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<button type="submit" class="link">Sign out</button>
</form>`;
}

/** Id of the "Don't ask for a code on this browser" checkbox (the passkey form copies its state). */
const REMEMBER_ID = 'remember';

/** Whether the page offers to remember this browser (a positive number of days). */
function remembers(d: VerifyPageData): d is VerifyPageData & { rememberDays: number } {
  return typeof d.rememberDays === 'number' && Number.isFinite(d.rememberDays) && d.rememberDays > 0;
}

/** "Use a passkey" above the code form, for a user who has one; the code form stays for everyone. */
function passkeyOption(d: VerifyPageData) {
  if (!d.passkey) return html``;
  return html`${passkeyUnsupported('This browser cannot use passkeys. Enter a code from your authenticator app or one of your backup codes instead.')}
${passkeyAuthenticateForm({ action: d.action, optionsUrl: d.passkey.optionsUrl, csrfToken: d.csrfToken, returnTo: d.returnTo, label: 'Use a passkey', rememberFrom: remembers(d) ? REMEMBER_ID : undefined })}
`;
}

/** "Don't ask for a code on this browser for N days", inside the code form. */
function rememberOption(d: VerifyPageData) {
  if (!remembers(d)) return html``;
  const days = d.rememberDays;
  const text = `Don't ask for a code on this browser for ${days} ${days === 1 ? 'day' : 'days'}`;
  return html`<label class="check" for="${REMEMBER_ID}"><input type="checkbox" id="${REMEMBER_ID}" name="remember" value="on"> ${text}</label>
`;
}

/**
 * "Email me a code instead", for a user the app emails codes to. A plain form
 * (no script): the code arrives by email and goes into the code form above.
 */
function emailCodeOption(d: VerifyPageData) {
  if (!d.emailCode) return html``;
  const kind = d.action.endsWith('/step-up') ? 'step-up' : 'verify';
  return html`<form method="post" action="${d.emailCode.sendUrl}" class="email-code">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<input type="hidden" name="kind" value="${kind}">
${returnToField(d.returnTo)}
<p class="muted" id="email-code-to">No authenticator at hand? We'll send a code to ${d.emailCode.address}.</p>
<button type="submit" class="secondary" aria-describedby="email-code-to">Email me a code instead</button>
</form>
`;
}

function codeSources(d: VerifyPageData): string {
  const digits = String(d.codeDigits ?? 6);
  return d.emailCode
    ? `Enter the ${digits}-digit code from your authenticator app, one of your backup codes, or a code we emailed you.`
    : `Enter the ${digits}-digit code from your authenticator app, or one of your backup codes.`;
}

/** The second-factor challenge after the password step (also used for step-up). */
export function verifyPage(d: VerifyPageData): string {
  const body = html`<h1>${d.title}</h1>
${errorAlert(d)}
${d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : ''}
${remainingNotice(d.backupCodesRemaining)}
${passkeyOption(d)}<p>${codeSources(d)}</p>
<form method="post" action="${d.action}">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
${returnToField(d.returnTo)}
<label for="code">Authentication code</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" autocapitalize="off" spellcheck="false" required autofocus>
${rememberOption(d)}<button type="submit">Verify</button>
</form>
${emailCodeOption(d)}<nav>
${signOut(d)}
</nav>
${d.passkey ? passkeyScript(d.passkey.scriptUrl) : ''}`;

  return layout({ title: d.title, body });
}
