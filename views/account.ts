import { html, type SafeHtml } from './html.ts';
import { errorAlert, layout, returnToField } from './layout.ts';
import { passkeyAuthenticateForm, passkeyRegisterForm, passkeyScript, passkeyUnsupported } from './passkeys.ts';
import type { AccountPageData, BrowserView, DeviceView } from './types.ts';

/** "2024-05-01 14:05 UTC" from an ISO string; the input as is when it cannot be parsed. */
export function formatUtcDateTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ` +
    `${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())} UTC`
  );
}

function time(iso: string): SafeHtml {
  return html`<time datetime="${iso}">${formatUtcDateTime(iso)}</time>`;
}

/** A labelled one-time-code field with a unique id. */
function codeField(id: string, label: string): SafeHtml {
  return html`<label for="${id}">${label}</label>
<input type="text" id="${id}" name="code" autocomplete="one-time-code" inputmode="numeric" autocapitalize="off" spellcheck="false" required>`;
}

function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

const KIND_LABELS: Record<DeviceView['kind'], string> = {
  totp: 'Authenticator app',
  passkey: 'Passkey or security key',
};

/** "Use a passkey instead" beside a form that asks for a fresh code, when the user has a passkey. */
function passkeyInstead(d: AccountPageData, action: string, buttonClass: string | undefined, describedBy?: string): SafeHtml {
  const optionsUrl = d.passkey?.authenticationOptionsUrl;
  if (!optionsUrl) return html``;
  // The button looks like its neighbour's: the same action, proven another way.
  return passkeyAuthenticateForm({ action, optionsUrl, csrfToken: d.csrfToken, returnTo: d.returnTo, label: 'Use a passkey instead', describedBy, buttonClass });
}

function deviceItem(d: AccountPageData, device: DeviceView, index: number): SafeHtml {
  const base = `${d.prefix}/devices/${encodeURIComponent(device.id)}`;
  const headingId = `device-${index}-name`;
  const lastUsed = device.lastUsedAt ? html`Last used ${time(device.lastUsedAt)}` : 'Never used';
  const lastOne = device.kind === 'passkey'
    ? 'Required by your administrator: add another authenticator before removing this passkey.'
    : 'Required by your administrator: add another app before removing this one.';
  const remove =
    d.required && d.devices.length === 1
      ? html`<p class="muted">${lastOne}</p>`
      : html`<form method="post" action="${base}/remove">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
${codeField(`code-remove-${index}`, `Code to remove ${device.name}`)}
<button type="submit" class="danger">Remove</button>
</form>
${passkeyInstead(d, `${base}/remove`, 'danger', headingId)}`;

  return html`<li class="device">
<h3 class="device-name" id="${headingId}">${device.name}</h3>
<p class="muted">${KIND_LABELS[device.kind] ?? KIND_LABELS.totp}<br>Added ${time(device.createdAt)}<br>${lastUsed}</p>
<form method="post" action="${base}/rename">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
<label for="name-${index}">New name for ${device.name}</label>
<input type="text" class="plain" id="name-${index}" name="name" value="${device.name}" autocomplete="off" required>
<button type="submit">Rename</button>
</form>
${remove}
</li>
`;
}

function browserItem(d: AccountPageData, browsersUrl: string, browser: BrowserView, index: number): SafeHtml {
  const headingId = `browser-${index}-name`;
  return html`<li class="device">
<h3 class="device-name" id="${headingId}">${browser.name}</h3>
<p class="muted">Last used ${time(browser.lastUsedAt)}<br>Remembered until ${time(browser.expiresAt)}</p>
<form method="post" action="${browsersUrl}/${encodeURIComponent(browser.id)}/forget">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
<button type="submit" class="secondary" aria-describedby="${headingId}">Forget</button>
</form>
</li>
`;
}

/** "Remembered browsers": the browsers that skip the code at sign-in, each with "Forget", and "Forget all". */
function browsersSection(d: AccountPageData): SafeHtml {
  const browsers = d.rememberedBrowsers;
  if (!browsers) return html``;
  const browsersUrl = d.browsersUrl ?? `${d.prefix}/browsers`;
  const list = browsers.length > 0
    ? html`<p>These browsers do not ask for a code when you sign in with your password.</p>
<ul class="devices">
${browsers.map((b, i) => browserItem(d, browsersUrl, b, i))}</ul>
<form method="post" action="${browsersUrl}/forget-all">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
<button type="submit" class="danger">Forget all remembered browsers</button>
</form>`
    : html`<p>No browser is remembered: every sign-in asks for a code.</p>`;
  return html`
