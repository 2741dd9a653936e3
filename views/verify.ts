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

/** "Use a passkey" above the code form, for a user who has one; the code form stays for everyone. */
function passkeyOption(d: VerifyPageData) {
  if (!d.passkey) return html``;
  return html`${passkeyUnsupported('This browser cannot use passkeys. Enter a code from your authenticator app or one of your backup codes instead.')}
${passkeyAuthenticateForm({ action: d.action, optionsUrl: d.passkey.optionsUrl, csrfToken: d.csrfToken, returnTo: d.returnTo, label: 'Use a passkey' })}
`;
}

/** The second-factor challenge after the password step (also used for step-up). */
export function verifyPage(d: VerifyPageData): string {
  const body = html`<h1>${d.title}</h1>
${errorAlert(d)}
${remainingNotice(d.backupCodesRemaining)}
${passkeyOption(d)}<p>Enter the ${String(d.codeDigits ?? 6)}-digit code from your authenticator app, or one of your backup codes.</p>
<form method="post" action="${d.action}">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
${returnToField(d.returnTo)}
<label for="code">Authentication code</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" autocapitalize="off" spellcheck="false" required autofocus>
<button type="submit">Verify</button>
</form>
<nav>
${signOut(d)}
</nav>
${d.passkey ? passkeyScript(d.passkey.scriptUrl) : ''}`;

  return layout({ title: d.title, body });
}
