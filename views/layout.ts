import { createHash } from 'node:crypto';
import { html, raw, type SafeHtml } from './html.ts';

const STYLE = `
*,*::before,*::after{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;padding:1rem;background:#f3f4f6;color:#111827;line-height:1.5;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:28rem;margin:2rem auto;background:#fff;border:1px solid #e5e7eb;border-radius:.75rem;padding:1.5rem}
h1{font-size:1.4rem;line-height:1.25;margin:0 0 1rem}
h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
ol.steps{padding-left:1.25rem}ol.steps>li{margin-bottom:1.25rem}
figure{margin:.75rem 0;text-align:center}
figure svg{width:100%;max-width:14rem;height:auto;background:#fff}
code,.backup-codes{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace}
#secret-key{display:inline-block;user-select:all;-webkit-user-select:all;overflow-wrap:anywhere;
background:#f3f4f6;border-radius:.25rem;padding:.25rem .5rem;font-size:1.05rem;letter-spacing:.05em}
label{display:block;font-weight:600;margin-bottom:.25rem}
label.check{display:flex;align-items:flex-start;gap:.5rem;font-weight:400;margin:.75rem 0 0}
label.check input{flex:none;width:1.125rem;height:1.125rem;margin:.2rem 0 0}
input[type=text]{display:block;width:100%;font-size:1.25rem;padding:.5rem .75rem;border:1px solid #9ca3af;border-radius:.375rem;
font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.1em}
button,.button{display:inline-block;margin-top:1rem;padding:.6rem 1.25rem;font:inherit;font-weight:600;color:#fff;
background:#1d4ed8;border:0;border-radius:.375rem;text-decoration:none;cursor:pointer}
button:hover,.button:hover{background:#1e40af}
button.link,button.link:hover{background:none;color:#1d4ed8;padding:0;margin:0;font-weight:400;text-decoration:underline}
a{color:#1d4ed8}
:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.error{color:#991b1b;background:#fef2f2;border:1px solid #fecaca;border-radius:.375rem;padding:.75rem;margin:0 0 1rem}
.notice{background:#fffbeb;border:1px solid #fde68a;border-radius:.375rem;padding:.75rem;margin:0 0 1rem}
.muted{color:#4b5563;font-size:.9rem}
.backup-codes{columns:2;column-gap:2rem;font-size:1.05rem;padding-left:2rem}
.backup-codes li{padding:.125rem 0;break-inside:avoid}
nav{margin-top:1.5rem}
.button.secondary,button.secondary{color:#1d4ed8;background:#fff;border:1px solid #1d4ed8}
.button.secondary:hover,button.secondary:hover{background:#eff6ff}
form[data-passkey=register]{margin-top:1.5rem}
form.email-code{margin-top:1.5rem;padding-top:1rem;border-top:1px solid #e5e7eb}
form.email-code p{margin:0}form.email-code button{margin-top:.75rem}
[data-passkey-code]{margin-top:.75rem}
.error[data-passkey-message]{margin:.75rem 0 0}
button.danger{background:#b91c1c}button.danger:hover{background:#991b1b}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:1.25rem}
.actions .button{margin:0;text-align:center}
ul.devices{list-style:none;margin:0;padding:0}
ul.devices>li{border-top:1px solid #e5e7eb;padding:.75rem 0}
ul.devices>li:last-child{border-bottom:1px solid #e5e7eb}
.device-name{font-size:1rem;margin:0;overflow-wrap:anywhere}
.device form{margin-top:.75rem}
.device button{margin-top:.5rem}
table.users{width:100%;border-collapse:collapse;margin:.5rem 0 1rem}
table.users th,table.users td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #e5e7eb}
table.users label{display:inline;margin:0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
select{font-size:1rem;padding:.4rem;margin:.25rem 0 .75rem;display:block}
input[type=password]{display:block;width:100%;font-size:1rem;padding:.5rem;margin:.25rem 0 .75rem}
input[type=text].plain{font-family:inherit;font-size:1rem;letter-spacing:normal}
@media (max-width:30rem){body{padding:0}main{margin:0;border:0;border-radius:0;min-height:100vh}
.actions{flex-direction:column}.actions .button{display:block;width:100%}}
@media print{
body{background:#fff;padding:0}
main{border:0;margin:0;max-width:none}
button,.button,nav,form{display:none!important}
.backup-codes{font-size:12pt;columns:2}
.backup-codes li{break-inside:avoid}
}
`;

/** The CSP source that allows exactly the inline stylesheet above. */
export const LAYOUT_STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
}

/** A full HTML5 document with one inline stylesheet and no external resources. */
export function layout({ title, body }: LayoutOptions): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="same-origin">
<title>${title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.toString();
}

/** "30 seconds", "1 minute", "5 minutes" (rounded up to whole minutes from 60 s). */
export function humanDuration(seconds: number): string {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return `${s} ${s === 1 ? 'second' : 'seconds'}`;
  const m = Math.ceil(s / 60);
  return `${m} ${m === 1 ? 'minute' : 'minutes'}`;
}

/** The error box (role="alert"), with the lockout wait appended when set; empty when no error. */
export function errorAlert(d: { error?: string | undefined; retryAfterSeconds?: number | undefined }): SafeHtml {
  const wait =
    d.retryAfterSeconds !== undefined && Number.isFinite(d.retryAfterSeconds) && d.retryAfterSeconds > 0
      ? `Try again in ${humanDuration(d.retryAfterSeconds)}.`
      : '';
  if (!d.error && !wait) return html``;
  const text = [d.error ?? '', wait].filter(Boolean).join(' ');
  return html`<p class="error" role="alert">${text}</p>`;
}

/**
 * A link target that cannot run script: relative URLs and http(s) pass,
 * any other scheme (javascript:, data:, …) becomes `fallback`.
 */
export function safeHref(url: string, fallback = '/'): string {
  // Browsers ignore ASCII whitespace/control characters when parsing schemes.
  const probe = url.replace(/[\u0000-\u0020\u007f]/g, '');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(probe)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'http' || scheme === 'https') return url;
  return fallback;
}

/** Hidden `returnTo` field, only when set. */
export function returnToField(returnTo: string | undefined): SafeHtml {
  return returnTo ? html`<input type="hidden" name="returnTo" value="${returnTo}">` : html``;
}