<section aria-labelledby="browsers-heading">
<h2 id="browsers-heading">Remembered browsers</h2>
${list}
</section>`;
}

function activeSections(d: AccountPageData): SafeHtml {
  const n = d.backupCodesRemaining;
  const left = n === 0 ? 'No backup codes left.' : `${n} backup ${n === 1 ? 'code' : 'codes'} left.`;
  const devices =
    d.devices.length > 0
      ? html`<ul class="devices">
${d.devices.map((dev, i) => deviceItem(d, dev, i))}</ul>`
      : html`<p>No authenticator apps.</p>`;
  const disable = d.required
    ? html`<p>Your administrator requires two-factor authentication; it cannot be turned off.</p>`
    : html`<form method="post" action="${d.prefix}/disable">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
${codeField('code-disable', 'Code to turn off two-factor authentication')}
<button type="submit" class="danger">Turn off</button>
</form>
${passkeyInstead(d, `${d.prefix}/disable`, 'danger')}`;

  return html`<section aria-labelledby="devices-heading">
<h2 id="devices-heading">${d.passkey ? 'Authenticator apps and passkeys' : 'Authenticator apps'}</h2>
${devices}
<form method="get" action="${d.prefix}/setup" class="add-device">
<input type="hidden" name="returnTo" value="${d.prefix}">
<label for="new-device-name">Name of the new app's device</label>
<input type="text" class="plain" id="new-device-name" name="name" placeholder="Office PC" maxlength="64" autocomplete="off">
<button type="submit" class="secondary">+ Add another authenticator app</button>
</form>
${addPasskey(d)}
</section>
<section aria-labelledby="backup-heading">
<h2 id="backup-heading">Backup codes</h2>
<p>${left}</p>
<form method="post" action="${d.prefix}/backup-codes">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
${codeField('code-regenerate', 'Code to generate new backup codes')}
<p class="muted">Your old codes stop working.</p>
<button type="submit">Generate new backup codes</button>
</form>
${passkeyInstead(d, `${d.prefix}/backup-codes`, undefined)}
</section>${browsersSection(d)}
<section aria-labelledby="disable-heading">
<h2 id="disable-heading">Turn off two-factor authentication</h2>
${disable}
</section>`;
}

/**
 * "Add a passkey". Linking one while 2FA is active needs a fresh code when
 * the session was verified a while ago: the form has one, shown when asked.
 */
function addPasskey(d: AccountPageData): SafeHtml {
  if (!d.passkey) return html``;
  return passkeyRegisterForm({
    action: d.passkey.registerUrl,
    optionsUrl: d.passkey.optionsUrl,
    csrfToken: d.csrfToken,
    // Back here after it is linked, like "Add another authenticator app".
    returnTo: d.prefix,
    nameId: 'new-passkey-name',
    label: '+ Add a passkey',
    code: d.state === 'active' ? { id: 'code-passkey', label: 'Code from your authenticator app, or a backup code' } : undefined,
    buttonClass: 'secondary',
  });
}

/** Without active 2FA: set up an app, or (passkeys enabled) add a passkey right here. */
function inactiveContent(d: AccountPageData): SafeHtml {
  const intro = d.state === 'pending'
    ? 'Your administrator requires two-factor authentication. Set it up to continue.'
    : 'Two-factor authentication is off.';
  const passkey = d.passkey
    ? html`
<section aria-labelledby="passkey-heading" data-passkey hidden>
<h2 id="passkey-heading">Or use a passkey</h2>
<p>A passkey or security key confirms it is you with this device's screen lock, a fingerprint or a key you touch, instead of a code.</p>
${addPasskey(d)}
</section>`
    : '';
  return html`<p>${intro}</p>
<p><a class="button" href="${d.prefix}/setup">Set up an authenticator app</a></p>${passkey}`;
}

/** The account page: linked apps and passkeys (rename, remove), backup codes, remembered browsers, turning 2FA off. */
export function accountPage(d: AccountPageData): string {
  const notice = d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : '';
  const content = d.state === 'active' ? activeSections(d) : inactiveContent(d);
  const passkey = d.passkey
    ? {
        note: passkeyUnsupported(
          d.passkey.authenticationOptionsUrl
            ? 'This browser cannot use passkeys. Confirm with a code from your authenticator app or a backup code instead.'
            : 'This browser cannot use passkeys. Use an authenticator app, and a backup code if you lose it.',
        ),
        script: passkeyScript(d.passkey.scriptUrl),
      }
    : undefined;

  const body = html`<h1>Two-factor authentication</h1>
${notice}
${errorAlert(d)}
${passkey?.note}
${content}
<nav><a href="/">Back to the app</a></nav>
${passkey?.script}`;

  return layout({ title: 'Two-factor authentication', body });
}
