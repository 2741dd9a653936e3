/**
 * Remembered browsers: "Don't ask for a code on this browser for N days".
 * The browser keeps a random token in a cookie; the guard store keeps only
 * its keyed hash, with the user's 2FA generation, so disabling 2FA, a reset,
 * new backup codes or removing every device ends every remembered browser.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { ServiceContext } from './service-context.ts';
import type { RequestInfo } from './service-options.ts';
import type { RememberedBrowser } from './store-types.ts';

/** How often a used token is replaced: a copied cookie stops working within a day of the real browser's next use. */
export const REMEMBERED_TOKEN_ROTATION_MS = 24 * 60 * 60_000;
/** Bytes of a token: 256 bits, far past guessing. */
const TOKEN_BYTES = 32;

export interface RememberSettings {
  ttlMs: number;
  maxPerUser: number;
}

function tokenHash(ctx: ServiceContext, userId: string, token: string): string {
  return createHmac('sha256', ctx.rememberKey).update(`${userId}\n${token}`).digest('base64url');
}

/** A per-user suffix of the cookie's name (keyed, so it does not give the user id away): people sharing a browser each keep theirs. */
export function rememberedCookieSuffix(ctx: ServiceContext, userId: string): string {
  return createHmac('sha256', ctx.rememberKey).update(`cookie\n${userId}`).digest('base64url').slice(0, 12);
}

/** "Chrome on Linux", "Firefox on Windows", … from a User-Agent; "A browser" when unknown. */
export function browserName(userAgent: string): string {
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /OPR\/|Opera/.test(userAgent) ? 'Opera' : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : undefined;
  const os = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad|iOS/.test(userAgent) ? 'iOS' : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X|Macintosh/.test(userAgent) ? 'macOS' : /Linux|X11/.test(userAgent) ? 'Linux' : undefined;
  if (!browser) return os ? `A browser on ${os}` : 'A browser';
  return os ? `${browser} on ${os}` : browser;
}

/** Remembers this browser for the user at `generation`; returns the token for its cookie. */
export async function rememberBrowser(ctx: ServiceContext, userId: string, generation: number, userAgent: string, settings: RememberSettings, info: RequestInfo): Promise<{ token: string; expiresAt: number }> {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  const now = ctx.now();
  const browser: RememberedBrowser = {
    id: randomBytes(9).toString('base64url'), tokenHash: tokenHash(ctx, userId, token), generation,
    name: browserName(userAgent), createdAt: now, lastUsedAt: now, rotatedAt: now, expiresAt: now + settings.ttlMs,
  };
  await ctx.guarded(() => ctx.guard.rememberBrowser(userId, browser, settings.maxPerUser));
  ctx.audit('browser.remembered', userId, info, 'success', { browserId: browser.id, name: browser.name });
  return { token, expiresAt: browser.expiresAt };
}

/**
 * The second factor of a remembered browser: the token must be known for
 * this user, unexpired, and from the user's current generation. Returns
 * null when it is not; else the browser, and a new token when it was due
 * for rotation (the cookie must be replaced).
 */
export async function useRememberedBrowser(ctx: ServiceContext, userId: string, token: string, info: RequestInfo): Promise<{ generation: number; expiresAt: number; newToken?: string } | null> {
  if (token.length === 0 || token.length > 128) return null;
  const hash = tokenHash(ctx, userId, token);
  return ctx.guarded(async () => {
    const [browsers, record] = await Promise.all([ctx.guard.listRememberedBrowsers(userId), ctx.records.get(userId)]);
    const browser = browsers.find((b) => b.tokenHash === hash);
    const now = ctx.now();
    if (!browser || browser.expiresAt <= now || browser.generation !== record.generation || record.devices.length === 0) return null;
    const newToken = now - browser.rotatedAt >= REMEMBERED_TOKEN_ROTATION_MS ? randomBytes(TOKEN_BYTES).toString('base64url') : undefined;
    // Atomic on the token: forgotten meanwhile, or rotated by a parallel request with the same cookie, is a refusal (the person types a code once).
    const touched = await ctx.guard.touchRememberedBrowser(userId, browser.id, hash, now, newToken ? tokenHash(ctx, userId, newToken) : undefined);
    if (!touched) return null;
    ctx.audit('verification.succeeded', userId, info, 'success', { method: 'remembered', browserId: browser.id });
    return { generation: record.generation, expiresAt: browser.expiresAt, ...(newToken ? { newToken } : {}) };
  });
}

export interface RememberedBrowserView { id: string; name: string; createdAt: string; lastUsedAt: string; expiresAt: string }

export function listRememberedBrowsers(ctx: ServiceContext, userId: string): Promise<RememberedBrowserView[]> {
  return ctx.guarded(async () => {
    const [browsers, record] = await Promise.all([ctx.guard.listRememberedBrowsers(userId), ctx.records.get(userId)]);
    return browsers.filter((b) => b.generation === record.generation).map((b) => ({
      id: b.id, name: b.name,
      createdAt: new Date(b.createdAt).toISOString(), lastUsedAt: new Date(b.lastUsedAt).toISOString(), expiresAt: new Date(b.expiresAt).toISOString(),
    }));
  });
}

/** Forgets one remembered browser (`id`), or all of them. */
export function forgetRememberedBrowsers(ctx: ServiceContext, userId: string, id: string | undefined, info: RequestInfo): Promise<boolean> {
  return ctx.guarded(async () => {
    const forgot = id === undefined ? (await ctx.guard.forgetRememberedBrowsers(userId), true) : await ctx.guard.forgetRememberedBrowser(userId, id);
    if (forgot) ctx.audit('browser.forgotten', userId, info, 'success', id === undefined ? { all: true } : { browserId: id });
    return forgot;
  });
}
