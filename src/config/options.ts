/**
 * Options of `twoFactor()`, the same for every adapter: one type, a JSDoc
 * line and a named default for each field. `C` is the adapter's request
 * object (a Koa `Context`, an Express `Request`), passed to the app's
 * callbacks.
 */
import type { EmailMessage, EmailTemplates } from '../core/email.ts';
import type { AuditHook } from '../core/audit.ts';
import type { EncryptionKey } from '../core/encryption.ts';
import type { LimitOptions } from '../core/limits.ts';
import type { TotpOptions } from '../core/totp.ts';
import type { RedisClient } from '../stores/redis-scripts.ts';
import type { GuardStore, RecordStore } from '../core/store-types.ts';
import type { Views } from '../../views/types.ts';
export { DEFAULT_CONTENT_SECURITY_POLICY } from '../core/http/negotiate.ts';

export const DEFAULT_PREFIX = '/2fa';
export const DEFAULT_ISSUER = 'Koa app';
export const DEFAULT_SESSION_KEY = 'twoFactor';
export const DEFAULT_LOGIN_PATH = '/login';
export const DEFAULT_LOGOUT_PATH = '/logout';
/** The built-in pages sign out with a form post (with the CSRF token); `GET` for an app whose logout is a link. */
export const DEFAULT_LOGOUT_METHOD = 'POST';
export const DEFAULT_AFTER_VERIFY_PATH = '/';
/**
 * How long the gate trusts the 2FA state it cached in the session before
 * reading the store again: bounds both the per-request cost (no store read
 * within it) and how late a policy change or a disable elsewhere is noticed.
 */
export const DEFAULT_STATE_CACHE_MS = 15_000;

/**
 * Adding an authenticator to an active account needs a second factor passed
 * this recently (or a fresh code): a session left open on a shared computer
 * should not be enough to link an attacker's phone.
 */
export const DEFAULT_RECENT_VERIFICATION_MS = 5 * 60_000;

/** A user as the admin page lists it; numeric ids are fine. */
/** Anything that sends mail the way a nodemailer transport does (`transporter.sendMail`). */
export interface MailTransport {
  sendMail(mail: { from?: string | undefined; to: string; subject: string; text: string; html: string }): Promise<unknown>;
}

export interface EmailOptions {
  /** Sends one message (your own mailer); give this or `transport`. */
  send?: ((message: EmailMessage) => Promise<void> | void) | undefined;
  /** A nodemailer transport, or an SMTP URL (`smtp://…`, `smtps://…`; needs nodemailer installed). */
  transport?: MailTransport | string | undefined;
  /** The sender, e.g. `"Acme" <security@acme.test>`; with `transport`. */
  from?: string | undefined;
  /** The user's address; no address, no email for that user. Default: `user.email`. */
  getEmail?: ((user: any) => string | null | undefined) | undefined;
  /** Digits of an emailed code, 6 to 8. See `DEFAULT_EMAIL_CODE_DIGITS`. */
  codeDigits?: number | undefined;
  /** See `DEFAULT_EMAIL_CODE_TTL_MS`. */
  codeTtlMs?: number | undefined;
  /** Codes sent per user and per client address in a window. See `DEFAULT_EMAIL_MAX_SENDS`. */
  maxSends?: number | undefined;
  /** See `DEFAULT_EMAIL_SEND_WINDOW_MS`. */
  sendWindowMs?: number | undefined;
  /** See `DEFAULT_EMAIL_SEND_TIMEOUT_MS`. */
  sendTimeoutMs?: number | undefined;
  /** An emailed code also passes step-up (`requireStepUp`). Default false: an inbox is a weaker factor than a device. */
  allowForStepUp?: boolean | undefined;
  /** Offer emailed codes to users the admin policy requires 2FA of. Default true. */
  allowForRequiredUsers?: boolean | undefined;
  /** Email the user when 2FA is turned on or off, a device is added or removed, backup codes are renewed or an admin resets it. Default true. */
  notifications?: boolean | undefined;
  /** Replace the messages (code, notices). */
  templates?: Partial<EmailTemplates> | undefined;
}

/** Remembered browsers kept per user at most; remembering one more drops the oldest. */
export const DEFAULT_REMEMBERED_BROWSERS_PER_USER = 10;
/** The cookie's name (a per-user suffix is added, so people sharing a browser each keep theirs). */
export const DEFAULT_REMEMBER_COOKIE = 'tf_remember';

export interface RememberBrowserOptions {
  /** How many days "Don't ask for a code on this browser" lasts, e.g. 30. */
  days: number;
  /** Offer it to users the admin policy requires 2FA of. Default true. */
  allowForRequiredUsers?: boolean | undefined;
  /** See `DEFAULT_REMEMBERED_BROWSERS_PER_USER`. */
  maxPerUser?: number | undefined;
  /** See `DEFAULT_REMEMBER_COOKIE`. */
  cookieName?: string | undefined;
}

/** What the authenticator is asked to check about the person: `preferred` asks for a PIN or biometric where it has one. */
export const DEFAULT_PASSKEY_USER_VERIFICATION = 'preferred';

export interface PasskeyOptions {
  /** Offer passkeys on the pages and accept them. Default true. */
  enabled?: boolean | undefined;
  /**
   * The relying-party id: the domain every passkey is bound to, e.g.
   * `example.com` (then usable from `app.example.com` too). Passkeys stop
   * working when it changes. Default: each request's host name, with a
   * warning once; set it in production.
   */
  rpId?: string | undefined;
  /** The name a browser shows when creating a passkey. Default: `issuer`. */
  rpName?: string | undefined;
  /** Every origin the pages are served from, e.g. `https://app.example.com`. Default: the request's own origin. */
  origins?: string[] | undefined;
  /** See `DEFAULT_PASSKEY_USER_VERIFICATION`. */
  userVerification?: 'required' | 'preferred' | 'discouraged' | undefined;
}

