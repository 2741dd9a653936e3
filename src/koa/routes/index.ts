/**
 * The 2FA router: no-store caching, error answers in JSON or HTML, body
 * parsing (unless the app already parsed), CSRF, then the routes.
 */
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context, Next } from 'koa';
import { checkCsrf } from '../csrf.ts';
import { noStore, sendJsonError, toTwoFactorError, wantsJson } from '../negotiate.ts';
import type { Resolved } from '../resolve-options.ts';
import { errorPage } from './route-kit.ts';
import { setupRoutes } from './setup.ts';
import { statusRoutes } from './status.ts';
import { challengeRoutes } from './challenge.ts';
import { accountRoutes } from './account.ts';
import { adminRoutes } from './admin.ts';

/** Bodies are tiny: a code, a name, an id. */
const BODY_LIMIT = '16kb';

export function createRouter(r: Resolved): Router {
  const router = new Router({ prefix: r.prefix });
  const parse = bodyParser({
    enableTypes: ['json', 'form'], jsonLimit: BODY_LIMIT, formLimit: BODY_LIMIT,
    parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
  });

  router.use(async (ctx: Context, next: Next) => {
    noStore(ctx);
    try {
      if ((ctx.request as { body?: unknown }).body === undefined) await parse(ctx, async () => {});
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
