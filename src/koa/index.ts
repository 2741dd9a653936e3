/**
 * `twoFactor(options)`: the gate, the routes and the service, ready to mount:
 *
 *   const tf = twoFactor({ issuer: 'Acme', redis, encryptionKeys });
 *   app.use(session(...)); app.use(passport.session());
 *   app.use(tf.gate); app.use(tf.routes);
 */
import type { Context, Middleware } from 'koa';
import { csrfToken } from './csrf.ts';
import type { TwoFactorService } from '../core/two-factor-service.ts';
import { createGate } from './gate.ts';
import type { TwoFactorOptions } from './options.ts';
import { resolveOptions } from './resolve-options.ts';
import { createRouter } from './routes/index.ts';
import { createRequireStepUp, type StepUpOptions } from './require-step-up.ts';

export interface TwoFactor {
  /** Mount after session and passport: blocks half-logged-in sessions. */
  gate: Middleware;
  /** The 2FA routes under the prefix. */
  routes: Middleware;
  /** The framework-free service (for admin tools, tests, other adapters). */
  service: TwoFactorService;
  /** Middleware for privileged routes: active 2FA, verified (within `maxAge`). */
  requireStepUp(options?: StepUpOptions): Middleware;
  /** The mount prefix, e.g. `/2fa`. */
  prefix: string;
  /** This session's CSRF token, for the app's own forms behind `requireStepUp` (field `_csrf`). */
  csrfToken(ctx: Context): string;
}

export function twoFactor(options: TwoFactorOptions = {}): TwoFactor {
  const r = resolveOptions(options);
  const router = createRouter(r);
  const dispatch = router.routes() as Middleware;
  // The router would match every request of the app against every 2FA route;
  // a prefix test first keeps the app's own requests at one string compare.
  const routes: Middleware = (ctx, next) => (ctx.path === r.prefix || ctx.path.startsWith(`${r.prefix}/`) ? dispatch(ctx, next) : next());
  return {
    gate: createGate(r), routes, service: r.service, requireStepUp: createRequireStepUp(r), prefix: r.prefix,
    csrfToken: (ctx) => csrfToken(ctx, r.sessionKey),
  };
}

export type { TwoFactorOptions } from './options.ts';
export type { StepUpOptions } from './require-step-up.ts';
