/**
 * Passkeys and security keys: `POST /2fa/passkeys/options` then
 * `POST /2fa/passkeys` link one (the same rule as linking an authenticator
 * app); `POST /2fa/passkeys/authentication-options` gives the challenge that
 * `POST /2fa/verify`, `/2fa/step-up` and the account actions accept a passkey
 * answer for (field `passkey`); `GET /2fa/assets/passkeys.js` is the pages' script.
 */
import { TwoFactorError } from '../../errors.ts';
import { PASSKEYS_SCRIPT } from '../../../../views/assets/passkeys-script.ts';
import { jsonAnswer, redirectAnswer } from '../negotiate.ts';
import { returnToOf } from '../return-to.ts';
import { challengeBinding, markVerified } from '../session-state.ts';
import { sessionOf } from '../session-store.ts';
import type { Answer, HttpSettings } from '../types.ts';
import { jsonField, notifyUser, page, pageBase, relyingParty, requestInfo, requireUser, type RouteCall } from './route-kit.ts';
import { allowedToEnrol } from './setup.ts';

function requirePasskeys(r: HttpSettings): void {
  if (!r.passkeys.enabled) throw new TwoFactorError('forbidden', {}, 'Passkeys are not enabled here.');
}

export async function registrationOptions(call: RouteCall): Promise<Answer> {
  const { req, r } = call;
  requirePasskeys(r);
  const user = requireUser(call);
  // A step-up on the way returns to the account page, where "Add a passkey" is.
  await allowedToEnrol(call, user, true, r.prefix);
  const binding = await challengeBinding(req, r, user.uid);
  return jsonAnswer(await r.service.passkeyRegistrationOptions(user.uid, r.accountName(user.user), binding, relyingParty(req, r)));
}

export async function register(call: RouteCall): Promise<Answer> {
  const { req, r, body } = call;
  requirePasskeys(r);
  const user = requireUser(call);
  await allowedToEnrol(call, user, false, r.prefix);
  const done = await r.service.registerPasskey(
    user.uid, body.name, jsonField(body.credential, 'credential'), user.session?.binding, relyingParty(req, r), requestInfo(req, 'passkeys'),
  );
  // The first device: this session has just proven the second factor.
  if (done.backupCodes) await markVerified(req, r, user.uid, 'passkey', done.generation, Date.now());
  notifyUser(call, user.uid, user.user, done.backupCodes ? 'activated' : 'device_added');
  if (call.json) return jsonAnswer({ state: done.state, deviceId: done.deviceId, ...(done.backupCodes ? { backupCodes: done.backupCodes } : {}) }, 201);
  const returnTo = returnToOf(req.query, body);
  if (done.backupCodes) {
    return page(r, r.views.setupDone({ ...pageBase(req, r, returnTo), backupCodes: done.backupCodes, continueUrl: returnTo ?? r.afterVerifyPath, deviceName: done.deviceName }), 201);
  }
  sessionOf(req)[`${r.sessionKey}Notice`] = `The passkey “${done.deviceName}” was added.`;
  return redirectAnswer(returnTo ?? r.prefix, 303);
}

export async function authenticationOptions(call: RouteCall): Promise<Answer> {
  const { req, r } = call;
  requirePasskeys(r);
  const user = requireUser(call);
  const binding = await challengeBinding(req, r, user.uid);
  return jsonAnswer(await r.service.passkeyAuthenticationOptions(user.uid, binding, relyingParty(req, r)));
}

/**
 * The pages' script: same origin, so the default Content-Security-Policy
 * allows it with `script-src 'self'`. Its URL carries a hash of it
 * (`passkeyUrls`), so it is cached for good and a new version is a new URL.
 */
export async function script(): Promise<Answer> {
  return { kind: 'asset', status: 200, contentType: 'text/javascript; charset=utf-8', body: PASSKEYS_SCRIPT, headers: { 'Cache-Control': 'public, max-age=31536000, immutable' } };
}
