/**
 * The passkey script is a string the server serves as is: nothing compiles
 * or bundles it, so these checks stand in for a build step. What it does in
 * a browser is proven by test/browser/passkeys.test.ts.
 */
import { Script } from 'node:vm';
import { expect } from 'chai';
import { PASSKEYS_SCRIPT } from '../../views/assets/passkeys-script.ts';

describe('views: the passkey script', () => {
  it('is a classic script (no modules) that parses', () => {
    expect(() => new Script(PASSKEYS_SCRIPT, { filename: 'passkeys.js' })).not.to.throw();
    expect(PASSKEYS_SCRIPT).not.to.match(/^\s*(import|export)\b/m);
  });

  it('is one strict IIFE: it leaves no globals behind', () => {
    const code = PASSKEYS_SCRIPT.trim();
    expect(code.startsWith("(function () {\n  'use strict';")).to.equal(true);
    expect(code.endsWith('})();')).to.equal(true);
  });

  it('uses the WebAuthn Level 3 JSON methods, and checks for them first', () => {
    for (const name of ['parseCreationOptionsFromJSON', 'parseRequestOptionsFromJSON', 'toJSON']) {
      expect(PASSKEYS_SCRIPT).to.include(`typeof PKC.${name === 'toJSON' ? 'prototype.toJSON' : name} === 'function'`);
    }
    expect(PASSKEYS_SCRIPT).to.include('navigator.credentials.create(').and.include('navigator.credentials.get(');
  });

  it('writes text only as text, and sends the form token with its JSON requests', () => {
    expect(PASSKEYS_SCRIPT).not.to.match(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    expect(PASSKEYS_SCRIPT).to.include("headers['x-csrf-token'] = csrf.value");
    expect(PASSKEYS_SCRIPT).to.include("'content-type': 'application/json'");
  });

  it('copies the "Don\'t ask for a code on this browser" choice into a form that names the checkbox', () => {
    expect(PASSKEYS_SCRIPT).to.include("form.getAttribute('data-remember-from')");
    expect(PASSKEYS_SCRIPT).to.include("into.value = box instanceof HTMLInputElement && box.checked ? 'on' : ''");
    // Before the form leaves: the choice is read when the passkey answer is in.
    expect(PASSKEYS_SCRIPT.indexOf('copyRememberChoice(form);')).to.be.lessThan(PASSKEYS_SCRIPT.indexOf('HTMLFormElement.prototype.submit.call(form)'));
  });
});
