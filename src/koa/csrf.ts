/**
 * CSRF protection for the state-changing 2FA routes: a synchronizer token in
 * the session (header `x-csrf-token` or form field `_csrf`), or, for JSON
 * requests, a same-origin check. A cross-site page cannot send a JSON body
 * without a CORS preflight, and browsers label cross-site requests with
 * `Origin` and `Sec-Fetch-Site`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { TwoFactorError } from '../core/errors.ts';
import { readBodyOnce } from './body.ts';
import { sessionOf } from './session-state.ts';

export function csrfToken(ctx: Context, sessionKey: string): string {
  const session = sessionOf(ctx);
  const key = `${sessionKey}Csrf`;
  let token = session[key];
  if (typeof token !== 'string') {
    token = randomBytes(24).toString('base64url');
    session[key] = token;
  }
  return token as string;
}

function sameOrigin(ctx: Context): boolean {
  const site = ctx.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = ctx.get('origin');
  // Koa 3's ctx.origin is the Origin header itself: compare with our own origin.
  return !origin || origin === `${ctx.protocol}://${ctx.host}`;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function checkCsrf(ctx: Context, sessionKey: string): void {
  if (['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) return;
  const body = (ctx.request as { body?: unknown }).body as Record<string, unknown> | undefined;
  const sent = ctx.get('x-csrf-token') || (typeof body?._csrf === 'string' ? body._csrf : '');
  const expected = sessionOf(ctx)[`${sessionKey}Csrf`];
  if (sent && typeof expected === 'string' && equal(sent, expected)) return;
  if (!sent && ctx.is('application/json') && sameOrigin(ctx)) return;
  throw new TwoFactorError('csrf_failed');
}

/** `checkCsrf` for a route whose body the app may not have parsed yet (a form's `_csrf`). */
export async function checkCsrfReadingBody(ctx: Context, sessionKey: string): Promise<void> {
  if (['GET', 'HEAD', 'OPTIONS'].includes(ctx.method)) return;
  if (!ctx.get('x-csrf-token')) await readBodyOnce(ctx);
  checkCsrf(ctx, sessionKey);
}
