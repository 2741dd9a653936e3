/**
 * `requireStepUp({ maxAge })`: put it in front of a privileged route.
 * - 2FA not active → 403 `two_factor_setup_required`, or a page offering
 *   "Activate now" (setup, then back here) and "Activate later";
 * - active but this session has not passed it, or passed it more than
 *   `maxAge` ms ago → 403 `step_up_required`, or the step-up page;
 * - without `maxAge`, passing 2FA at login is enough.
 * It reads the user's state from the store (one read): a privileged action is
 * worth it, and it must not trust a cache about a reset or a disable.
 */
import { TwoFactorError } from '../errors.ts';
import { toTwoFactorError } from '../error-classes.ts';
import { isRecent } from '../session-policy.ts';
import { checkCsrfReadingBody } from './csrf.ts';
import { defaultErrorPage, errorAnswer } from './error-answer.ts';
import { pageAnswer, redirectAnswer, wantsJson } from './negotiate.ts';
import { refererPath, withReturnTo } from './return-to.ts';
import { pageBase, recordBody } from './routes/route-kit.ts';
import { factsOf, readState } from './session-state.ts';
import type { Answer, HttpRequest, HttpSettings } from './types.ts';

export interface StepUpOptions {
  /** Longest time since the second factor, in ms; unset = any verified session. */
  maxAge?: number | undefined;
  /** Why 2FA is needed, shown on the "Activate now / later" page. Default `DEFAULT_STEP_UP_REASON`. */
  reason?: string | undefined;
  /**
   * Check the package's CSRF rule on unsafe methods (the token from
   * `tf.csrfToken(…)` in header `x-csrf-token` or field `_csrf`, or a
   * same-origin JSON request). Default `DEFAULT_STEP_UP_CSRF` (on); turn it
   * off only where the app protects the route itself.
   */
  csrf?: boolean | undefined;
}

export const DEFAULT_STEP_UP_CSRF = true;

export const DEFAULT_STEP_UP_REASON = 'This action needs two-factor authentication.';

/** Where the browser should come back to: this URL for a GET, else the page the form was on. */
function actionUrl(req: HttpRequest, fallback: string): string {
  return req.method === 'GET' ? req.url : refererPath(req.header('referer'), req.ownOrigin) ?? fallback;
}

/** null: the request may go on to the privileged action; else the answer that stops it. */
export async function stepUp(r: HttpSettings, req: HttpRequest, o: StepUpOptions): Promise<Answer | null> {
  try {
    const uid = r.userId(req.user());
    if (uid === null) throw new TwoFactorError('unauthenticated', { loginUrl: r.loginPath });
    // Before anything is decided or started: a cross-site form must not reach the action.
    if (o.csrf ?? DEFAULT_STEP_UP_CSRF) await checkCsrfReadingBody(req, r.sessionKey, async () => recordBody(await req.readBody(), false));
    const s = readState(req, r, uid);
    const facts = await factsOf(r, uid, s, true);
    const back = actionUrl(req, r.afterVerifyPath);
    if (facts.state !== 'active') {
      throw new TwoFactorError('two_factor_setup_required', { setupUrl: withReturnTo(`${r.prefix}/setup`, back) });
    }
    if (!isRecent(s, facts, o.maxAge, Date.now())) {
      throw new TwoFactorError('step_up_required', { stepUpUrl: withReturnTo(`${r.prefix}/step-up`, back) });
    }
    return null;
  } catch (thrown) {
    const err = toTwoFactorError(thrown);
    if (!err) throw thrown;
    return refusal(req, r, err, o);
  }
}

/**
 * Where the "2FA is on" notice will go, in full: this person's password is
 * all their account has, and they should see whether the address is right.
 * Only when the app sends notices and knows the address.
 */
function noticeAddress(r: HttpSettings, req: HttpRequest): string | undefined {
  if (!r.email.enabled || !r.email.notifications) return undefined;
  return r.email.addressOf(req.user());
}

function refusal(req: HttpRequest, r: HttpSettings, err: TwoFactorError, o: StepUpOptions): Answer {
  const browser = !wantsJson(req);
  if (browser && err.code === 'two_factor_setup_required') {
    return pageAnswer(r.views.setupRequired({
      ...pageBase(req, r, undefined),
      activateUrl: String(err.details.setupUrl),
      laterUrl: refererPath(req.header('referer'), req.ownOrigin) ?? r.afterVerifyPath,
      reason: o.reason ?? DEFAULT_STEP_UP_REASON,
      emailAddress: noticeAddress(r, req),
    }), r.contentSecurityPolicy, 403);
  }
  // A form post cannot be replayed by a redirect: ask here, then go back to the page it came from.
  if (browser && err.code === 'step_up_required') return redirectAnswer(String(err.details.stepUpUrl), req.method === 'GET' ? 302 : 303);
  return errorAnswer(req, err, { page: defaultErrorPage, contentSecurityPolicy: r.contentSecurityPolicy });
}
