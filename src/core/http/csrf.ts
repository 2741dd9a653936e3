/**
 * CSRF protection for the state-changing 2FA routes and `requireStepUp`: a
 * synchronizer token in the session (header `x-csrf-token` or form field
 * `_csrf`), or, for JSON requests, a same-origin check. A cross-site page
 * cannot send a JSON body without a CORS preflight, and browsers label
 * cross-site requests with `Origin` and `Sec-Fetch-Site`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { TwoFactorError } from '../errors.ts';
import { bodyIs } from './negotiate.ts';
import { sessionOf } from './session-store.ts';
import type { HttpRequest } from './types.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** This session's token (created on first use). */
export function csrfToken(req: HttpRequest, sessionKey: string): string {
  const session = sessionOf(req);
  const key = `${sessionKey}Csrf`;
  let token = session[key];
  if (typeof token !== 'string') {
    token = randomBytes(24).toString('base64url');
    session[key] = token;
  }
  return token as string;
}

function sameOrigin(req: HttpRequest): boolean {
  const site = req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.header('origin');
  return !origin || origin === req.ownOrigin;
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Throws `csrf_failed` unless a safe method, the session's token, or a same-origin JSON request. */
export function checkCsrf(req: HttpRequest, body: Record<string, unknown>, sessionKey: string): void {
  if (SAFE_METHODS.has(req.method)) return;
  const sent = req.header('x-csrf-token') || (typeof body._csrf === 'string' ? body._csrf : '');
  const expected = sessionOf(req)[`${sessionKey}Csrf`];
  if (sent && typeof expected === 'string' && equal(sent, expected)) return;
  if (!sent && bodyIs(req, 'application/json') && sameOrigin(req)) return;
  throw new TwoFactorError('csrf_failed');
}

/** `checkCsrf` where the body may not be read yet (a form's `_csrf`): reads it only when needed. */
export async function checkCsrfReadingBody(req: HttpRequest, sessionKey: string, bodyOf: () => Promise<Record<string, unknown>>): Promise<void> {
  if (SAFE_METHODS.has(req.method)) return;
  checkCsrf(req, req.header('x-csrf-token') ? {} : await bodyOf(), sessionKey);
}
