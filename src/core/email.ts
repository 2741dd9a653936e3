/**
 * The email channel: one-time codes sent to the user's address (a fallback
 * second factor at the gate) and notices of security changes. Off unless the
 * app configures a sender. Codes are stored only as a keyed hash, in the
 * guard store, and checked in the same atomic step as a TOTP code.
 */
import { createHmac, randomInt } from 'node:crypto';
import { escapeHtml } from '../../views/html.ts';
import { TwoFactorError } from './errors.ts';
import type { ServiceContext } from './service-context.ts';
import type { RequestInfo } from './service-options.ts';

/** Digits of an emailed code: 10⁶ codes, one of which is right for 10 minutes. */
export const DEFAULT_EMAIL_CODE_DIGITS = 6;
/** How long an emailed code works: long enough for a slow inbox, short enough to be useless when found later. */
export const DEFAULT_EMAIL_CODE_TTL_MS = 10 * 60_000;
/** Sends per user, and per client address, in one window. */
export const DEFAULT_EMAIL_MAX_SENDS = 3;
/** The send window: a person waiting for a late email may ask again twice, a script cannot flood an inbox. */
export const DEFAULT_EMAIL_SEND_WINDOW_MS = 15 * 60_000;
/** The longest a send may take before it counts as failed (an SMTP server that does not answer). */
export const DEFAULT_EMAIL_SEND_TIMEOUT_MS = 15_000;

/** One message, ready to send. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** Security changes a user is told about by email. */
export type SecurityNotice = 'activated' | 'device_added' | 'device_removed' | 'disabled' | 'backup_codes_regenerated' | 'reset';

export interface EmailContent { subject: string; text: string; html: string }

/** The messages; an app replaces any of them (`email.templates`). */
export interface EmailTemplates {
  code(d: { code: string; minutes: number; issuer: string }): EmailContent;
  notice(d: { notice: SecurityNotice; issuer: string; at: string }): EmailContent;
}

const NOTICE_TEXT: Record<SecurityNotice, string> = {
  activated: 'Two-factor authentication was turned on for your account.',
  device_added: 'A new authenticator (app, passkey or security key) was linked to your account.',
  device_removed: 'An authenticator was removed from your account.',
  disabled: 'Two-factor authentication was turned off for your account.',
  backup_codes_regenerated: 'New backup codes were created for your account; the old ones no longer work.',
  reset: 'An administrator removed the two-factor authentication of your account.',
};

const IF_NOT_YOU = 'If this was not you, change your password and contact your administrator.';

export const defaultEmailTemplates: EmailTemplates = {
  code: ({ code, minutes, issuer }) => ({
    subject: `${issuer}: your sign-in code`,
    text: `Your sign-in code is ${code}\n\nIt works once, for ${minutes} minutes. If you did not try to sign in, someone knows your password: change it.\n`,
    html: `<p>Your sign-in code is <strong style="font-size:1.4em;letter-spacing:.1em">${escapeHtml(code)}</strong></p><p>It works once, for ${minutes} minutes. If you did not try to sign in, someone knows your password: change it.</p>`,
  }),
  notice: ({ notice, issuer, at }) => ({
    subject: `${issuer}: a security change on your account`,
    text: `${NOTICE_TEXT[notice]}\n\nWhen: ${at}\n\n${IF_NOT_YOU}\n`,
    html: `<p>${escapeHtml(NOTICE_TEXT[notice])}</p><p>When: ${escapeHtml(at)}</p><p>${escapeHtml(IF_NOT_YOU)}</p>`,
  }),
};

/** The email settings the service runs with (resolved from the app's `email` option). */
export interface EmailSettings {
  /** Sends one message; rejects when it could not. */
  deliver: (message: EmailMessage) => Promise<void>;
  templates: EmailTemplates;
  codeDigits: number;
  codeTtlMs: number;
  maxSends: number;
  sendWindowMs: number;
  sendTimeoutMs: number;
}

/** `alice@example.com` → `a***@example.com`: enough for a person to recognise, little for an onlooker. */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** A code of `digits` digits, uniform, from the CSPRNG. */
function newCode(digits: number): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}