export interface ListedUser {
  id: string | number;
  username: string;
  /** The user's address, to tell them by email when an admin resets their 2FA (with `email` configured). */
  email?: string | undefined;
}

export interface TwoFactorOptionsFor<C> {
  /** Name shown in the authenticator app. Default `DEFAULT_ISSUER`. */
  issuer?: string | undefined;
  /** Where the 2FA routes are mounted. Default `DEFAULT_PREFIX` (`/2fa`). */
  prefix?: string | undefined;
  /** A Redis or Cluster client for both stores (use `createRedisClient` for fail-fast settings). */
  redis?: RedisClient | undefined;
  /** Prefix of every Redis key. Default `2fa`. */
  redisKeyPrefix?: string | undefined;
  /** Durable per-user records; overrides `redis`. Default: Redis when `redis` is set, else in memory. */
  records?: RecordStore | undefined;
  /** Ephemeral guard state; overrides `redis`. Default: Redis when `redis` is set, else in memory. */
  guard?: GuardStore | undefined;
  /**
   * AES-256-GCM keys for secrets at rest (first is current), or the string
   * form `id:base64key,id2:base64key`. Required unless both stores are in
   * memory, where an ephemeral key is generated and a warning logged.
   */
  encryptionKeys?: EncryptionKey[] | string | undefined;
  /** TOTP window, period, digits, algorithm. Default ±1 step of 30 s, 6 digits, SHA-1. */
  totp?: TotpOptions | undefined;
  /** Failure budget and per-IP limit. Defaults in src/core/limits.ts. */
  limits?: LimitOptions | undefined;
  /** The logged-in user, or a falsy value. Default: Passport's (`ctx.state.user` on Koa, `req.user` on Express). */
  getUser?: ((ctx: C) => unknown) | undefined;
  /**
   * A user's stable id (a string or number; an ObjectId works too). Default
   * `user.id`, else `user._id`. A user whose id is missing or unusable is
   * refused on every gated path, never let through.
   */
  getUserId?: ((user: any) => unknown) | undefined;
  /** The account name shown in the authenticator app. Default `user.username ?? user.email ?? id`. */
  getAccountName?: ((user: any) => string) | undefined;
  /** Paths a half-logged-in session may reach besides the 2FA routes and logout (exact strings or patterns). */
  publicPaths?: (string | RegExp)[] | undefined;
  /** The app's login page, where a browser without a user is sent. Default `DEFAULT_LOGIN_PATH`. */
  loginPath?: string | undefined;
  /** The app's logout route, always reachable. Default `DEFAULT_LOGOUT_PATH`. */
  logoutPath?: string | undefined;
  /** How the built-in pages reach `logoutPath`: a form post or a link. Default `DEFAULT_LOGOUT_METHOD`. */
  logoutMethod?: 'POST' | 'GET' | undefined;
  /** Where a browser goes after the second factor when no `returnTo` was given. Default `DEFAULT_AFTER_VERIFY_PATH`. */
  afterVerifyPath?: string | undefined;
  /** Key of the 2FA namespace in `ctx.session`. Default `DEFAULT_SESSION_KEY`. */
  sessionKey?: string | undefined;
  /** See `DEFAULT_RECENT_VERIFICATION_MS`. */
  recentVerificationMs?: number | undefined;
  /** "Don't ask for a code on this browser for N days"; off unless given. See `RememberBrowserOptions`. */
  rememberBrowser?: RememberBrowserOptions | undefined;
  /** The email channel: codes at the gate and security notices; off unless given. See `EmailOptions`. */
  email?: EmailOptions | undefined;
  /** Passkeys and security keys (WebAuthn) as a second factor; see `PasskeyOptions`. */
  passkeys?: PasskeyOptions | undefined;
  /** See `DEFAULT_STATE_CACHE_MS`. */
  stateCacheMs?: number | undefined;
  /** Who may manage the 2FA policy (admin routes). Default: nobody. */
  canManage?: ((user: any, ctx: C) => boolean | Promise<boolean>) | undefined;
  /** Checks an admin's own password to confirm each admin change. Required for the admin routes. */
  verifyPassword?: ((user: any, password: string) => boolean | Promise<boolean>) | undefined;
  /** The app's users for the admin list (`id`, `username`). Required for `GET /2fa/admin/users`. */
  listUsers?: (() => Promise<ListedUser[]> | ListedUser[]) | undefined;
  /** Content-Security-Policy of the HTML pages; `false` to leave it to the app. Default `DEFAULT_CONTENT_SECURITY_POLICY`. */
  contentSecurityPolicy?: string | false | undefined;
  /** Replaces any of the default pages. */
  views?: Partial<Views> | undefined;
  /** Receives audit events (never codes or secrets). */
  audit?: AuditHook | undefined;
  /** Lifetime of a shown, unconfirmed secret. Default 10 minutes (`DEFAULT_ENROLMENT_TTL_MS`). */
  enrolmentTtlMs?: number | undefined;
  /** Most authenticators per user. Default 10 (`DEFAULT_MAX_DEVICES`). */
  maxDevices?: number | undefined;
  /** Longest life of one verified login (logout ends it sooner). Default 30 days (`DEFAULT_VERIFIED_LOGIN_TTL_MS`). */
  verifiedLoginTtlMs?: number | undefined;
  /** Deadline for store calls of one operation. Default 1000 ms. */
  storeTimeoutMs?: number | undefined;
  /** Where warnings go. Default `console.warn`. */
  logger?: ((message: string) => void) | undefined;
}
