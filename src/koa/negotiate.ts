/** JSON or HTML, safe redirects, and how errors are answered. */
import type { Context } from 'koa';
import { TwoFactorError } from '../core/errors.ts';

/** JSON when the client asks for it, or sends JSON without asking for HTML. */
export function wantsJson(ctx: Context): boolean {
  if (ctx.accepts('html', 'json') === 'json') return true;
  return Boolean(ctx.is('application/json')) && !(ctx.get('accept') || '').includes('text/html');
}

/** 2FA answers must never be cached: they carry secrets, codes and tokens. */
export function noStore(ctx: Context): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.set('Pragma', 'no-cache');
}

/** A local path to return to, or undefined: never another host (open redirect). */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  if (/[\r\n\t]/.test(value)) return undefined;
  return value;
}

export function sendJsonError(ctx: Context, err: TwoFactorError): void {
  ctx.status = err.status;
  if (typeof err.details.retryAfter === 'number') ctx.set('Retry-After', String(err.details.retryAfter));
  ctx.body = err.toJSON();
}

/**
 * The one door from any error to the contract's answer (`invalid_input` for an
 * unreadable body, `store_unavailable` for a store that did not answer), or
 * null for the app's own bugs: see `classifyError`.
 */
export { toTwoFactorError } from '../core/error-classes.ts';
