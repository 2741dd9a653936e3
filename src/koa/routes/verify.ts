/** The gate's challenge: `GET /2fa/verify` (page) and `POST /2fa/verify`. */
import type { Context } from 'koa';
import type Router from '@koa/router';
import { TwoFactorError } from '../../core/errors.ts';
import type { Resolved } from '../resolve-options.ts';
import { markVerified } from '../session-state.ts';
import { bodyOf, pageBase, requestInfo, requireUser, returnToOf, sendPage, wantsJson } from './route-kit.ts';

function verifyPage(ctx: Context, r: Resolved, returnTo: string | undefined, err?: TwoFactorError, remaining?: number): void {
  sendPage(ctx, r.views.verify({
    ...pageBase(ctx, r, returnTo, err),
    action: `${r.prefix}/verify`,
    title: 'Two-factor authentication',
    backupCodesRemaining: remaining,
  }), err ? err.status : 200);
}

export function verifyRoutes(router: Router, r: Resolved): void {
  router.get('/verify', async (ctx) => {
    const { uid, session } = requireUser(ctx, r);
    if (wantsJson(ctx)) {
      ctx.body = { verified: session.verifiedAt !== undefined };
      return;
    }
    const status = await r.service.status(uid);
    verifyPage(ctx, r, returnToOf(ctx), undefined, status.backupCodesRemaining);
  });

  router.post('/verify', async (ctx) => {
    const { uid } = requireUser(ctx, r);
    const body = bodyOf(ctx);
    const returnTo = returnToOf(ctx, body);
    let checked;
    try {
      checked = await r.service.checkSecondFactor(uid, body.code, requestInfo(ctx, 'verify'));
    } catch (err) {
      if (err instanceof TwoFactorError && err.code !== 'store_unavailable' && !wantsJson(ctx)) {
        return verifyPage(ctx, r, returnTo, err);
      }
      throw err;
    }
    await markVerified(ctx, r.sessionKey, uid, checked.method, checked.generation, Date.now());
    if (wantsJson(ctx)) {
      ctx.body = { verified: true, method: checked.method, backupCodesRemaining: checked.backupCodesRemaining };
      return;
    }
    ctx.status = 303;
    ctx.redirect(returnTo ?? r.afterVerifyPath);
  });
}
