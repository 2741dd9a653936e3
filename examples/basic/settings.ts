/**
 * What both example apps (Koa here, Express in examples/express) share: the
 * 2FA settings of the example's users, and the environment `npm start` /
 * `npm run start:express` read.
 */
import type { Redis } from 'ioredis';
import type { AuditEvent, EmailMessage, EmailOptions } from '../../src/index.ts';
import type { User, UserDirectory } from './users.ts';

/** The sender of the example's emails when `MAIL_FROM` is not set. */
export const DEFAULT_MAIL_FROM = 'koa-two-factor example <security@example.test>';

/**
 * The example's email channel (codes at the gate, security notices): sent
 * over SMTP (`smtp://…`, `smtps://…`), or printed on stdout, so that
 * `npm start` works without a mail server.
 */
export type ExampleEmail = { smtpUrl: string; from?: string | undefined } | 'stdout';

/** One message on stdout, as a person reading the server's output wants it. */
function printEmail(m: EmailMessage): void {
  console.log(`--- email to ${m.to}: ${m.subject}\n${m.text.trimEnd()}\n---`);
}

/** The `email` option of `twoFactor()` for the example's channel; undefined: no email. */
export function exampleEmailOptions(email: ExampleEmail | undefined): EmailOptions | undefined {
  if (email === undefined) return undefined;
  if (email === 'stdout') return { send: printEmail };
  return { transport: email.smtpUrl, from: email.from ?? DEFAULT_MAIL_FROM };
}

/** The options both examples pass to `twoFactor()` (before the test's own). */
export function exampleTwoFactorSettings(
  o: { audit?: ((e: AuditEvent) => void) | undefined; encryptionKeys?: string | undefined; email?: ExampleEmail | undefined },
  redis: Redis | undefined,
  users: UserDirectory,
) {
  return {
    issuer: 'koa-two-factor example',
    redis,
    encryptionKeys: o.encryptionKeys,
    audit: o.audit ?? ((e: AuditEvent) => console.log(JSON.stringify({ audit: e }))),
    canManage: (user: User) => user.role === 'admin',
    verifyPassword: async (user: User, password: string) => (await users.checkPassword(user.username, password)) !== null,
    // The address tells a user by email when the admin resets their 2FA.
    listUsers: () => users.listUsers().map(({ id, username, email }) => ({ id, username, email })),
    email: exampleEmailOptions(o.email),
  };
}

export interface ServerEnv {
  port: number;
  redisUrl: string | undefined;
  encryptionKeys: string | undefined;
  cookieKeys: string[] | undefined;
  /** Always on when run as a server: SMTP when `SMTP_URL` is set, else printed on stdout. */
  email: ExampleEmail;
}

/** How the server's output says where emails go. */
export function emailLine(email: ExampleEmail): string {
  return email === 'stdout' ? 'Emails (sign-in codes, notices): printed here; set SMTP_URL to send them' : 'Emails (sign-in codes, notices): sent through SMTP_URL';
}

/** PORT, REDIS_URL, TWO_FACTOR_KEYS, COOKIE_KEYS, SMTP_URL, MAIL_FROM; exits when Redis is set without keys. */
export function readServerEnv(): ServerEnv {
  const redisUrl = process.env.REDIS_URL || undefined;
  const encryptionKeys = process.env.TWO_FACTOR_KEYS || undefined;
  if (redisUrl && !encryptionKeys) {
    console.error('REDIS_URL is set: also set TWO_FACTOR_KEYS (e.g. TWO_FACTOR_KEYS="k1:$(openssl rand -base64 32)") so secrets are encrypted at rest.');
    process.exit(1);
  }
  const smtpUrl = process.env.SMTP_URL || undefined;
  const email: ExampleEmail = smtpUrl ? { smtpUrl, from: process.env.MAIL_FROM || undefined } : 'stdout';
  return { port: Number(process.env.PORT ?? 3000), redisUrl, encryptionKeys, cookieKeys: process.env.COOKIE_KEYS?.split(','), email };
}

export const USERS_LINE = 'Users: alice / alice-password, bob / bob-password, admin / admin-password';
