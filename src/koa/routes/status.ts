/** `GET /2fa`: the user's 2FA status, the session's, and a CSRF token. */
import type Router from '@koa/router';
import { csrfToken } from '../csrf.ts';
import type { Resolved } from '../resolve-options.ts';
import { requireUser, wantsJson } from './route-kit.ts';
import { accountPage } from './account.ts';

export function statusRoutes(router: Router, r: Resolved): void {
  router.get('/', async (ctx) => {
    const { uid, session } = requireUser(ctx, r);
    const status = await r.service.status(uid);
    const { generation, ...rest } = status;
    const verified = session.verifiedAt !== undefined && session.generation === generation;
    if (!wantsJson(ctx)) {
      if (status.state === 'active' && !verified) {
        ctx.redirect(`${r.prefix}/verify?returnTo=${encodeURIComponent(r.prefix)}`);
        return;
      }
      return accountPage(ctx, r, uid);
    }
    ctx.body = {
      ...rest,
      session: {
        verified,
        verifiedAt: verified ? new Date(session.verifiedAt!).toISOString() : null,
        method: verified ? (session.method ?? null) : null,
      },
      csrfToken: csrfToken(ctx, r.sessionKey),
    };
  });
}
