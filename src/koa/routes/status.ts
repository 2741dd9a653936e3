/** `GET /2fa`: the user's 2FA status, the session's, and a CSRF token. */
import type Router from '@koa/router';
import { csrfToken } from '../csrf.ts';
import type { Resolved } from '../resolve-options.ts';
import { requireUser, verification, wantsJson } from './route-kit.ts';
import { accountPage } from './account.ts';

export function statusRoutes(router: Router, r: Resolved): void {
  router.get('/', async (ctx) => {
    const user = requireUser(ctx, r);
    const { uid, session } = user;
    const [status, { verified }] = await Promise.all([r.service.status(uid), verification(r, user)]);
    const { generation: _generation, devices, backupCodesRemaining, ...rest } = status;
    if (!wantsJson(ctx)) {
      if (status.state === 'active' && !verified) {
        ctx.redirect(`${r.prefix}/verify?returnTo=${encodeURIComponent(r.prefix)}`);
        return;
      }
      return accountPage(ctx, r, uid);
    }
    // Before the second factor, only what the verify page needs: a password
    // alone must not list the account's devices or its backup codes.
    const secondFactorPassed = verified || status.state !== 'active';
    ctx.body = {
      ...rest,
      ...(secondFactorPassed ? { devices, backupCodesRemaining } : {}),
      session: {
        verified,
        verifiedAt: verified ? new Date(session!.verifiedAt!).toISOString() : null,
        method: verified ? (session!.method ?? null) : null,
      },
      csrfToken: csrfToken(ctx, r.sessionKey),
    };
  });
}
