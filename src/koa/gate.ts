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
 * changed or went away (`ctx.logout()`, `ctx.login()`).
 *
 * Cost on a verified session: no store call within `stateCacheMs`, then one
 * read (record, policy, login) shared by the login's requests in flight.
 */
import type { Context, Middleware, Next } from 'koa';
import { gateDecision } from '../core/session-policy.ts';
import { TwoFactorError } from '../core/errors.ts';
import { noStore, sendJsonError, toTwoFactorError, wantsJson } from './negotiate.ts';
import type { Resolved } from './resolve-options.ts';
import { currentNamespace, endSecondFactor, factsOf, tagLogin } from './session-state.ts';

/** Exact path match, or under a directory-like prefix: `/2fa/x` is under `/2fa`, `/2faX` is not. */
function isUnder(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

function isExempt(r: Resolved, path: string): boolean {
  if (isUnder(path, r.prefix) || path === r.logoutPath) return true;
  return r.publicPaths.some((p) => (typeof p === 'string' ? p === path : p.test(path)));
}

export function createGate(r: Resolved): Middleware {
  let warnedProxy = false;

  return async function twoFactorGate(ctx: Context, next: Next) {
    if (!warnedProxy && ctx.app.proxy && !ctx.app.maxIpsCount) {
      warnedProxy = true;
      r.log('koa-two-factor: app.proxy is on without app.maxIpsCount, so ctx.ip is the leftmost X-Forwarded-For entry, which any client can set: the per-IP limit can be dodged. Set app.maxIpsCount to the number of proxies in front of the app.');
    }
    const user = r.user(ctx);
    if (!user) {
      // Logged out, by whatever route: an earlier login's second factor ends here.
      await endSecondFactor(ctx, r);
      return next();
    }
    let uid: string;
    try {
      uid = r.userId(ctx)!;
    } catch (err) {
      // A user whose id cannot be read is refused, never let through.
      if (err instanceof TwoFactorError && !isExempt(r, ctx.path)) return block(ctx, r, err);
      return next();
    }
    if (ctx.path === r.logoutPath) {
      await endSecondFactor(ctx, r);
      return next();
    }
    if (!isExempt(r, ctx.path)) {
      const s = await tagLogin(ctx, r, uid);
      let facts;
      try {
        facts = await factsOf(r, uid, s, false);
      } catch (thrown) {
        const err = toTwoFactorError(thrown);
        if (err) return block(ctx, r, err);
        throw thrown;
      }
      const decision = gateDecision(s, facts);
      if (decision === 'verify') return block(ctx, r, new TwoFactorError('second_factor_required', { verifyUrl: `${r.prefix}/verify` }));
      if (decision === 'setup') return block(ctx, r, new TwoFactorError('two_factor_setup_required', { setupUrl: `${r.prefix}/setup` }));
    }
    const before = currentNamespace(ctx, r);
    await next();
    // A logout, or a login as someone else, inside this request
    // (`ctx.logout()`, perhaps with `ctx.session = null`; `ctx.login()`): the
    // second factor passed before belonged to the earlier login. Compared by
    // id, not object: a `getUser` may build a new object on every call.
    const after = r.user(ctx);
    if (after !== user && (!after || r.userIdOf(after) !== uid)) await endSecondFactor(ctx, r, before);
  };
}

function block(ctx: Context, r: Resolved, err: TwoFactorError): void {
  noStore(ctx);
  if (wantsJson(ctx)) return sendJsonError(ctx, err);
  if (err.code !== 'second_factor_required' && err.code !== 'two_factor_setup_required') {
    ctx.status = err.status;
    ctx.type = 'text/plain';
    ctx.body = err.message;
    return;
  }
  const page = err.code === 'two_factor_setup_required' ? 'setup' : 'verify';
  const returnTo = ctx.method === 'GET' ? ctx.originalUrl : undefined;
  ctx.status = 303;
  ctx.redirect(`${r.prefix}/${page}${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`);
}
