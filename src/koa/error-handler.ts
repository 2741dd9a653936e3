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
 * - a `TwoFactorError` → its status: JSON `{ error, message, ...details }`
 *   (+ `Retry-After` for `too_many_attempts`) or a short page;
 * - a body that cannot be read (bad JSON, a body labelled gzip/deflate/br that
 *   is not, an unknown Content-Encoding, too large) → 400 `invalid_input`;
 * - a store that did not answer or cannot serve (timeout, closed, OOM…) →
 *   503 `store_unavailable`, logged once per kind of failure, not per request;
 * - anything else → rethrown to Koa: it is the app's bug (or its own `ctx.throw`).
 * No answer ever carries a stack trace.
 */
import type { Context, Middleware } from 'koa';
import { classifyError, toTwoFactorError } from '../core/error-classes.ts';
import type { TwoFactorError } from '../core/errors.ts';
import { html, layout, safeHref } from '../../views/index.ts';
import { DEFAULT_CONTENT_SECURITY_POLICY } from './options.ts';
import { noStore, safeReturnTo, sendJsonError, wantsJson } from './negotiate.ts';

/** A long outage is still visible in the logs: one line per kind of store failure per minute. */
export const DEFAULT_STORE_ERROR_LOG_INTERVAL_MS = 60_000;

export interface TwoFactorErrorsOptions {
  /** Where store failures are reported (once per kind per `logIntervalMs`). Default `console.warn`. */
  logger?: ((message: string) => void) | undefined;
  /** Least time between two log lines for the same kind of store failure, in ms. Default `DEFAULT_STORE_ERROR_LOG_INTERVAL_MS`. */
  logIntervalMs?: number | undefined;
  /** The HTML a browser gets for an error. Default `defaultErrorPage`. */
  page?: ((err: TwoFactorError) => string) | undefined;
  /** Content-Security-Policy of that page; `false` for none. Default `DEFAULT_CONTENT_SECURITY_POLICY`. */
  contentSecurityPolicy?: string | false | undefined;
}

/** Details that point the user somewhere next, in the order a page offers them. */
const NEXT_STEP_LINKS: ReadonlyArray<readonly [string, string]> = [
  ['loginUrl', 'Log in'],
  ['setupUrl', 'Set up two-factor authentication'],
  ['verifyUrl', 'Enter a code'],
  ['stepUpUrl', 'Enter a code'],
];

/** A short page: the error's message and, when the error names one, a local link to go on. */
export function defaultErrorPage(err: TwoFactorError): string {
  const link = NEXT_STEP_LINKS.find(([key]) => safeReturnTo(err.details[key]) !== undefined);
  const next = link ? html`<p><a href="${safeHref(String(err.details[link[0]]))}">${link[1]}</a></p>` : html``;
  const body = html`<h1>${err.status === 503 ? 'Try again shortly' : 'Something went wrong'}</h1>
<p class="error" role="alert">${err.message}</p>
${next}`;
  return layout({ title: 'Error', body });
}

export function twoFactorErrors(options: TwoFactorErrorsOptions = {}): Middleware {
  const log = options.logger ?? ((m: string) => console.warn(m));
  const logIntervalMs = options.logIntervalMs ?? DEFAULT_STORE_ERROR_LOG_INTERVAL_MS;
  const page = options.page ?? defaultErrorPage;
  const csp = options.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY;
  const lastLogged = new Map<string, number>();

  function logStoreFailure(reason: string, err: unknown): void {
    const now = Date.now();
    const last = lastLogged.get(reason);
    if (last !== undefined && now - last < logIntervalMs) return;
    lastLogged.set(reason, now);
    const message = err instanceof Error ? err.message : String(err);
    log(`koa-two-factor: store unavailable (${reason}: ${message}); answering 503 store_unavailable`);
  }

  return async function twoFactorErrorHandler(ctx: Context, next) {
    try {
      await next();
    } catch (thrown) {
      const err = toTwoFactorError(thrown);
      // Koa's own handler knows what to do once headers are out (nothing).
      if (!err || ctx.headerSent || !ctx.writable) throw thrown;
      const c = classifyError(thrown);
      if (c.kind === 'store') logStoreFailure(c.reason, thrown);
      answer(ctx, err);
    }
  };

  function answer(ctx: Context, err: TwoFactorError): void {
    // As Koa does on an error: nothing half-built by later middleware goes
    // out (types, lengths, page headers) — but a session cookie set on the
    // way out stays, or a session rotated before the failure would be lost.
    for (const name of ctx.res.getHeaderNames()) if (name !== 'set-cookie') ctx.res.removeHeader(name);
    noStore(ctx);
    ctx.vary('Accept');
    if (wantsJson(ctx)) return sendJsonError(ctx, err);
    ctx.status = err.status;
    if (typeof err.details.retryAfter === 'number') ctx.set('Retry-After', String(err.details.retryAfter));
    if (csp) ctx.set('Content-Security-Policy', csp);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page(err);
  }
}
