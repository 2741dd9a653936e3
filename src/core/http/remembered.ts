/**
 * Remembered browsers at the HTTP level: the cookie (one per user of the
 * browser), remembering after a verification that asked for it, and the
 * gate's use of it at a later password login.
 */
import { markVerified } from './session-state.ts';
import type { HttpRequest, HttpSettings } from './types.ts';

function cookieName(r: HttpSettings, uid: string): string {
  return `${r.remember.cookieName}.${r.service.rememberedCookieSuffix(uid)}`;
}

/** Whether this user may use (and be offered) a remembered browser. */
export async function mayRemember(r: HttpSettings, uid: string): Promise<boolean> {
  if (!r.remember.enabled) return false;
  return r.remember.allowForRequiredUsers || !(await r.service.status(uid)).required;
}

/** A checked box ("on", "true", "1", true) in a form or JSON body. */
export function asksToRemember(value: unknown): boolean {
  return value === true || value === 'on' || value === 'true' || value === '1';
}

/** After a verification that asked for it: remember this browser for the user at `generation`. */
export async function rememberThisBrowser(req: HttpRequest, r: HttpSettings, uid: string, generation: number): Promise<boolean> {
  if (!(await mayRemember(r, uid))) return false;
  const { token } = await r.service.rememberBrowser(uid, generation, req.header('user-agent'), r.remember, { ip: req.ip, endpoint: 'verify' });
  req.setCookie(cookieName(r, uid), token, r.remember.ttlMs);
  return true;
}

/**
 * The gate's second factor for a password login on a remembered browser:
 * true when the session is now verified (method `remembered`); the cookie
 * is replaced when its token was rotated.
 */
export async function acceptRememberedBrowser(req: HttpRequest, r: HttpSettings, uid: string): Promise<boolean> {
  const name = cookieName(r, uid);
  const token = req.cookie(name);
  if (!token || !(await mayRemember(r, uid))) return false;
  const used = await r.service.useRememberedBrowser(uid, token, { ip: req.ip, endpoint: 'remembered' });
  if (!used) return false;
  await markVerified(req, r, uid, 'remembered', used.generation, Date.now());
  if (used.newToken) req.setCookie(name, used.newToken, Math.max(1, used.expiresAt - Date.now()));
  return true;
}

/** Clears this user's remembered-browser cookie in this browser (after "Forget" of the browser it is in). */
export function clearRememberCookie(req: HttpRequest, r: HttpSettings, uid: string): void {
  if (req.cookie(cookieName(r, uid)) !== undefined) req.setCookie(cookieName(r, uid), '', 0);
}
