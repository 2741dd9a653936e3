/**
 * Linking an authenticator: `POST /2fa/setup` shows a pending secret,
 * `POST /2fa/setup/confirm` proves it with a code and activates it.
 * A user whose 2FA is already active must have passed it in this session.
 */
import { TwoFactorError } from '../../errors.ts';
import type { EnrolmentStarted } from '../../two-factor-service.ts';
import type { HttpSettings } from '../types.ts';
import { jsonAnswer } from '../negotiate.ts';
import { returnToOf, withReturnTo } from '../return-to.ts';
import { enrolDecision } from '../../session-policy.ts';
import { factsOf, keepVerified, markVerified } from '../session-state.ts';
import { notifyUser, page, pageBase, passkeyUrls, proofOf, requestInfo, requireUser, showOnPage, type RouteCall, type RouteUser } from './route-kit.ts';

/** Refuses, or checks the fresh code that `enrolDecision` asks for (see session-policy.ts). */
export async function allowedToEnrol(call: RouteCall, user: RouteUser, starting: boolean, backTo = `${call.r.prefix}/setup`): Promise<void> {
  const { req, r } = call;
  const facts = await factsOf(r, user.uid, user.session, true);
  const proof = proofOf(call, user);
  const decision = enrolDecision(user.session, facts, starting, proof !== undefined, r.recentVerificationMs, Date.now());
  if (decision === 'verify') throw new TwoFactorError('second_factor_required', { verifyUrl: `${r.prefix}/verify` });
  if (decision === 'step-up') throw new TwoFactorError('step_up_required', { stepUpUrl: withReturnTo(`${r.prefix}/step-up`, backTo) });
  if (decision === 'check-code') {
    await r.service.checkSecondFactor(user.uid, proof, requestInfo(req, 'setup'));
    keepVerified(req, r, user.session!, { verifiedAt: Date.now() });
  }
}

function setupPage({ req, r }: RouteCall, user: RouteUser, e: EnrolmentStarted, returnTo: string | undefined, err?: TwoFactorError, status = 200) {
  return page(r, r.views.setup({
    ...pageBase(req, r, returnTo, err),
    enrolmentId: e.enrolmentId, qrSvg: e.qrSvg, secret: e.secret, otpauthUri: e.otpauthUri,
    expiresAt: e.expiresAt, deviceName: e.deviceName, accountName: r.accountName(user.user), issuer: r.service.issuer,
    passkey: r.passkeys.enabled ? setupPasskeyLinks(r) : undefined,
  }), err ? err.status : status);
}

function setupPasskeyLinks(r: HttpSettings) {
  const { optionsUrl, registerUrl, scriptUrl } = passkeyUrls(r);
  return { optionsUrl, registerUrl, scriptUrl };
}

export async function startSetup(call: RouteCall) {
  const { req, r, body } = call;
  const user = requireUser(call);
  await allowedToEnrol(call, user, true);
  // A GET (a link or the account page's little form) names the device in the query.
  const isGet = req.method === 'GET' || req.method === 'HEAD';
  const name = isGet ? (req.query.name === '' ? undefined : req.query.name) : body.name;
  const started = await r.service.startEnrolment(user.uid, r.accountName(user.user), name, requestInfo(req, 'setup'));
  const created = isGet ? 200 : 201;
  if (!call.json) return setupPage(call, user, started, returnToOf(req.query, body), undefined, created);
  const { deviceName: _name, ...json } = started;
  return jsonAnswer(json, created);
}

export async function confirmSetup(call: RouteCall) {
  const { req, r, body } = call;
  const user = requireUser(call);
  await allowedToEnrol(call, user, false);
  const returnTo = returnToOf(req.query, body);
  let done;
  try {
    done = await r.service.confirmEnrolment(user.uid, body.enrolmentId, body.code, requestInfo(req, 'setup/confirm'));
  } catch (err) {
    // A browser sees the same QR code again with the error, while it is still pending.
    const pending = showOnPage(err, call.json)
      ? await r.service.resumeEnrolment(user.uid, body.enrolmentId, r.accountName(user.user)).catch(() => null)
      : null;
    if (pending) return setupPage(call, user, pending, returnTo, err as TwoFactorError);
    throw err;
  }
  // The first device: this session has just proven the second factor.
  if (done.backupCodes) await markVerified(req, r, user.uid, 'totp', done.generation, Date.now());
  notifyUser(call, user.uid, user.user, done.backupCodes ? 'activated' : 'device_added');
  if (call.json) return jsonAnswer({ state: done.state, deviceId: done.deviceId, ...(done.backupCodes ? { backupCodes: done.backupCodes } : {}) });
  return page(r, r.views.setupDone({
    ...pageBase(req, r, returnTo),
    backupCodes: done.backupCodes,
    continueUrl: returnTo ?? r.afterVerifyPath,
    deviceName: done.deviceName,
  }));
}
