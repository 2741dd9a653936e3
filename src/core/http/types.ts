/**
 * What an adapter hands the core for one request, and what it gets back.
 * The core decides everything (who may do what, which answer, which
 * headers); an adapter only translates its framework's request, session and
 * user into a `HttpRequest` and writes an `Answer` back.
 */
import type { TwoFactorService } from '../two-factor-service.ts';
import type { Views } from '../../../views/types.ts';
import type { SessionFactsCache } from './session-facts.ts';

/** The app's session as the session middleware exposes it (koa-session, express-session). */
export interface SessionLike {
  [key: string]: unknown;
}

export interface HttpRequest<C = unknown> {
  /** Upper-case method. */
  method: string;
  /** The request path without the query, as the client sent it (mount points included). */
  path: string;
  /** Path and query as the client sent it: where a browser returns to. */
  url: string;
  /** Parsed query string. */
  query: Record<string, unknown>;
  /** A request header, or '' when absent. */
  header(name: string): string;
  /** The client's address as the app trusts it (proxy settings applied). */
  ip: string;
  /** This server's own origin, `protocol://host`, for the same-origin check. */
  ownOrigin: string;
  /**
   * The parsed body (JSON or a form), read once; whatever cannot be read
   * (malformed, mislabelled encoding, too large) rejects with `invalid_input`.
   */
  readBody(): Promise<unknown>;
  /** The app's session now, or null when the app has dropped it. */
  session(): SessionLike | null;
  /**
   * Gives the session a new id, keeping its data (session fixation); false
   * when the session middleware cannot (koa-session 5 has no `regenerate()`).
   */
  regenerateSession(): Promise<boolean>;
  /** The logged-in user now (whatever the app put there), or a falsy value. */
  user(): unknown;
  /** A cookie of the request (unsigned, as the browser sent it), or undefined. */
  cookie(name: string): string | undefined;
  /**
   * Sets a cookie on the answer: HttpOnly, SameSite=Lax, path `/`, Secure when
   * the request came over HTTPS; `maxAgeMs` 0 clears it.
   */
  setCookie(name: string, value: string, maxAgeMs: number): void;
  /** The framework's own request object, for the app's callbacks (`canManage`, `verifyPassword`, …). */
  native: C;
}

/** Headers every answer carries (no-store, CSP, Retry-After, Vary). */
export type AnswerHeaders = Record<string, string>;

/** What the core answers; an adapter writes it out and does nothing else. */
export type Answer =
  | { kind: 'json'; status: number; body: unknown; headers: AnswerHeaders }
  | { kind: 'html'; status: number; html: string; headers: AnswerHeaders }
  | { kind: 'redirect'; status: 302 | 303; location: string; headers: AnswerHeaders }
  /** A static file the pages load (the passkey script): text with its content type. */
  | { kind: 'asset'; status: number; contentType: string; body: string; headers: AnswerHeaders };

/** Email settings the HTTP layer needs (the sending itself is the service's). */
export interface EmailHttpSettings {
  enabled: boolean;
  /** The user's address, or undefined (none, or not an address). */
  addressOf(user: unknown): string | undefined;
  allowForStepUp: boolean;
  allowForRequiredUsers: boolean;
  notifications: boolean;
}

/** Remembered-browser settings as resolved from the options. */
export interface RememberHttpSettings {
  enabled: boolean;
  days: number;
  ttlMs: number;
  maxPerUser: number;
  cookieName: string;
  allowForRequiredUsers: boolean;
}

/** Passkey settings as resolved from the options; the relying party of a request is derived from them. */
export interface PasskeySettings {
  enabled: boolean;
  /** Explicit relying-party id; undefined: the request's host name (warned once). */
  rpId: string | undefined;
  rpName: string;
  /** Explicit origins; undefined: the request's own origin. */
  origins: string[] | undefined;
  userVerification: 'required' | 'preferred' | 'discouraged';
}

/** The settings the HTTP layer reads, resolved once from the options (src/config). */
export interface HttpSettings<C = unknown> {
  service: TwoFactorService;
  prefix: string;
  sessionKey: string;
  loginPath: string;
  logoutPath: string;
  logoutMethod: 'POST' | 'GET';
  afterVerifyPath: string;
  recentVerificationMs: number;
  contentSecurityPolicy: string | false;
  publicPaths: (string | RegExp)[];
  passkeys: PasskeySettings;
  email: EmailHttpSettings;
  remember: RememberHttpSettings;
  views: Views;
  /** Each login's state, cached per process (see session-facts.ts). */
  facts: SessionFactsCache;
  canManage(user: unknown, native: C): Promise<boolean>;
  verifyPassword(user: unknown, password: string): Promise<boolean>;
  listUsers(): Promise<{ id: string; username: string; email?: string }[]>;
  /**
   * A user's id, or null when it is not usable (never throws): such a user
   * is refused, never let through.
   */
  userIdOf(user: unknown): string | null;
  /**
   * The logged-in user's id, or null when nobody is logged in; a user whose
   * id cannot be read throws `forbidden` (and is logged once).
   */
  userId(user: unknown): string | null;
  accountName(user: unknown): string;
  /** Where warnings go. */
  log(message: string): void;
  /** Logs `message` the first time `key` is seen: an integration mistake is said once, not per request. */
  warnOnce(key: string, message: string): void;
}
