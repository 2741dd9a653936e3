/**
 * The two challenges that take a code: `verify` (the gate's, after the
 * password) and `step-up` (sudo mode: refreshes the verification time of a
 * session that already passed). Both pages are the verify view.
 */
import type { TwoFactorError } from '../../errors.ts';
import type { TwoFactorStatus } from '../../account-actions.ts';
import { jsonAnswer, redirectAnswer } from '../negotiate.ts';
import { returnToOf } from '../return-to.ts';
import { readState, verifyLogin } from '../session-state.ts';
import type { HttpSettings } from '../types.ts';
import { acceptsEmailCode } from './email-code.ts';
import { acceptRememberedBrowser, asksToRemember, rememberThisBrowser } from '../remembered.ts';
import { maskAddress } from '../../email.ts';
import { takeNotice } from '../session-store.ts';
import { page, pageBase, passkeyUrls, proofOf, requestInfo, requireUser, showOnPage, verification, type RouteCall, type RouteHandler, type RouteUser } from './route-kit.ts';

export type Challenge = 'verify' | 'step-up';

const TITLES: Record<Challenge, string> = {
  verify: 'Two-factor authentication',
  'step-up': "Confirm it's you",
};

/** "Use a passkey" is offered to a user who has one, where passkeys are enabled. */
function passkeyLinks(r: HttpSettings, status: TwoFactorStatus | undefined) {
  if (!r.passkeys.enabled || !status?.devices.some((d) => d.kind === 'passkey')) return undefined;
  const urls = passkeyUrls(r);
  return { optionsUrl: urls.authenticationOptionsUrl, scriptUrl: urls.scriptUrl };
}

/** "Email me a code instead", where the app has the channel, this challenge takes emailed codes and the user has an address. */
function emailLinks(r: HttpSettings, user: RouteUser, kind: Challenge, status: TwoFactorStatus | undefined) {
  if (!r.email.enabled || !status || status.state !== 'active') return undefined;
  if (kind === 'step-up' && !r.email.allowForStepUp) return undefined;
  if (status.required && !r.email.allowForRequiredUsers) return undefined;
  const address = r.email.addressOf(user.user);
  return address ? { sendUrl: `${r.prefix}/email-code`, address: maskAddress(address) } : undefined;
}

/** "Don't ask for a code on this browser for N days": at login only, where the app remembers browsers and this user may use it. */
function rememberDays(r: HttpSettings, kind: Challenge, status: TwoFactorStatus | undefined): number | undefined {
  if (kind !== 'verify' || !r.remember.enabled || !status) return undefined;
  return r.remember.allowForRequiredUsers || !status.required ? r.remember.days : undefined;
}

export function challengePage(call: RouteCall, user: RouteUser, kind: Challenge, returnTo: string | undefined, status: TwoFactorStatus | undefined, err?: TwoFactorError, remaining?: number) {
  const { req, r } = call;
  return page(r, r.views.verify({
    ...pageBase(req, r, returnTo, err),
    action: `${r.prefix}/${kind}`,
    title: TITLES[kind],
    backupCodesRemaining: remaining,
    passkey: passkeyLinks(r, status),
    emailCode: emailLinks(r, user, kind, status),
    rememberDays: rememberDays(r, kind, status),
    notice: takeNotice(req, `${r.sessionKey}Notice`),
  }), err ? err.status : 200);
}

/**
 * A remembered browser sent to the login challenge (the usual login sends
 * every active user here, a path the gate does not guard) passes it as the
 * gate passes it on the app's own paths. True when the session is now verified.
 */
async function passedAsRemembered({ req, r }: RouteCall, user: RouteUser): Promise<boolean> {
  if (!r.remember.enabled) return false;
  const { facts, verified } = await verification(r, user);
  return facts.state === 'active' && !verified && acceptRememberedBrowser(req, r, user.uid);
}

export function showChallenge(kind: Challenge): RouteHandler {
  return async (call) => {
    const { r } = call;
    const user = requireUser(call);
    if (kind === 'verify' && await passedAsRemembered(call, user)) {
      if (!call.json) return redirectAnswer(returnToOf(call.req.query) ?? r.afterVerifyPath, 303);
      const verifiedAt = readState(call.req, r, user.uid)!.verifiedAt!;
      return jsonAnswer({ verified: true, verifiedAt: new Date(verifiedAt).toISOString() });
    }
    if (call.json) {
      // A bump elsewhere (disable, regeneration, removal) or a logout ends this session's verification, as in GET /2fa.
      const { verified } = await verification(r, user);
      return jsonAnswer({ verified, verifiedAt: verified ? new Date(user.session!.verifiedAt!).toISOString() : null });
    }
    const status = await r.service.status(user.uid);
    return challengePage(call, user, kind, returnToOf(call.req.query), status, undefined, status.backupCodesRemaining);
  };
}

export function answerChallenge(kind: Challenge): RouteHandler {
  return async (call) => {
    const { req, r, body } = call;
    // Step-up from a password-only session is simply the first verification.
    const user = requireUser(call);
    const { uid } = user;
    const returnTo = returnToOf(req.query, body);
    let checked;
    try {
      const proof = proofOf(call, user);
      const info = { ...requestInfo(req, kind), emailCode: await acceptsEmailCode(r, user, kind) };
      checked = await verifyLogin(req, r, uid, () => r.service.checkSecondFactor(uid, proof, info));
    } catch (err) {
      if (showOnPage(err, call.json)) {
        // The refusal is what the person must see: a store that cannot say which devices they have only costs the passkey button.
        const status = await r.service.status(uid).catch(() => undefined);
        return challengePage(call, user, kind, returnTo, status, err);
      }
      throw err;
    }
    const remembered = kind === 'verify' && asksToRemember(body.remember) && await rememberThisBrowser(req, r, uid, checked.generation);
    if (!call.json) return redirectAnswer(returnTo ?? r.afterVerifyPath, 303);
    const verifiedAt = readState(req, r, uid)!.verifiedAt!;
    return jsonAnswer({ verified: true, method: checked.method, backupCodesRemaining: checked.backupCodesRemaining, verifiedAt: new Date(verifiedAt).toISOString(), ...(remembered ? { remembered: true } : {}) });
  };
}
