/** Small helpers every 2FA route uses. */
import { TwoFactorError } from '../../errors.ts';
import { isVerified, type SecondFactorSession, type SessionFacts } from '../../session-policy.ts';
import type { RequestInfo } from '../../service-options.ts';
import { createHash } from 'node:crypto';
import { PASSKEYS_SCRIPT } from '../../../../views/assets/passkeys-script.ts';
import type { SecurityNotice } from '../../email.ts';
import { PasskeyProof, type RelyingParty } from '../../passkeys.ts';
import { csrfToken } from '../csrf.ts';
import { pageAnswer } from '../negotiate.ts';
import { factsOf, readState } from '../session-state.ts';
import type { Answer, HttpRequest, HttpSettings } from '../types.ts';

/** One call of a route: the request, the settings, the path parameters and the body. */
export interface RouteCall {
  req: HttpRequest;
  r: HttpSettings;
  params: Record<string, string>;
  body: Record<string, unknown>;
  /** The client wants JSON (else it is a browser: pages and redirects). */
  json: boolean;
}

export type RouteHandler = (call: RouteCall) => Promise<Answer>;

export interface RouteUser {
  uid: string;
  /** The user as the app gave it (for `accountName`, `canManage`). */
  user: unknown;
  /** This user's 2FA namespace in the session, if any. */
  session: SecondFactorSession | undefined;
}

/** The logged-in user and their 2FA session state; `unauthenticated` without one. */
export function requireUser({ req, r }: RouteCall): RouteUser {
  const user = req.user();
  const uid = r.userId(user);
  if (uid === null) throw new TwoFactorError('unauthenticated', { loginUrl: r.loginPath });
  return { uid, user, session: readState(req, r, uid) };
}

/** What the stores say now, and whether this login passed the second factor for it. */
export async function verification(r: HttpSettings, user: RouteUser): Promise<{ facts: SessionFacts; verified: boolean }> {
  const facts = await factsOf(r, user.uid, user.session, true);
  return { facts, verified: isVerified(user.session, facts) };
}

/**
 * A parsed body as a plain object. Nothing is `{}`; anything else (an array,
 * a bare string) is `invalid_input` when `strict`, else `{}`.
 */
export function recordBody(raw: unknown, strict = true): Record<string, unknown> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  if (!strict) return {};
  throw new TwoFactorError('invalid_input', {}, 'The request body must be a JSON object or a form.');
}

/** The relying party for this request: the configured one, else this request's own host and origin (warned once). */
export function relyingParty(req: HttpRequest, r: HttpSettings): RelyingParty {
  const p = r.passkeys;
  let id = p.rpId;
  if (id === undefined) {
    id = new URL(req.ownOrigin).hostname;
    r.warnOnce('passkey-rp-id', `koa-two-factor: passkeys.rpId is not set, so passkeys are bound to the host name of the request (${id}). Set passkeys.rpId (and passkeys.origins) to your domain: passkeys stop working when it changes.`);
  }
  return { id, name: p.rpName, origins: p.origins ?? [req.ownOrigin], userVerification: p.userVerification };
}

/** Version of the pages' passkey script in its URL: a deploy that changes it changes the URL, so it can be cached for good. */
const PASSKEYS_SCRIPT_VERSION = createHash('sha256').update(PASSKEYS_SCRIPT).digest('base64url').slice(0, 12);

/** Where the pages reach the passkey routes and script. */
export function passkeyUrls(r: HttpSettings) {
  return {
    optionsUrl: `${r.prefix}/passkeys/options`,
    registerUrl: `${r.prefix}/passkeys`,
    authenticationOptionsUrl: `${r.prefix}/passkeys/authentication-options`,
    scriptUrl: `${r.prefix}/assets/passkeys.js?v=${PASSKEYS_SCRIPT_VERSION}`,
  };
}

/** A JSON value sent as an object (JSON clients) or as a JSON string (a page's hidden form field). */
export function jsonField(value: unknown, field: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new TwoFactorError('invalid_input', { field }, `The field "${field}" must be JSON.`);
  }
}

/**
 * The second factor a request offers: a passkey answer (field `passkey`),
 * wrapped with this session's challenge binding, else the `code` field.
 */
export function proofOf({ req, r, body }: RouteCall, user: RouteUser): unknown {
  if (body.passkey === undefined || body.passkey === '') return body.code;
  if (!r.passkeys.enabled) throw new TwoFactorError('invalid_input', { field: 'passkey' }, 'Passkeys are not enabled here.');
  return new PasskeyProof(jsonField(body.passkey, 'passkey'), user.session?.binding, relyingParty(req, r));
}

/** Emails the user about a security change, when the app has the channel and notices are on. */
export function notifyUser({ req, r }: RouteCall, uid: string, user: unknown, notice: SecurityNotice, address = r.email.addressOf(user)): void {
  if (r.email.enabled && r.email.notifications) r.service.notify(uid, address, notice, requestInfo(req, `notice/${notice}`));
}

export function requestInfo(req: HttpRequest, endpoint: string): RequestInfo {
  return { ip: req.ip, endpoint };
}

export function page(r: HttpSettings, markup: string, status = 200): Answer {
  return pageAnswer(markup, r.contentSecurityPolicy, status);
}

/** The fields every page gets. */
export function pageBase(req: HttpRequest, r: HttpSettings, returnTo: string | undefined, err?: TwoFactorError) {
  const retry = err?.details.retryAfter;
  return {
    prefix: r.prefix,
    csrfToken: csrfToken(req, r.sessionKey),
    returnTo,
    error: err?.message,
    retryAfterSeconds: typeof retry === 'number' ? retry : undefined,
    codeDigits: r.service.totp.digits,
    logoutPath: r.logoutPath,
    logoutMethod: r.logoutMethod,
  };
}

/** A form's own error (wrong code, conflict…) is shown on its page; an outage or a missing user is not. */
export function showOnPage(err: unknown, json: boolean): err is TwoFactorError {
  return err instanceof TwoFactorError && err.code !== 'store_unavailable' && !json;
}
