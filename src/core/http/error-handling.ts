/**
 * What the adapters' error handlers (`twoFactorErrors()`) do with an error
 * that reached them, so that nothing a client sends becomes a 500 and a store
 * that does not answer is a 503 on every route, the app's own included:
 * - a `TwoFactorError` → its status: JSON `{ error, message, ...details }`
 *   (+ `Retry-After` for `too_many_attempts`) or a short page;
 * - a body that cannot be read (bad JSON, a body labelled gzip/deflate/br that
 *   is not, an unknown Content-Encoding, too large) → 400 `invalid_input`;
 * - a store that did not answer or cannot serve (timeout, closed, OOM…) →
 *   503 `store_unavailable`, logged once per kind of failure, not per request;
 * - anything else → null: the adapter hands it back to the framework.
 */
import type { TwoFactorError } from '../errors.ts';
import { classifyError, toTwoFactorError } from '../error-classes.ts';
import { defaultErrorPage, errorAnswer } from './error-answer.ts';
import { DEFAULT_CONTENT_SECURITY_POLICY } from './negotiate.ts';
import type { Answer, HttpRequest } from './types.ts';

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

/** `(error, request) → answer`, or null for an error that is not the package's to answer. */
export function createErrorHandling(options: TwoFactorErrorsOptions = {}): (thrown: unknown, req: HttpRequest) => Answer | null {
  const log = options.logger ?? ((m: string) => console.warn(m));
  const logIntervalMs = options.logIntervalMs ?? DEFAULT_STORE_ERROR_LOG_INTERVAL_MS;
  const pageSettings = { page: options.page ?? defaultErrorPage, contentSecurityPolicy: options.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY };
  const lastLogged = new Map<string, number>();

  function logStoreFailure(reason: string, err: unknown): void {
    const now = Date.now();
    const last = lastLogged.get(reason);
    if (last !== undefined && now - last < logIntervalMs) return;
    lastLogged.set(reason, now);
    const message = err instanceof Error ? err.message : String(err);
    log(`koa-two-factor: store unavailable (${reason}: ${message}); answering 503 store_unavailable`);
  }

  return (thrown, req) => {
    const err = toTwoFactorError(thrown);
    if (!err) return null;
    const c = classifyError(thrown);
    if (c.kind === 'store') logStoreFailure(c.reason, thrown);
    return errorAnswer(req, err, pageSettings);
  };
}
