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
import type { Context, Middleware } from 'koa';
import { TwoFactorError } from '../core/errors.ts';
import { noStore, safeReturnTo, sendJsonError, wantsJson } from './negotiate.ts';
import type { Resolved } from './resolve-options.ts';
import { pageBase, sendPage } from './routes/route-kit.ts';
import { factsOf, readState } from './session-state.ts';
import { isRecent } from '../core/session-policy.ts';
import { checkCsrfReadingBody } from './csrf.ts';

export interface StepUpOptions {
  /** Longest time since the second factor, in ms; unset = any verified session. */
  maxAge?: number | undefined;
  /** Why 2FA is needed, shown on the "Activate now / later" page. */
  reason?: string | undefined;
  /**
   * Check the package's CSRF rule on unsafe methods (the token from
   * `tf.csrfToken(ctx)` in header `x-csrf-token` or field `_csrf`, or a
   * same-origin JSON request). Default `DEFAULT_STEP_UP_CSRF` (on); turn it
   * off only where the app protects the route itself.
   */
  csrf?: boolean | undefined;
}

export const DEFAULT_STEP_UP_CSRF = true;

export const DEFAULT_STEP_UP_REASON = 'This action needs two-factor authentication.';

/** The local path of a same-origin Referer, or undefined (none, not a URL, another site). */
function refererPath(ctx: Context): string | undefined {
  try {
    // Not `ctx.origin`: in Koa 3 that is the request's Origin header, not this server's origin.
    const u = new URL(ctx.get('referer'));
    return u.origin === `${ctx.protocol}://${ctx.host}` ? safeReturnTo(u.pathname + u.search) : undefined;
  } catch {
    return undefined;
  }
}

/** Where the browser should come back to: this URL for a GET, else the page the form was on. */
function actionUrl(ctx: Context, fallback: string): string {
  return ctx.method === 'GET' ? ctx.originalUrl : refererPath(ctx) ?? fallback;
}

export function createRequireStepUp(r: Resolved) {
  return function requireStepUp(o: StepUpOptions = {}): Middleware {
    return async function stepUp(ctx: Context, next) {
      try {
        const uid = r.userId(ctx);
        if (uid === null) throw new TwoFactorError('unauthenticated', { loginUrl: r.loginPath });
        // Before anything is decided or started: a cross-site form must not reach the action.
        if (o.csrf ?? DEFAULT_STEP_UP_CSRF) await checkCsrfReadingBody(ctx, r.sessionKey);
        const s = readState(ctx, r, uid);
        const facts = await factsOf(r, uid, s, true);
        const back = actionUrl(ctx, r.afterVerifyPath);
        if (facts.state !== 'active') {
          throw new TwoFactorError('two_factor_setup_required', { setupUrl: `${r.prefix}/setup?returnTo=${encodeURIComponent(back)}` });
        }
        if (!isRecent(s, facts, o.maxAge, Date.now())) {
          throw new TwoFactorError('step_up_required', { stepUpUrl: `${r.prefix}/step-up?returnTo=${encodeURIComponent(back)}` });
        }
      } catch (err) {
        if (!(err instanceof TwoFactorError)) throw err;
        noStore(ctx);
        if (wantsJson(ctx) || err.code === 'store_unavailable') return sendJsonError(ctx, err);
        return answerBrowser(ctx, r, err, o);
      }
      return next();
    };
  };
}

function answerBrowser(ctx: Context, r: Resolved, err: TwoFactorError, o: StepUpOptions): void {
  if (err.code === 'unauthenticated') return ctx.redirect(r.loginPath);
  if (err.code !== 'two_factor_setup_required' && err.code !== 'step_up_required') {
    ctx.status = err.status;
    ctx.type = 'text/plain';
    ctx.body = err.message;
    return;
  }
  if (err.code === 'two_factor_setup_required') {
    const referer = refererPath(ctx);
    sendPage(ctx, r, r.views.setupRequired({
      ...pageBase(ctx, r, undefined),
      activateUrl: String(err.details.setupUrl),
      laterUrl: referer ?? r.afterVerifyPath,
      reason: o.reason ?? DEFAULT_STEP_UP_REASON,
    }), 403);
    return;
  }
  if (ctx.method !== 'GET' && err.code === 'step_up_required') {
    // A form post cannot be replayed by a redirect: ask here, then go back to the page it came from.
    ctx.status = 303;
  }
  ctx.redirect(String(err.details.stepUpUrl));
}
