/**
 * The pages' passkey script, served at `${prefix}/assets/passkeys.js` (same
 * origin: the default Content-Security-Policy allows `script-src 'self'` and
 * no inline script). Plain ES2020 in one IIFE, no dependencies.
 *
 * What it drives (see views/passkeys.ts):
 * - `[data-passkey]` elements start `hidden`; they are shown when the browser
 *   has the WebAuthn JSON methods, else `[data-passkey-unsupported]` is.
 * - `form[data-passkey="register"]`: POSTs `{ name, code? }` to its
 *   `data-options-url`, creates the credential, puts its JSON into the
 *   `credential` field and submits the form.
 * - `form[data-passkey="authenticate"]`: POSTs `{}` to its `data-options-url`,
 *   gets an assertion, puts its JSON into the `passkey` field and submits;
 *   with `data-remember-from="<id>"` its `remember` field gets that
 *   checkbox's choice ("Don't ask for a code on this browser").
 * - Any failure is put into the form's `[data-passkey-message]` (role="alert");
 *   when the server asks for a fresh code first (`step_up_required`), the
 *   form's hidden `[data-passkey-code]` field is shown.
 *
 * The options requests are same-origin JSON and also carry the form's
 * `_csrf` as `x-csrf-token`.
 */
export const PASSKEYS_SCRIPT = String.raw`(function () {
  'use strict';

  var PKC = window.PublicKeyCredential;
  var supported = typeof PKC === 'function'
    && typeof PKC.parseCreationOptionsFromJSON === 'function'
    && typeof PKC.parseRequestOptionsFromJSON === 'function'
    && typeof PKC.prototype.toJSON === 'function'
    && !!navigator.credentials
    && typeof window.fetch === 'function';

  var CANCELLED = {
    register: 'The passkey request was cancelled or timed out. Try again, or use an authenticator app instead.',
    authenticate: 'The passkey request was cancelled or timed out. Try again, or use a code from your authenticator app or a backup code.'
  };

  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }

  function field(form, name) {
    var el = form.elements.namedItem(name);
    return el instanceof HTMLInputElement ? el : null;
  }

  function say(form, text) {
    var box = form.querySelector('[data-passkey-message]');
    if (!box) return;
    box.textContent = text;
    box.hidden = text === '';
  }

  function setBusy(form, busy) {
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
    Array.prototype.forEach.call(form.querySelectorAll('button'), function (b) { b.disabled = busy; });
  }

  function errorText(err, kind) {
    var name = err && typeof err.name === 'string' && err.name ? err.name : 'Error';
    if (name === 'NotAllowedError' || name === 'AbortError') return CANCELLED[kind];
    if (name === 'InvalidStateError' && kind === 'register') return 'This passkey is already linked to your account.';
    return 'Could not use the passkey (' + name + ').'
      + (kind === 'register' ? ' Try again, or use an authenticator app instead.' : ' Use a code from your authenticator app or a backup code instead.');
  }

  /** The options JSON, or null when the server refused (its message is then shown). */
  async function fetchOptions(form, body) {
    var headers = { 'content-type': 'application/json', accept: 'application/json' };
    var csrf = field(form, '_csrf');
    if (csrf && csrf.value) headers['x-csrf-token'] = csrf.value;
    var res;
    try {
      res = await fetch(form.getAttribute('data-options-url'), {
        method: 'POST', headers: headers, body: JSON.stringify(body), credentials: 'same-origin'
      });
    } catch (e) {
      say(form, 'The server could not be reached. Check your connection and try again.');
      return null;
    }
    var data = null;
    try {
      data = await res.json();
    } catch (e) {
      data = null;
    }
    if (!res.ok || data === null || typeof data !== 'object') {
      say(form, data && typeof data.message === 'string' && data.message
        ? data.message
        : 'Something went wrong (' + res.status + '). Try again.');
      if (data && data.error === 'step_up_required') askForCode(form);
      return null;
    }
    return data;
  }

  /** The server wants a fresh code first: show the form's code field, if it has one. */
  function askForCode(form) {
    var box = form.querySelector('[data-passkey-code]');
    if (!box) return;
    box.hidden = false;
    var input = box.querySelector('input');
    if (input) input.focus();
  }

  /** The page's "Don't ask for a code on this browser" checkbox lives in the code form; this form posts its choice too. */
  function copyRememberChoice(form) {
    var from = form.getAttribute('data-remember-from');
    var into = field(form, 'remember');
    if (!from || !into) return;
    var box = document.getElementById(from);
    into.value = box instanceof HTMLInputElement && box.checked ? 'on' : '';
  }

  async function ceremony(form, kind) {
    var body = {};
    if (kind === 'register') {
      var name = field(form, 'name');
      var code = field(form, 'code');
      if (name && name.value.trim()) body.name = name.value.trim();
      if (code && code.value.trim()) body.code = code.value.trim();
    }
    var options = await fetchOptions(form, body);
    if (!options) return false;
    var credential = kind === 'register'
      ? await navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(options) })
      : await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(options) });
    if (!credential) throw new DOMException('No credential was returned.', 'NotAllowedError');
    var target = field(form, kind === 'register' ? 'credential' : 'passkey');
    if (!target) throw new Error('The form has no field for the passkey.');
    target.value = JSON.stringify(credential.toJSON());
    copyRememberChoice(form);
    // The prototype's submit: a field named "submit" cannot shadow it.
    HTMLFormElement.prototype.submit.call(form);
    return true;
  }

  function start(form, kind) {
    if (form.getAttribute('aria-busy') === 'true') return;
    setBusy(form, true);
    say(form, '');
    ceremony(form, kind).then(function (leaving) {
      // Leaving: the buttons stay disabled until the next page replaces this one.
      if (!leaving) setBusy(form, false);
    }, function (err) {
      say(form, errorText(err, kind));
      setBusy(form, false);
    });
  }

  if (!supported) {
    each('[data-passkey-unsupported]', function (el) { el.hidden = false; });
    return;
  }

  each('[data-passkey]', function (el) {
    var kind = el.getAttribute('data-passkey');
    el.hidden = false;
    if (!(el instanceof HTMLFormElement) || (kind !== 'register' && kind !== 'authenticate')) return;
    el.addEventListener('submit', function (event) {
      event.preventDefault();
      start(el, kind);
    });
  });

  // Back from the next page (back/forward cache): the forms work again.
  window.addEventListener('pageshow', function (event) {
    if (!event.persisted) return;
    each('form[data-passkey]', function (form) {
      setBusy(form, false);
      say(form, '');
    });
  });
})();
`;
