import { html, raw } from './html.ts';
import { errorAlert, layout, returnToField } from './layout.ts';
import { passkeyRegisterForm, passkeyScript, passkeyUnsupported } from './passkeys.ts';
import type { SetupPageData } from './types.ts';

/** "ABCD EFGH IJKL …" for reading and typing by hand. */
export function groupSecret(secret: string): string {
  return (secret.replace(/\s+/g, '').match(/.{1,4}/g) ?? []).join(' ');
}

/** "14:05 UTC", or undefined when the date cannot be parsed. */
function utcTime(iso: string): string | undefined {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return undefined;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())} UTC`;
}

/** "Use a passkey or security key instead", when passkeys are enabled. */
function passkeyAlternative(d: SetupPageData) {
  if (!d.passkey) return html``;
  return html`<section aria-labelledby="passkey-heading" data-passkey hidden>
<h2 id="passkey-heading">Use a passkey or security key instead</h2>
<p>Confirm it is you with this device's screen lock, a fingerprint or a security key you touch, instead of a code from an app.</p>
${passkeyRegisterForm({
    action: d.passkey.registerUrl, optionsUrl: d.passkey.optionsUrl, csrfToken: d.csrfToken, returnTo: d.returnTo,
    nameId: 'passkey-name', label: 'Add a passkey',
  })}
</section>
${passkeyUnsupported('This browser cannot use passkeys. Link an authenticator app above; your backup codes work if you lose it.')}
${passkeyScript(d.passkey.scriptUrl)}`;
}

/** The page that links an authenticator app: QR code, secret key, code field. */
export function setupPage(d: SetupPageData): string {
  const expires = utcTime(d.expiresAt);
  // Only an otpauth: link is offered; anything else would not open an authenticator app anyway.
  const appLink = /^otpauth:\/\//i.test(d.otpauthUri)
    ? html`<p><a href="${d.otpauthUri}">Open in authenticator app</a> (on this phone)</p>`
    : html``;

  const body = html`<h1>Set up two-factor authentication</h1>
${errorAlert(d)}
<p>Link <strong>${d.deviceName}</strong> to your account with an authenticator app.</p>
<ol class="steps">
<li>
<p>Scan this QR code with your authenticator app (Google Authenticator, Microsoft Authenticator, Authy, 1Password…).</p>
<figure role="img" aria-label="QR code for linking your authenticator app">${raw(d.qrSvg)}</figure>
</li>
<li>
<p>Or type this key in the app (select the key to copy it; spaces do not matter):</p>
<p><code id="secret-key">${groupSecret(d.secret)}</code></p>
<p class="muted">Account: <strong>${d.accountName}</strong><br>Issuer: <strong>${d.issuer}</strong></p>
${appLink}
</li>
<li>
<form method="post" action="${d.prefix}/setup/confirm">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<input type="hidden" name="enrolmentId" value="${d.enrolmentId}">
${returnToField(d.returnTo)}
<label for="code">Enter the ${String(d.codeDigits ?? 6)}-digit code shown in the app</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]*" maxlength="${String(d.codeDigits ?? 6)}" required>
<button type="submit">Activate</button>
</form>
</li>
</ol>
${expires ? html`<p class="muted">This key expires at ${expires}.</p>` : ''}
${passkeyAlternative(d)}`;

  return layout({ title: 'Set up two-factor authentication', body });
}
