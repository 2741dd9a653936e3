/**
 * What both example apps (Koa here, Express in examples/express) share: the
 * 2FA settings of the example's users, and the environment `npm start` /
 * `npm run start:express` read.
 */
import type { Redis } from 'ioredis';
import type { AuditEvent } from '../../src/index.ts';
import { checkPassword, listUsers, type User } from './users.ts';

/** The options both examples pass to `twoFactor()` (before the test's own). */
export function exampleTwoFactorSettings(o: { audit?: ((e: AuditEvent) => void) | undefined; encryptionKeys?: string | undefined }, redis: Redis | undefined) {
  return {
    issuer: 'koa-two-factor example',
    redis,
    encryptionKeys: o.encryptionKeys,
    audit: o.audit ?? ((e: AuditEvent) => console.log(JSON.stringify({ audit: e }))),
    canManage: (user: User) => user.role === 'admin',
    verifyPassword: (user: User, password: string) => checkPassword(user.username, password) !== null,
    listUsers: () => listUsers().map(({ id, username }) => ({ id, username })),
  };
}

export interface ServerEnv {
  port: number;
  redisUrl: string | undefined;
  encryptionKeys: string | undefined;
  cookieKeys: string[] | undefined;
}

/** PORT, REDIS_URL, TWO_FACTOR_KEYS, COOKIE_KEYS; exits when Redis is set without keys. */
export function readServerEnv(): ServerEnv {
  const redisUrl = process.env.REDIS_URL || undefined;
  const encryptionKeys = process.env.TWO_FACTOR_KEYS || undefined;
  if (redisUrl && !encryptionKeys) {
    console.error('REDIS_URL is set: also set TWO_FACTOR_KEYS (e.g. TWO_FACTOR_KEYS="k1:$(openssl rand -base64 32)") so secrets are encrypted at rest.');
    process.exit(1);
  }
  return { port: Number(process.env.PORT ?? 3000), redisUrl, encryptionKeys, cookieKeys: process.env.COOKIE_KEYS?.split(',') };
}

export const USERS_LINE = 'Users: alice / alice-password, bob / bob-password, admin / admin-password';
