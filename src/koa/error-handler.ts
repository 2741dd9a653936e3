/**
 * `twoFactorErrors()`: the app's first middleware, so that nothing a client
 * sends becomes a 500 and a store that does not answer is a 503 on every
 * route, the app's own included (a session store on the same Redis fails
 * before any 2FA code runs):
 *
 *   app.use(twoFactorErrors());
 *   app.use(session(...)); app.use(passport.session());
 *   app.use(tf.gate); app.use(tf.routes);
 *
 * What each error becomes is decided in src/core/http/error-handling.ts;
 * anything that is not the package's is rethrown to Koa (the app's bug, or its
 * own `ctx.throw`). No answer ever carries a stack trace.
 */
import type { Context, Middleware } from 'koa';
import { createErrorHandling, type TwoFactorErrorsOptions } from '../core/http/error-handling.ts';
import { send, toHttpRequest } from './exchange.ts';

export function twoFactorErrors(options: TwoFactorErrorsOptions = {}): Middleware {
  const handle = createErrorHandling(options);
  return async function twoFactorErrorHandler(ctx: Context, next) {
    try {
      await next();
    } catch (thrown) {
      // Koa's own handler knows what to do once headers are out (nothing).
      const answer = ctx.headerSent || !ctx.writable ? null : handle(thrown, toHttpRequest(ctx, () => undefined));
      if (!answer) throw thrown;
      // As Koa does on an error: nothing half-built by later middleware goes
      // out (types, lengths, page headers) — but a session cookie set on the
      // way out stays, or a session rotated before the failure would be lost.
      for (const name of ctx.res.getHeaderNames()) if (name !== 'set-cookie') ctx.res.removeHeader(name);
      send(ctx, answer);
    }
  };
}

export type { TwoFactorErrorsOptions } from '../core/http/error-handling.ts';
