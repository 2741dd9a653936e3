/** Small helpers every 2FA route uses. */
import type { Context } from 'koa';
import { TwoFactorError } from '../../core/errors.ts';
import type { RequestInfo } from '../../core/two-factor-service.ts';
import { layout, html } from '../../../views/index.ts';
import { csrfToken } from '../csrf.ts';
import { safeReturnTo, wantsJson } from '../negotiate.ts';
import type { Resolved } from '../resolve-options.ts';
import { isVerified, type SessionFacts } from '../../core/session-policy.ts';
import { factsOf, readState, type TwoFactorSession } from '../session-state.ts';

export interface RouteUser {
  uid: string;
  /** This user's 2FA namespace in the session, if any. */
  session: TwoFactorSession | undefined;
}

/** The logged-in user and their 2FA session state; `unauthenticated` without one. */
export function requireUser(ctx: Context, r: Resolved): RouteUser {
  const uid = r.userId(ctx);
  if (uid === null) throw new TwoFactorError('unauthenticated', { loginUrl: r.loginPath });
  return { uid, session: readState(ctx, r, uid) };
}

/** What the stores say now, and whether this login passed the second factor for it. */
export async function verification(r: Resolved, user: RouteUser): Promise<{ facts: SessionFacts; verified: boolean }> {
  const facts = await factsOf(r, user.uid, user.session, true);
  return { facts, verified: isVerified(user.session, facts) };
}

/** The parsed body as a plain object; anything else is `invalid_input`. */
export function bodyOf(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as { body?: unknown }).body;
  if (body === undefined || body === null || body === '') return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new TwoFactorError('invalid_input', {}, 'The request body must be a JSON object or a form.');
  }
  return body as Record<string, unknown>;
}

export function requestInfo(ctx: Context, endpoint: string): RequestInfo {
  return { ip: ctx.ip, endpoint };
}

/** `returnTo` from the body or the query string, if it is a local path. */
export function returnToOf(ctx: Context, body: Record<string, unknown> = {}): string | undefined {
  return safeReturnTo(body.returnTo) ?? safeReturnTo(ctx.query.returnTo);
}

export function sendPage(ctx: Context, r: Resolved, markup: string, status = 200): void {
  ctx.status = status;
  if (r.contentSecurityPolicy) ctx.set('Content-Security-Policy', r.contentSecurityPolicy);
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = markup;
}

export function pageBase(ctx: Context, r: Resolved, returnTo: string | undefined, err?: TwoFactorError) {
  const retry = err?.details.retryAfter;
  return {
    prefix: r.prefix,
    csrfToken: csrfToken(ctx, r.sessionKey),
    returnTo,
    error: err?.message,
    retryAfterSeconds: typeof retry === 'number' ? retry : undefined,
  };
}

/** A plain page for errors no form can show (no user, store down). */
export function errorPage(ctx: Context, r: Resolved, err: TwoFactorError): void {
  if (err.code === 'unauthenticated') {
    ctx.redirect(r.loginPath);
    return;
  }
  const body = html`<h1>Two-factor authentication</h1>
<p class="error" role="alert">${err.message}</p>
<p><a href="${r.prefix}/verify">Back</a></p>`;
  sendPage(ctx, r, layout({ title: 'Two-factor authentication', body }), err.status);
}

export { wantsJson };
