import { html, type SafeHtml } from './html.ts';
import { errorAlert, layout, safeHref } from './layout.ts';
import type { BackupCodesPageData } from './types.ts';

/** The plain-text file offered for download: a header line, then one code per line. */
export function backupCodesText(codes: readonly string[]): string {
  return ['Backup codes for two-factor authentication', ...codes].join('\n') + '\n';
}

/** A `data:` URL of {@link backupCodesText} (stays on the page, no request to any host). */
export function backupCodesDataUrl(codes: readonly string[]): string {
  return `data:text/plain;charset=utf-8,${encodeURIComponent(backupCodesText(codes))}`;
}

/**
 * The codes as `<ol class="backup-codes">`, a "Download as text" link and the
 * print hint. Shared by the setup-done and backup-codes pages.
 */
export function backupCodesList(codes: readonly string[]): SafeHtml {
  return html`<ol class="backup-codes">
${codes.map((c) => html`<li><code>${c}</code></li>\n`)}</ol>
<p><a class="button" download="backup-codes.txt" href="${backupCodesDataUrl(codes)}">Download as text</a></p>
<p class="muted">Print this page or write them down.</p>`;
}

/** Fresh backup codes after regeneration, shown this once. */
export function backupCodesPage(d: BackupCodesPageData): string {
  const body = html`<h1>Your new backup codes</h1>
${errorAlert(d)}
<p>Your old codes no longer work. Keep these carefully, they will no longer be displayed. Each code is for single use only.</p>
${backupCodesList(d.backupCodes)}
<p><a class="button" href="${safeHref(d.continueUrl)}">Continue</a></p>`;

  return layout({ title: 'Your new backup codes', body });
}
