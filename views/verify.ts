import { html } from './html.ts';
import { errorAlert, layout, returnToField } from './layout.ts';
import type { VerifyPageData } from './types.ts';

function remainingNotice(n: number | undefined) {
  if (n === undefined || !Number.isFinite(n) || n > 3) return '';
  const text = `You have ${n} backup ${n === 1 ? 'code' : 'codes'} left.`;
  return html`<p class="notice">${text}</p>`;
}

/** The second-factor challenge after the password step (also used for step-up). */
export function verifyPage(d: VerifyPageData): string {
  const body = html`<h1>${d.title}</h1>
${errorAlert(d)}
${remainingNotice(d.backupCodesRemaining)}
<p>Enter the 6-digit code from your authenticator app, or one of your backup codes.</p>
<form method="post" action="${d.action}">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
${returnToField(d.returnTo)}
<label for="code">Authentication code</label>
<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" autocapitalize="off" spellcheck="false" required autofocus>
<button type="submit">Verify</button>
</form>
<nav>
<form method="post" action="/logout">
<input type="hidden" name="_csrf" value="${d.csrfToken}">
<button type="submit" class="link">Sign out</button>
</form>
</nav>`;

  return layout({ title: d.title, body });
}
