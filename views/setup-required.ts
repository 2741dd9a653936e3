import { html } from './html.ts';
import { errorAlert, layout, safeHref } from './layout.ts';
import type { SetupRequiredPageData } from './types.ts';

/** "Two-factor authentication needed": activate now (setup, then back) or later. */
export function setupRequiredPage(d: SetupRequiredPageData): string {
  const body = html`<h1>Two-factor authentication needed</h1>
${errorAlert(d)}
<p>${d.reason}</p>
${d.emailAddress ? html`<p class="muted">Once it is on, we'll email a confirmation to ${d.emailAddress}.</p>` : ''}
<div class="actions">
<a class="button" href="${safeHref(d.activateUrl)}">Activate now</a>
<a class="button secondary" href="${safeHref(d.laterUrl)}">Activate later</a>
</div>`;

  return layout({ title: 'Two-factor authentication needed', body });
}
