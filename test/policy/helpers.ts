/** Small helpers shared by the issue #5 policy tests (step-up, admin, audit). */
import { codeAt, enrol, type RunningExample } from '../support/example-server.ts';
import type { HttpClient } from '../support/http-client.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The `_csrf` hidden field of a page. */
export function csrfOf(page: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(page);
  if (!m) throw new Error('no _csrf field on the page');
  return m[1]!;
}

/** The session's CSRF token, as `GET /2fa` gives it to the app's own forms. */
export async function sessionCsrf(c: HttpClient): Promise<string> {
  const res = await c.get('/2fa', { accept: 'json' });
  if (typeof res.body?.csrfToken !== 'string') throw new Error(`no csrfToken: ${res.status} ${res.text}`);
  return res.body.csrfToken;
}

/** The secret key shown on the setup page (grouped by 4 for reading). */
export function secretOf(page: string): string {
  const m = /<code id="secret-key">([A-Z2-7 ]+)<\/code>/.exec(page);
  if (!m) throw new Error('no secret key on the page');
  return m[1]!.replace(/\s+/g, '');
}

/** A hidden field's value. */
export function hiddenOf(page: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];
}

/** A 6-digit code that none of the steps around now would accept. */
export function wrongCode(secret: string): string {
  const near = new Set([-2, -1, 0, 1, 2].map((k) => codeAt(secret, k)));
  for (const candidate of ['000000', '111111', '222222', '333333', '444444', '555555']) {
    if (!near.has(candidate)) return candidate;
  }
  throw new Error('unreachable');
}

/** The href of the link with this text. */
export function linkHref(page: string, text: string): string | undefined {
  return new RegExp(`<a[^>]*href="([^"]*)"[^>]*>${text}</a>`).exec(page)?.[1];
}

export interface Enrolled {
  client: HttpClient;
  secret: string;
  deviceId: string;
  backupCodes: string[];
}

/** Logs `username` in with the password and links an authenticator; the session ends verified. */
export async function loginAndEnrol(ex: RunningExample, username: string): Promise<Enrolled> {
  const client = await ex.login(username);
  return { client, ...(await enrol(client)) };
}

/** A JSON admin change with the admin's password. */
export function adminPut(c: HttpClient, path: string, body: Record<string, unknown>, password = 'admin-password') {
  return c.put(path, { json: { ...body, password } });
}
