/**
 * The `email` option turned into what the service sends with: a `deliver`
 * function over the app's sender, a nodemailer transport, or an SMTP URL
 * (nodemailer loaded only then), and every limit with its default.
 */
import {
  defaultEmailTemplates, DEFAULT_EMAIL_CODE_DIGITS, DEFAULT_EMAIL_CODE_TTL_MS, DEFAULT_EMAIL_MAX_SENDS,
  DEFAULT_EMAIL_SEND_TIMEOUT_MS, DEFAULT_EMAIL_SEND_WINDOW_MS, type EmailMessage, type EmailSettings,
} from '../core/email.ts';
import type { EmailOptions, MailTransport } from './options.ts';

/** An SMTP URL becomes a nodemailer transport on first use; nodemailer is an optional peer. */
function smtpDeliver(url: string, from: string | undefined): (m: EmailMessage) => Promise<void> {
  let transport: Promise<MailTransport> | undefined;
  return async (m) => {
    transport ??= import('nodemailer').then((nodemailer) => nodemailer.createTransport(url) as MailTransport, (err: unknown) => {
      transport = undefined;
      throw new Error(`an SMTP URL needs nodemailer: npm install nodemailer (${err instanceof Error ? err.message : String(err)})`);
    });
    await (await transport).sendMail({ from, ...m });
  };
}

export function resolveEmail(o: EmailOptions | undefined): EmailSettings | undefined {
  if (!o) return undefined;
  const { send, transport, from } = o;
  let deliver: EmailSettings['deliver'];
  if (send) deliver = async (m) => { await send(m); };
  else if (typeof transport === 'string') deliver = smtpDeliver(transport, from);
  else if (transport) deliver = async (m) => { await transport.sendMail({ from, ...m }); };
  else throw new Error('koa-two-factor: the `email` option needs `send` or `transport`.');
  const codeDigits = o.codeDigits ?? DEFAULT_EMAIL_CODE_DIGITS;
  if (!Number.isInteger(codeDigits) || codeDigits < 6 || codeDigits > 8) throw new Error('koa-two-factor: `email.codeDigits` must be 6, 7 or 8.');
  for (const [name, value] of Object.entries({ codeTtlMs: o.codeTtlMs, maxSends: o.maxSends, sendWindowMs: o.sendWindowMs, sendTimeoutMs: o.sendTimeoutMs })) {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) throw new Error(`koa-two-factor: \`email.${name}\` must be a positive number.`);
  }
  return {
    deliver,
    templates: { ...defaultEmailTemplates, ...o.templates },
    codeDigits,
    codeTtlMs: o.codeTtlMs ?? DEFAULT_EMAIL_CODE_TTL_MS,
    maxSends: o.maxSends ?? DEFAULT_EMAIL_MAX_SENDS,
    sendWindowMs: o.sendWindowMs ?? DEFAULT_EMAIL_SEND_WINDOW_MS,
    sendTimeoutMs: o.sendTimeoutMs ?? DEFAULT_EMAIL_SEND_TIMEOUT_MS,
  };
}
