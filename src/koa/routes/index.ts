/**
 * The 2FA router: no-store caching, error answers in JSON or HTML, body
 * parsing (unless the app already parsed), CSRF, then the routes.
 */
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import { readBodyOnce } from '../body.ts';
import { checkCsrf } from '../csrf.ts';
import { noStore, sendJsonError, toTwoFactorError, wantsJson } from '../negotiate.ts';
import type { Resolved } from '../resolve-options.ts';
import { errorPage } from './route-kit.ts';
import { setupRoutes } from './setup.ts';
import { statusRoutes } from './status.ts';
import { challengeRoutes } from './challenge.ts';
import { accountRoutes } from './account.ts';
import { adminRoutes } from './admin.ts';

export function createRouter(r: Resolved): Router {
  const router = new Router({ prefix: r.prefix });
  router.use(async (ctx: Context, next: Next) => {
    noStore(ctx);
    try {
      // Whatever goes wrong reading the body is the client's doing: invalid_input, never a 500.
      await readBodyOnce(ctx);
      checkCsrf(ctx, r.sessionKey);
      await next();
    } catch (e) {
      const err = toTwoFactorError(e);
      if (!err) throw e;
      if (wantsJson(ctx)) sendJsonError(ctx, err);
      else errorPage(ctx, r, err);
    }
  });

  statusRoutes(router, r);
  setupRoutes(router, r);
  challengeRoutes(router, r);
  accountRoutes(router, r);
  adminRoutes(router, r);
  return router;
}
