/**
 * The second-factor gate. After the app's session and passport middleware,
 * and before its own routes (login and logout included), a logged-in user
 * whose 2FA is active reaches nothing but the 2FA routes, logout and the
 * app's public paths until this login passes the second factor; a user
 * required to set up 2FA reaches only setup.
 *
 * A second factor belongs to one login. The gate ends it whenever it sees
 * the login end, whatever the app does or forgets at logout: a request with
 * no user, a request to `logoutPath`, a request during which the user
 * changed or went away (the adapter calls `afterRequest` once the app is done).
 *
 * Cost on a verified session: no store call within `stateCacheMs`, then one
 * read (record, policy, login) shared by the login's requests in flight.
 */
import { TwoFactorError, isTwoFactorError } from '../errors.ts';
import { toTwoFactorError } from '../error-classes.ts';
import { gateDecision } from '../session-policy.ts';
import { defaultErrorPage, errorAnswer } from './error-answer.ts';
import { redirectAnswer, wantsJson } from './negotiate.ts';
import { withReturnTo } from './return-to.ts';
import { acceptRememberedBrowser } from './remembered.ts';
import { currentNamespace, endSecondFactor, factsOf, tagLogin } from './session-state.ts';
import type { Answer, HttpRequest, HttpSettings, SessionLike } from './types.ts';

/** Exact path match, or under a directory-like prefix: `/2fa/x` is under `/2fa`, `/2faX` is not. */
export function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function isExempt(r: HttpSettings, path: string): boolean {
  if (isUnder(path, r.prefix) || path === r.logoutPath) return true;
  return r.publicPaths.some((p) => (typeof p === 'string' ? p === path : p.test(path)));
}

/** What the gate says: an answer that stops the request, or go on (and call `afterRequest` when done). */
export type GateOutcome = { answer: Answer } | { answer?: undefined; afterRequest(): Promise<void> };

const NOTHING_AFTER = { afterRequest: async () => {} };

const MOUNT_ORDER = 'koa-two-factor: a session holds a Passport login but the gate sees no user, so it lets the request through as logged out. Mount tf.gate after passport.session() (or check the getUser option).';

/** Passport keeps its login in `session.passport.user`; it drops it itself when the user no longer deserializes. */
function holdsPassportLogin(session: SessionLike | null): boolean {
  const passport = session?.passport;
  return typeof passport === 'object' && passport !== null && (passport as { user?: unknown }).user !== undefined;
}

export async function gate(r: HttpSettings, req: HttpRequest): Promise<GateOutcome> {
  const user = req.user();
  if (!user) {
    if (holdsPassportLogin(req.session())) r.warnOnce('mount-order', MOUNT_ORDER);
    // Logged out, by whatever route: an earlier login's second factor ends here.
    await endSecondFactor(req, r);
    return NOTHING_AFTER;
  }
  let uid: string;
  try {
    uid = r.userId(user)!;
  } catch (err) {
    // A user whose id cannot be read is refused, never let through.
    if (isTwoFactorError(err) && !isExempt(r, req.path)) return { answer: block(req, r, err) };
    return NOTHING_AFTER;
  }
  if (req.path === r.logoutPath) {
    await endSecondFactor(req, r);
    return NOTHING_AFTER;
  }
  if (!isExempt(r, req.path)) {
    const s = await tagLogin(req, r, uid);
    let decision;
    try {
      decision = gateDecision(s, await factsOf(r, uid, s, false));
      // A browser the user chose to remember passes for them (one more store read, only on unverified logins).
      if (decision === 'verify' && r.remember.enabled && await acceptRememberedBrowser(req, r, uid)) decision = 'pass';
    } catch (thrown) {
      const err = toTwoFactorError(thrown);
      if (err) return { answer: block(req, r, err) };
      throw thrown;
    }
    if (decision === 'verify') return { answer: block(req, r, new TwoFactorError('second_factor_required', { verifyUrl: `${r.prefix}/verify` })) };
    if (decision === 'setup') return { answer: block(req, r, new TwoFactorError('two_factor_setup_required', { setupUrl: `${r.prefix}/setup` })) };
  }
  const before = currentNamespace(req, r);
  return {
    // A logout, or a login as someone else, inside this request: the second
    // factor passed before belonged to the earlier login. Compared by id,
    // not object: a `getUser` may build a new object on every call.
    async afterRequest() {
      const after = req.user();
      if (after !== user && (!after || r.userIdOf(after) !== uid)) await endSecondFactor(req, r, before);
    },
  };
}

/** A browser is sent to the page that lifts the block (back here afterwards, for a GET); anything else gets the error. */
function block(req: HttpRequest, r: HttpSettings, err: TwoFactorError): Answer {
  const page = err.code === 'two_factor_setup_required' ? 'setup' : err.code === 'second_factor_required' ? 'verify' : undefined;
  if (page === undefined || wantsJson(req)) return errorAnswer(req, err, { page: defaultErrorPage, contentSecurityPolicy: r.contentSecurityPolicy });
  return redirectAnswer(withReturnTo(`${r.prefix}/${page}`, req.method === 'GET' ? req.url : undefined), 303);
}
