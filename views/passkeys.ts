/**
 * The pages' passkey pieces. Each starts `hidden`: the passkey script
 * (views/assets/passkeys-script.ts) shows the forms when the browser can use
 * passkeys, else the "cannot use passkeys" note. Without script nothing of it
 * shows and the code forms work as before.
 */
import { html, type SafeHtml } from './html.ts';
import { returnToField } from './layout.ts';

/** The same-origin script that drives the forms (no inline script: the default CSP allows `script-src 'self'` only). */
export function passkeyScript(scriptUrl: string): SafeHtml {
  return html`<script src="${scriptUrl}" defer></script>`;
}

/** Shown by the script instead of the passkey forms when the browser cannot use passkeys. */
export function passkeyUnsupported(text: string): SafeHtml {
  return html`<p class="notice" data-passkey-unsupported hidden>${text}</p>`;
}

/** Where the script puts a failed ceremony's message; hidden while empty. */
function passkeyMessage(): SafeHtml {
  return html`<p class="error" role="alert" data-passkey-message hidden></p>`;
}

export interface AuthenticateFormOptions {
  /** Where the proof goes: `/2fa/verify`, `/2fa/disable`… (the same action as the code form beside it). */
  action: string;
  optionsUrl: string;
  csrfToken: string;
  returnTo: string | undefined;
  /** The button's text. */
  label: string;
  /** Id of an element naming what the button acts on (a device's heading), for assistive technology. */
  describedBy?: string | undefined;
  buttonClass?: string | undefined;
  /**
   * Id of a checkbox elsewhere on the page ("Don't ask for a code on this
   * browser") whose choice this form posts too, as its `remember` field.
   */
  rememberFrom?: string | undefined;
}

/** A form that posts a passkey answer (field `passkey`) where its neighbour posts a code. */
export function passkeyAuthenticateForm(o: AuthenticateFormOptions): SafeHtml {
  const remember = o.rememberFrom ? html`<input type="hidden" name="remember" value="">
` : '';
  return html`<form method="post" action="${o.action}" class="passkey" data-passkey="authenticate" data-options-url="${o.optionsUrl}"${o.rememberFrom ? html` data-remember-from="${o.rememberFrom}"` : ''} hidden>
<input type="hidden" name="_csrf" value="${o.csrfToken}">
${returnToField(o.returnTo)}
<input type="hidden" name="passkey" value="">
${remember}${passkeyMessage()}
<button type="submit"${o.buttonClass ? html` class="${o.buttonClass}"` : ''}${o.describedBy ? html` aria-describedby="${o.describedBy}"` : ''}>${o.label}</button>
</form>`;
}

export interface RegisterFormOptions {
  action: string;
  optionsUrl: string;
  csrfToken: string;
  returnTo: string | undefined;
  /** Id of the name field (unique on its page). */
  nameId: string;
  /** The button's text. */
  label: string;
  /**
   * A fresh-code field, hidden until the server asks for one (active 2FA,
   * verified a while ago): the script then shows it with the server's message.
   */
  code?: { id: string; label: string } | undefined;
  buttonClass?: string | undefined;
}

/** A form that creates a passkey in the browser and posts it (field `credential`) with its name. */
export function passkeyRegisterForm(o: RegisterFormOptions): SafeHtml {
  const code = o.code
    ? html`<div data-passkey-code hidden>
<label for="${o.code.id}">${o.code.label}</label>
<input type="text" id="${o.code.id}" name="code" autocomplete="one-time-code" inputmode="numeric" autocapitalize="off" spellcheck="false">
</div>
`
    : '';
  return html`<form method="post" action="${o.action}" class="passkey" data-passkey="register" data-options-url="${o.optionsUrl}" hidden>
<input type="hidden" name="_csrf" value="${o.csrfToken}">
${returnToField(o.returnTo)}
<input type="hidden" name="credential" value="">
<label for="${o.nameId}">Name of the passkey</label>
<input type="text" class="plain" id="${o.nameId}" name="name" placeholder="YubiKey or This laptop" maxlength="64" autocomplete="off">
${code}${passkeyMessage()}
<button type="submit"${o.buttonClass ? html` class="${o.buttonClass}"` : ''}>${o.label}</button>
</form>`;
}
