/**
 * `twoFactor(options)` for Express 4 and 5 with express-session and Passport:
 * the gate, the router and the service, ready to mount. A translation layer
 * over the core (src/core/http); nothing is decided here.
 *
 *   const tf = twoFactor({ issuer: 'Acme', redis, encryptionKeys });
 *   app.use(session(...)); app.use(passport.session());
 *   app.use(tf.gate); app.use(tf.router);
 *   ... the app's routes ...
 *   app.use(twoFactorErrors());
 */
import { Router, type ErrorRequestHandler, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { TwoFactorOptionsFor } from '../config/options.ts';
import type { TwoFactorApi } from '../config/two-factor-api.ts';
import { resolveOptions } from '../config/resolve-options.ts';
import { csrfToken } from '../core/http/csrf.ts';
import { createErrorHandling, type TwoFactorErrorsOptions } from '../core/http/error-handling.ts';
import { gate } from '../core/http/gate.ts';
import { createRouteDispatcher } from '../core/http/routes/index.ts';
import { stepUp, type StepUpOptions } from '../core/http/step-up.ts';
import { beforeResponseEnds, pathOf, send, toHttpRequest } from './exchange.ts';

/** The options of `twoFactor()`; callbacks receive the Express request. */
export type ExpressTwoFactorOptions = TwoFactorOptionsFor<Request>;

export interface ExpressTwoFactor extends TwoFactorApi<RequestHandler, Request> {
  /** The 2FA routes under the prefix, an `express.Router`: `app.use(tf.router)`. */
  router: Router;
}

const PROXY_WARNING = "koa-two-factor: 'trust proxy' is true, so req.ip is the leftmost X-Forwarded-For entry, which any client can set: the per-IP limit can be dodged. Set 'trust proxy' to the number of proxies in front of the app.";

export function twoFactor(options: ExpressTwoFactorOptions = {}): ExpressTwoFactor {
  const r = resolveOptions<Request>(options, (req) => (req as { user?: unknown }).user);
  const request = (req: Request, res: Response) => toHttpRequest(req, res, r.getUser);
  const routeDispatcher = createRouteDispatcher(r);

  const gateHandler: RequestHandler = (req, res, next) => {
    if (req.app.get('trust proxy') === true) r.warnOnce('proxy', PROXY_WARNING);
    // `.catch(next)`, not `.then(…, next)`: whatever the callback throws must reach Express, not become an unhandled rejection.
    gate(r, request(req, res)).then((outcome) => {
      if (outcome.answer) return send(res, outcome.answer);
      beforeResponseEnds(res, outcome.afterRequest);
      next();
    }).catch(next);
  };

  const router = Router();
  router.use((req, res, next) => {
    routeDispatcher.answer(request(req, res)).then((answer) => (answer ? send(res, answer) : next())).catch(next);
  });
  // An Express router leaves through setImmediate when nothing in it answered:
  // the app's own requests skip it after one string compare instead.
  // (Express 4 and 5 routers are functions that call their own `handle`.)
  const dispatch = router as unknown as { handle(req: Request, res: Response, next: NextFunction): void };
  const enter = dispatch.handle.bind(router);
  dispatch.handle = (req, res, next) => (routeDispatcher.covers(pathOf(req)) ? enter(req, res, next) : next());

  return {
    gate: gateHandler,
    router,
    service: r.service,
    prefix: r.prefix,
    requireStepUp: (o: StepUpOptions = {}): RequestHandler => (req, res, next) => {
      stepUp(r, request(req, res), o).then((refusal) => (refusal ? send(res, refusal) : next())).catch(next);
    },
    csrfToken: (req) => csrfToken(request(req, req.res!), r.sessionKey),
  };
}

/**
 * The app's last middleware, so that nothing a client sends becomes a 500 and
 * a store that does not answer is a 503 on every route, the app's own
 * included. Errors that are not the package's go on to the next handler.
 */
export function twoFactorErrors(options: TwoFactorErrorsOptions = {}): ErrorRequestHandler {
  const handle = createErrorHandling(options);
  return (err, req, res, next) => {
    const answer = res.headersSent ? null : handle(err, toHttpRequest(req, res, () => undefined));
    if (!answer) return next(err);
    // Nothing half-built by the failed handler goes out, but a session cookie set on the way stays.
    for (const name of res.getHeaderNames()) if (name !== 'set-cookie') res.removeHeader(name);
    send(res, answer);
  };
}

export * from '../public.ts';
