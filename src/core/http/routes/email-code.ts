/**
 * `POST /2fa/email-code`: "Email me a code instead" on the verify (and, when
 * the app allows it, step-up) page. The code then goes to `POST /2fa/verify`
 * like any other.
 */
import { TwoFactorError } from '../../errors.ts';
import { jsonAnswer, redirectAnswer } from '../negotiate.ts';
import { returnToOf, withReturnTo } from '../return-to.ts';
import { sessionOf } from '../session-store.ts';
import type { Answer, HttpSettings } from '../types.ts';
import type { TwoFactorStatus } from '../../account-actions.ts';
import { challengePage } from './challenge.ts';
import { requestInfo, requireUser, showOnPage, type RouteCall, type RouteUser } from './route-kit.ts';

/** The user's address if emailed codes are offered to them (with their `status`), else the reason as an error. */
function emailCodeAddress(r: HttpSettings, user: RouteUser, status: TwoFactorStatus): string {
  if (status.state !== 'active') throw new TwoFactorError('conflict', {}, 'Two-factor authentication is not active for this account.');
  if (status.required && !r.email.allowForRequiredUsers) throw new TwoFactorError('forbidden', {}, 'Email codes are not offered for this account. Use your authenticator, a passkey or a backup code.');
  const address = r.email.addressOf(user.user);
  if (!address) throw new TwoFactorError('conflict', {}, 'No email address is known for this account.');
  return address;
}

/** Whether an emailed code is accepted by this challenge for this user (the gate's verify; step-up only when allowed). */
export async function acceptsEmailCode(r: HttpSettings, user: RouteUser, kind: 'verify' | 'step-up'): Promise<boolean> {
  if (!r.email.enabled || (kind === 'step-up' && !r.email.allowForStepUp)) return false;
  if (r.email.allowForRequiredUsers) return true;
  return !(await r.service.status(user.uid)).required;
}

/**
 * Sends the code. A browser goes back to its challenge page (field `kind`:
 * `verify`, or `step-up`), with a notice naming the (masked) address, or
 * with the reason it was not sent.
 */
export async function sendEmailCode(call: RouteCall): Promise<Answer> {
  const { req, r, body } = call;
  const user = requireUser(call);
  const kind = body.kind === 'step-up' ? 'step-up' : 'verify';
  const returnTo = returnToOf(req.query, body);
  let sent;
  // Read once: the address check and a refusal's page both need it.
  let status: TwoFactorStatus | undefined;
  try {
    if (!r.email.enabled) throw new TwoFactorError('forbidden', {}, 'Email codes are not enabled here.');
    // A code the challenge would refuse must not be sent (nor use up a send).
    if (kind === 'step-up' && !r.email.allowForStepUp) throw new TwoFactorError('forbidden', {}, 'Step-up does not accept emailed codes here. Use your authenticator, a passkey or a backup code.');
    status = await r.service.status(user.uid);
    sent = await r.service.sendEmailCode(user.uid, emailCodeAddress(r, user, status), requestInfo(req, 'email-code'));
  } catch (err) {
    if (showOnPage(err, call.json)) {
      status ??= await r.service.status(user.uid).catch(() => undefined);
      return challengePage(call, user, kind, returnTo, status, err);
    }
    throw err;
  }
  if (call.json) return jsonAnswer({ sent: true, to: sent.to, expiresAt: sent.expiresAt });
  sessionOf(req)[`${r.sessionKey}Notice`] = `We sent a code to ${sent.to}. It works once, for a few minutes.`;
  return redirectAnswer(withReturnTo(`${r.prefix}/${kind}`, returnTo), 303);
}
