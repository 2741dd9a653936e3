/**
 * `twoFactor(options)` for Koa: the gate, the routes and the service, ready
 * to mount. A translation layer over the core (src/core/http); nothing is
 * decided here.
 *
 *   const tf = twoFactor({ issuer: 'Acme', redis, encryptionKeys });
 *   app.use(session(...)); app.use(passport.session());
 *   app.use(tf.gate); app.use(tf.routes);
 */
import type { Context, Middleware } from 'koa';
import type { TwoFactorOptionsFor } from '../config/options.ts';
import type { TwoFactorApi } from '../config/two-factor-api.ts';
import { resolveOptions } from '../config/resolve-options.ts';
import { csrfToken } from '../core/http/csrf.ts';
import { gate } from '../core/http/gate.ts';
import { createRouteDispatcher } from '../core/http/routes/index.ts';
import { stepUp, type StepUpOptions } from '../core/http/step-up.ts';
import { send, toHttpRequest } from './exchange.ts';

/** The options of `twoFactor()`; callbacks receive the Koa context. */
export type TwoFactorOptions = TwoFactorOptionsFor<Context>;

export interface TwoFactor extends TwoFactorApi<Middleware, Context> {
  /** The 2FA routes under the prefix: `app.use(tf.routes)`. */
  routes: Middleware;
}

const PROXY_WARNING = 'koa-two-factor: app.proxy is on without app.maxIpsCount, so ctx.ip is the leftmost X-Forwarded-For entry, which any client can set: the per-IP limit can be dodged. Set app.maxIpsCount to the number of proxies in front of the app.';

export function twoFactor(options: TwoFactorOptions = {}): TwoFactor {
  const r = resolveOptions<Context>(options, (ctx) => ctx.state.user);
  const request = (ctx: Context) => toHttpRequest(ctx, r.getUser);
  const routeDispatcher = createRouteDispatcher(r);

  const gateMiddleware: Middleware = async (ctx, next) => {
    if (ctx.app.proxy && !ctx.app.maxIpsCount) r.warnOnce('proxy', PROXY_WARNING);
    const outcome = await gate(r, request(ctx));
    if (outcome.answer) return send(ctx, outcome.answer);
    await next();
    await outcome.afterRequest();
  };

  const answerRoute: Middleware = async (ctx, next) => {
    const answer = await routeDispatcher.answer(request(ctx));
    if (!answer) return next();
    send(ctx, answer);
  };
  // Not async: the app's own requests pass with one string compare and no promise.
  const routes: Middleware = (ctx, next) => (routeDispatcher.covers(ctx.path) ? answerRoute(ctx, next) : next());

  return {
    gate: gateMiddleware,
    routes,
    service: r.service,
    prefix: r.prefix,
    requireStepUp: (o: StepUpOptions = {}): Middleware => async (ctx, next) => {
      const refusal = await stepUp(r, request(ctx), o);
      if (refusal) return send(ctx, refusal);
      return next();
    },
    csrfToken: (ctx) => csrfToken(request(ctx), r.sessionKey),
  };
}

export type { StepUpOptions } from '../core/http/step-up.ts';