/** The stored form of a code: keyed, so a leaked guard store does not give codes away to a quick search. */
export function emailCodeHash(ctx: ServiceContext, userId: string, code: string): string {
  return createHmac('sha256', ctx.emailKey).update(`${userId}\n${code}`).digest('base64url');
}

/** True for a string that has the shape of an emailed code. */
export function isEmailCodeShape(code: string, digits: number): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function emailSettings(ctx: ServiceContext): EmailSettings {
  if (!ctx.email) throw new TwoFactorError('forbidden', {}, 'Email codes are not enabled here.');
  return ctx.email;
}

/**
 * Emails a new code to `address`: counted against the user's and the
 * client's send limits first (429 with `Retry-After` when used up); once it
 * is sent, its hash replaces any earlier one. When the message cannot be
 * sent, nothing changes: the code already in the user's inbox still works,
 * and the send is not counted; `email_unavailable`.
 */
export async function sendEmailCode(ctx: ServiceContext, userId: string, address: string, info: RequestInfo): Promise<{ to: string; expiresAt: string }> {
  const email = emailSettings(ctx);
  const code = newCode(email.codeDigits);
  const scopes = [{ userId }, ...(info.ip ? [{ ip: info.ip }] : [])];
  await ctx.guarded(async () => {
    const counted: typeof scopes = [];
    for (const scope of scopes) {
      const outcome = await ctx.guard.countEmailSend(scope, email.maxSends, email.sendWindowMs);
      if (outcome.kind === 'refused') {
        await Promise.all(counted.map((s) => ctx.guard.refundEmailSend(s)));
        ctx.audit('email_code.refused', userId, info, 'failure', { reason: 'ip' in scope ? 'ip_limit' : 'user_limit' });
        throw new TwoFactorError('too_many_attempts', { retryAfter: Math.max(1, Math.ceil(outcome.retryAfterMs / 1000)) }, 'Too many codes were sent. Wait before asking for another.');
      }
      counted.push(scope);
    }
  });
  const content = email.templates.code({ code, minutes: Math.max(1, Math.ceil(email.codeTtlMs / 60_000)), issuer: ctx.issuer });
  try {
    await withTimeout(email.deliver({ to: address, ...content }), email.sendTimeoutMs);
  } catch (err) {
    ctx.log(`koa-two-factor: could not send an email code: ${err instanceof Error ? err.message : String(err)}`);
    await ctx.guarded(() => Promise.all(scopes.map((s) => ctx.guard.refundEmailSend(s)))).catch(() => {});
    ctx.audit('email_code.failed', userId, info, 'failure', { to: maskAddress(address) });
    throw new TwoFactorError('email_unavailable');
  }
  // Stored once sent: a failed send leaves the previous code alone. Its life starts now.
  const expiresAt = ctx.now() + email.codeTtlMs;
  await ctx.guarded(() => ctx.guard.saveEmailCode(userId, emailCodeHash(ctx, userId, code), expiresAt));
  ctx.audit('email_code.sent', userId, info, 'success', { to: maskAddress(address) });
  return { to: maskAddress(address), expiresAt: new Date(expiresAt).toISOString() };
}

/**
 * Tells the user about a security change, by email, when the channel is on
 * and the address is known. Never fails the change it reports: a message
 * that cannot be sent is logged.
 */
export function notifyUser(ctx: ServiceContext, userId: string, address: string | undefined, notice: SecurityNotice, info: RequestInfo): void {
  if (!ctx.email || !address) return;
  const content = ctx.email.templates.notice({ notice, issuer: ctx.issuer, at: new Date(ctx.now()).toISOString() });
  withTimeout(ctx.email.deliver({ to: address, ...content }), ctx.email.sendTimeoutMs).then(
    () => ctx.audit('email_notice.sent', userId, info, 'success', { notice, to: maskAddress(address) }),
    (err: unknown) => ctx.log(`koa-two-factor: could not send a security notice (${notice}): ${err instanceof Error ? err.message : String(err)}`),
  );
}
