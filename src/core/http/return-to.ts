/**
 * Where a browser goes back to after a 2FA page: the one validator and the
 * one URL builder. Only a local path is ever followed (no open redirect).
 */

/** Longest `returnTo` kept; a longer one is dropped, not cut. */
export const MAX_RETURN_TO_LENGTH = 2048;

/** A local path to return to, or undefined: never another host, never a header break. */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH) return undefined;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return undefined;
  if (/[\r\n\t]/.test(value)) return undefined;
  return value;
}

/** `path?returnTo=…` when there is a place to return to, else `path`. */
export function withReturnTo(path: string, returnTo: string | undefined): string {
  return returnTo === undefined ? path : `${path}?returnTo=${encodeURIComponent(returnTo)}`;
}

/** `returnTo` from the body or the query string, if it is a local path. */
export function returnToOf(query: Record<string, unknown>, body: Record<string, unknown> = {}): string | undefined {
  return safeReturnTo(body.returnTo) ?? safeReturnTo(query.returnTo);
}

/** The local path of a same-origin `Referer`, or undefined (none, not a URL, another site). */
export function refererPath(referer: string, ownOrigin: string): string | undefined {
  try {
    const u = new URL(referer);
    return u.origin === ownOrigin ? safeReturnTo(u.pathname + u.search) : undefined;
  } catch {
    return undefined;
  }
}
