import { backupCodesList } from './backup-codes.ts';
import { html } from './html.ts';
import { errorAlert, layout, safeHref } from './layout.ts';
import type { SetupDonePageData } from './types.ts';

/** "You're good to go": shown once after a device is confirmed, with any new backup codes. */
export function setupDonePage(d: SetupDonePageData): string {
  const codes = d.backupCodes && d.backupCodes.length > 0 ? d.backupCodes : undefined;
  const backup = codes
    ? html`<section aria-labelledby="backup-codes-heading">
<h2 id="backup-codes-heading">Your backup codes</h2>
<p>Keep them carefully, they will no longer be displayed. Each code is for single use only.
Type one instead of your usual second factor if you lose your phone or your key.</p>
${backupCodesList(codes)}
</section>`
    : '';

  const body = html`<h1>You're good to go</h1>
${errorAlert(d)}
<p>Two-factor authentication is now active for <strong>${d.deviceName}</strong>.</p>
${backup}
<p><a class="button" href="${safeHref(d.continueUrl)}">Continue</a></p>`;

  return layout({ title: "You're good to go", body });
}
