/**
 * The second-factor gate. After the app's session and passport middleware,
 * a logged-in user whose 2FA is active reaches nothing but the 2FA routes,
 * logout and the app's public paths until the session passes the second
 * factor; a user required to set up 2FA reaches only setup.
 *
 * Cost on a verified session: no store read at all within `stateCacheMs`,
 * then one (record + policy) to notice disables, resets and policy changes.
 */
import type { Context, Middleware } from 'koa';
import { TwoFactorError } from '../core/errors.ts';
import { noStore, sendJsonError, wantsJson } from './negotiate.ts';
import type { Resolved } from './resolve-options.ts';
import { isVerified, readState } from './session-state.ts';

function isExempt(r: Resolved, path: string): boolean {
  if (path === r.prefix || path.startsWith(`${r.prefix}/`)) return true;
  if (path === r.logoutPath) return true;
  return r.publicPaths.some((p) => (typeof p === 'string' ? p === path : p.test(path)));
}

export function createGate(r: Resolved): Middleware {
  // When a session's cached state expires, its requests in flight share one
  // store read instead of each making its own.
  const inFlight = new Map<string, ReturnType<Resolved['service']['sessionState']>>();
  function readShared(uid: string) {
    let read = inFlight.get(uid);
    if (!read) {
      read = r.service.sessionState(uid).finally(() => inFlight.delete(uid));
      inFlight.set(uid, read);
    }
    return read;
  }

  return async function twoFactorGate(ctx: Context, next) {
    const uid = r.userId(ctx);
    if (uid === null || isExempt(r, ctx.path)) return next();
    const s = readState(ctx, r.sessionKey, uid);
    const now = Date.now();
    if (s.checkedAt === undefined || now - s.checkedAt >= r.stateCacheMs) {
      let fresh;
      try {
        fresh = await readShared(uid);
      } catch (err) {
        if (err instanceof TwoFactorError) return block(ctx, r, err);
        throw err;
      }
      s.state = fresh.state;
      s.checkedAt = now;
      if (isVerified(s) && s.generation !== fresh.generation) {
        // 2FA was enabled, disabled or reset elsewhere: verify again.
        delete s.verifiedAt;
        delete s.method;
      }
    }
    if (s.state === 'active' && !isVerified(s)) {
      return block(ctx, r, new TwoFactorError('second_factor_required', { verifyUrl: `${r.prefix}/verify` }));
    }
    if (s.state === 'pending') {
      return block(ctx, r, new TwoFactorError('two_factor_setup_required', { setupUrl: `${r.prefix}/setup` }));
    }
    return next();
  };
}

function block(ctx: Context, r: Resolved, err: TwoFactorError): void {
  noStore(ctx);
  if (wantsJson(ctx) || err.code === 'store_unavailable') {
    sendJsonErrorOrText(ctx, err);
    return;
  }
  const page = err.code === 'two_factor_setup_required' ? 'setup' : 'verify';
  const returnTo = ctx.method === 'GET' ? ctx.originalUrl : undefined;
  ctx.status = 303;
  ctx.redirect(`${r.prefix}/${page}${returnTo ? `?returnTo=${encodeURIComponent(returnTo)}` : ''}`);
}

function sendJsonErrorOrText(ctx: Context, err: TwoFactorError): void {
  if (wantsJson(ctx)) return sendJsonError(ctx, err);
  ctx.status = err.status;
  ctx.type = 'text/plain';
  ctx.body = err.message;
}
