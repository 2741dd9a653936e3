import { html, type SafeHtml } from './html.ts';
import { errorAlert, layout, returnToField } from './layout.ts';
import type { AccountPageData, DeviceView } from './types.ts';

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

function deviceItem(d: AccountPageData, device: DeviceView, index: number): SafeHtml {
  const base = `${d.prefix}/devices/${encodeURIComponent(device.id)}`;
  const headingId = `device-${index}-name`;
  const lastUsed = device.lastUsedAt ? html`Last used ${time(device.lastUsedAt)}` : 'Never used';
  const remove =
    d.required && d.devices.length === 1
      ? html`<p class="muted">Required by your administrator: add another app before removing this one.</p>`
      : html`<form method="post" action="${base}/remove">
${csrfField(d.csrfToken)}
${returnToField(d.returnTo)}
${codeField(`code-remove-${index}`, `Code to remove ${device.name}`)}
<button type="submit" class="danger">Remove</button>
</form>`;

  return html`<li class="device">
<h3 class="device-name" id="${headingId}">${device.name}</h3>
<p class="muted">Added ${time(device.createdAt)}<br>${lastUsed}</p>
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
</form>`;

  return html`<section aria-labelledby="devices-heading">
<h2 id="devices-heading">Authenticator apps</h2>
${devices}
<form method="get" action="${d.prefix}/setup" class="add-device">
<input type="hidden" name="returnTo" value="${d.prefix}">
<label for="new-device-name">Name of the new app's device</label>
<input type="text" class="plain" id="new-device-name" name="name" placeholder="Office PC" maxlength="64" autocomplete="off">
<button type="submit" class="secondary">+ Add another authenticator app</button>
</form>
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
</section>
<section aria-labelledby="disable-heading">
<h2 id="disable-heading">Turn off two-factor authentication</h2>
${disable}
</section>`;
}

/** The account page: linked apps (rename, remove), backup codes, turning 2FA off. */
export function accountPage(d: AccountPageData): string {
  const notice = d.notice ? html`<p class="notice" role="status">${d.notice}</p>` : '';
  const content =
    d.state === 'active'
      ? activeSections(d)
      : html`<p>${
          d.state === 'pending'
            ? 'Your administrator requires two-factor authentication. Set it up to continue.'
            : 'Two-factor authentication is off.'
        }</p>
<p><a class="button" href="${d.prefix}/setup">Set up an authenticator app</a></p>`;

  const body = html`<h1>Two-factor authentication</h1>
${notice}
${errorAlert(d)}
${content}
<nav><a href="/">Back to the app</a></nav>`;

  return layout({ title: 'Two-factor authentication', body });
}
