/** Reading one cookie from a `Cookie` header, for adapters whose framework has no cookie reader of its own. */

/** The value of cookie `name` in a `Cookie` request header (URI-decoded when it can be), or undefined. */
export function cookieFromHeader(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}
