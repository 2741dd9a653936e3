/**
 * The two challenges that take a code: `verify` (the gate's, after the
 * password) and `step-up` (sudo mode: refreshes the verification time of a
 * session that already passed). Both pages are the verify view.
 */
import type { Context } from 'koa';
import type Router from '@koa/router';
import { TwoFactorError } from '../../core/errors.ts';
import type { Resolved } from '../resolve-options.ts';
import { readState, verifyLogin } from '../session-state.ts';
import { bodyOf, pageBase, requestInfo, requireUser, returnToOf, sendPage, verification, wantsJson } from './route-kit.ts';

type Challenge = 'verify' | 'step-up';

const TITLES: Record<Challenge, string> = {
  verify: 'Two-factor authentication',
  'step-up': "Confirm it's you",
};

function challengePage(ctx: Context, r: Resolved, kind: Challenge, returnTo: string | undefined, err?: TwoFactorError, remaining?: number): void {
  sendPage(ctx, r, r.views.verify({
    ...pageBase(ctx, r, returnTo, err),
    action: `${r.prefix}/${kind}`,
    title: TITLES[kind],
    backupCodesRemaining: remaining,
  }), err ? err.status : 200);
}

export function challengeRoutes(router: Router, r: Resolved): void {
  for (const kind of ['verify', 'step-up'] as const) {
    router.get(`/${kind}`, async (ctx) => {
      const user = requireUser(ctx, r);
      const { uid, session } = user;
      if (wantsJson(ctx)) {
        // A bump elsewhere (disable, regeneration, removal) or a logout ends this session's verification, as in GET /2fa.
        const { verified } = await verification(r, user);
        ctx.body = { verified, verifiedAt: verified ? new Date(session!.verifiedAt!).toISOString() : null };
        return;
      }
      const status = await r.service.status(uid);
      challengePage(ctx, r, kind, returnToOf(ctx), undefined, status.backupCodesRemaining);
    });

    router.post(`/${kind}`, async (ctx) => {
      // Step-up from a password-only session is simply the first verification.
      const { uid } = requireUser(ctx, r);
      const body = bodyOf(ctx);
      const returnTo = returnToOf(ctx, body);
      let checked;
      try {
        checked = await verifyLogin(ctx, r, uid, () => r.service.checkSecondFactor(uid, body.code, requestInfo(ctx, kind)));
      } catch (err) {
        if (err instanceof TwoFactorError && err.code !== 'store_unavailable' && !wantsJson(ctx)) {
          return challengePage(ctx, r, kind, returnTo, err);
        }
        throw err;
      }
      if (wantsJson(ctx)) {
        const verifiedAt = readState(ctx, r, uid)!.verifiedAt!;
        ctx.body = { verified: true, method: checked.method, backupCodesRemaining: checked.backupCodesRemaining, verifiedAt: new Date(verifiedAt).toISOString() };
        return;
      }
      ctx.status = 303;
      ctx.redirect(returnTo ?? r.afterVerifyPath);
    });
  }
}
