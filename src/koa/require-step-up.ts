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
import { isVerified, readState } from './session-state.ts';

export interface StepUpOptions {
  /** Longest time since the second factor, in ms; unset = any verified session. */
  maxAge?: number | undefined;
  /** Why 2FA is needed, shown on the "Activate now / later" page. */
  reason?: string | undefined;
}

export const DEFAULT_STEP_UP_REASON = 'This action needs two-factor authentication.';

/** Where the browser should come back to: this URL for a GET, else the page the form was on. */
function actionUrl(ctx: Context, fallback: string): string {
  if (ctx.method === 'GET') return ctx.originalUrl;
  const referer = ctx.get('referer');
  if (referer) {
    try {
      const u = new URL(referer);
      if (u.origin === ctx.origin) return safeReturnTo(u.pathname + u.search) ?? fallback;
    } catch { /* not a URL: use the fallback */ }
  }
  return fallback;
}

export function createRequireStepUp(r: Resolved) {
  return function requireStepUp(o: StepUpOptions = {}): Middleware {
    return async function stepUp(ctx: Context, next) {
      const uid = r.userId(ctx);
      try {
        if (uid === null) throw new TwoFactorError('unauthenticated', { loginUrl: r.loginPath });
        const { state, generation } = await r.service.sessionState(uid);
        const back = actionUrl(ctx, r.afterVerifyPath);
        if (state !== 'active') {
          throw new TwoFactorError('two_factor_setup_required', { setupUrl: `${r.prefix}/setup?returnTo=${encodeURIComponent(back)}` });
        }
        const s = readState(ctx, r.sessionKey, uid);
        const fresh = isVerified(s) && s.generation === generation && (o.maxAge === undefined || Date.now() - s.verifiedAt! <= o.maxAge);
        if (!fresh) throw new TwoFactorError('step_up_required', { stepUpUrl: `${r.prefix}/step-up?returnTo=${encodeURIComponent(back)}` });
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
  if (err.code === 'two_factor_setup_required') {
    const referer = safeReturnTo(ctx.get('referer') ? new URL(ctx.get('referer'), ctx.origin).pathname : undefined);
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
