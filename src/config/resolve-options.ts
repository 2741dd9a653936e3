/**
 * Turns the options into the service and the settings the HTTP core reads:
 * once, the same way for every adapter. The only place that picks the
 * stores (Redis or memory) from the options.
 */
import { SecretBox } from '../core/encryption.ts';
import { TwoFactorError } from '../core/errors.ts';
import { resolveEmail } from './resolve-email.ts';
import type { RememberHttpSettings } from '../core/http/types.ts';
import { SessionFactsCache } from '../core/http/session-facts.ts';
import type { HttpSettings } from '../core/http/types.ts';
import { usableUserId } from '../core/session-policy.ts';
import { TwoFactorService } from '../core/two-factor-service.ts';
import { MemoryGuardStore } from '../stores/memory-guard-store.ts';
import { MemoryRecordStore } from '../stores/memory-record-store.ts';
import { RedisGuardStore } from '../stores/redis-guard-store.ts';
import { RedisRecordStore } from '../stores/redis-record-store.ts';
import { defaultViews } from '../../views/index.ts';
import {
  DEFAULT_AFTER_VERIFY_PATH, DEFAULT_CONTENT_SECURITY_POLICY, DEFAULT_ISSUER, DEFAULT_LOGIN_PATH, DEFAULT_LOGOUT_METHOD, DEFAULT_LOGOUT_PATH, DEFAULT_PREFIX,
  DEFAULT_PASSKEY_USER_VERIFICATION, DEFAULT_RECENT_VERIFICATION_MS, DEFAULT_REMEMBER_COOKIE, DEFAULT_REMEMBERED_BROWSERS_PER_USER, type RememberBrowserOptions, DEFAULT_SESSION_KEY, DEFAULT_STATE_CACHE_MS, type TwoFactorOptionsFor,
} from './options.ts';

/** The settings, plus how this adapter finds the logged-in user. */
export interface Resolved<C> extends HttpSettings<C> {
  getUser(ctx: C): unknown;
}

/** `user.id`, else Mongo's `user._id` (an ObjectId gives its hex string). */
function defaultUserId(user: { id?: unknown; _id?: unknown }): unknown {
  return user.id ?? user._id;
}

const UNREADABLE_USER_ID = 'koa-two-factor: the logged-in user has no usable id, so two-factor authentication refuses the request. Set the `getUserId` option (the default reads `user.id`, then `user._id`).';

function createService<C>(o: TwoFactorOptionsFor<C>, log: (m: string) => void): TwoFactorService {
  const records = o.records ?? (o.redis ? new RedisRecordStore(o.redis, { keyPrefix: o.redisKeyPrefix }) : new MemoryRecordStore());
  // The guard's attempt script writes a device's last use itself when the records are the Redis ones beside it.
  const guard = o.guard ?? (o.redis ? new RedisGuardStore(o.redis, { keyPrefix: o.redisKeyPrefix, recordLastUse: o.records === undefined }) : new MemoryGuardStore());
  let encryptionKeys = o.encryptionKeys;
  if (!encryptionKeys || encryptionKeys.length === 0) {
    if (!(records instanceof MemoryRecordStore)) {
      throw new Error('koa-two-factor: `encryptionKeys` is required with a persistent record store (secrets are encrypted at rest). Generate one with `openssl rand -base64 32` and pass it as `encryptionKeys: "k1:<key>"`.');
    }
    encryptionKeys = [{ id: 'dev', key: SecretBox.randomKey() }];
    log('koa-two-factor: no encryptionKeys given; using an ephemeral key for the in-memory development stores. Secrets will not survive a restart.');
  }
  return new TwoFactorService({
    records, guard, encryptionKeys,
    issuer: o.issuer ?? DEFAULT_ISSUER,
    totp: o.totp, limits: o.limits, audit: o.audit, storeTimeoutMs: o.storeTimeoutMs, logger: log,
    enrolmentTtlMs: o.enrolmentTtlMs, maxDevices: o.maxDevices, verifiedLoginTtlMs: o.verifiedLoginTtlMs,
    email: resolveEmail(o.email),
  });
}

function resolveRemember(o: RememberBrowserOptions | undefined): RememberHttpSettings {
  const days = o?.days ?? 0;
  if (o && !(Number.isFinite(days) && days > 0)) throw new Error('koa-two-factor: `rememberBrowser.days` must be a positive number.');
  const maxPerUser = o?.maxPerUser ?? DEFAULT_REMEMBERED_BROWSERS_PER_USER;
  if (!(Number.isInteger(maxPerUser) && maxPerUser > 0)) throw new Error('koa-two-factor: `rememberBrowser.maxPerUser` must be a positive integer.');
  return {
    enabled: o !== undefined, days, ttlMs: days * 24 * 60 * 60_000, maxPerUser,
    cookieName: o?.cookieName ?? DEFAULT_REMEMBER_COOKIE,
    allowForRequiredUsers: o?.allowForRequiredUsers ?? true,
  };
}

/** `defaultGetUser`: where the adapter's Passport puts the user. */
export function resolveOptions<C>(o: TwoFactorOptionsFor<C>, defaultGetUser: (ctx: C) => unknown): Resolved<C> {
  const log = o.logger ?? ((m: string) => console.warn(m));
  const service = createService(o, log);
  const getUserId: (user: any) => unknown = o.getUserId ?? defaultUserId;
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    log(message);
  };
  if (o.passkeys && o.passkeys.enabled !== false && o.passkeys.rpId === undefined) {
    // Same key as the first-use warning (src/core/http/routes/route-kit.ts): said once either way.
    warnOnce('passkey-rp-id', 'koa-two-factor: passkeys.rpId is not set, so passkeys are bound to the host name of each request. Set passkeys.rpId (and passkeys.origins) to your domain: passkeys stop working when it changes.');
  }
  // An app's getUserId that throws on an odd user is an unusable id, not a 500.
  const userIdOf = (user: unknown): string | null => {
    try {
      return usableUserId(getUserId(user));
    } catch {
      return null;
    }
  };
  const getAccountName = o.getAccountName ?? ((u: { username?: unknown; email?: unknown; id?: unknown }) => String(u.username ?? u.email ?? u.id));
  const stateCacheMs = o.stateCacheMs ?? DEFAULT_STATE_CACHE_MS;
  return {
    service,
    prefix: (o.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, ''),
    sessionKey: o.sessionKey ?? DEFAULT_SESSION_KEY,
    loginPath: o.loginPath ?? DEFAULT_LOGIN_PATH,
    logoutPath: o.logoutPath ?? DEFAULT_LOGOUT_PATH,
    logoutMethod: o.logoutMethod ?? DEFAULT_LOGOUT_METHOD,
    afterVerifyPath: o.afterVerifyPath ?? DEFAULT_AFTER_VERIFY_PATH,
    recentVerificationMs: o.recentVerificationMs ?? DEFAULT_RECENT_VERIFICATION_MS,
    contentSecurityPolicy: o.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY,
    email: {
      enabled: o.email !== undefined,
      addressOf: (user: unknown) => {
        try {
          const address = o.email?.getEmail ? o.email.getEmail(user) : (user as { email?: unknown } | null)?.email;
          return typeof address === 'string' && address.includes('@') ? address : undefined;
        } catch {
          return undefined;
        }
      },
      allowForStepUp: o.email?.allowForStepUp ?? false,
      allowForRequiredUsers: o.email?.allowForRequiredUsers ?? true,
      notifications: o.email?.notifications ?? true,
    },
    remember: resolveRemember(o.rememberBrowser),
    passkeys: {
      enabled: o.passkeys?.enabled ?? true,
      rpId: o.passkeys?.rpId,
      rpName: o.passkeys?.rpName ?? service.issuer,
      origins: o.passkeys?.origins,
      userVerification: o.passkeys?.userVerification ?? DEFAULT_PASSKEY_USER_VERIFICATION,
    },
    publicPaths: o.publicPaths ?? [],
    views: { ...defaultViews, ...o.views },
    facts: new SessionFactsCache(service, stateCacheMs),
    log,
    warnOnce,
    getUser: o.getUser ?? defaultGetUser,
    async canManage(user, ctx) {
      return Boolean(user && o.canManage && (await o.canManage(user, ctx)));
    },
    async verifyPassword(user, password) {
      if (!o.verifyPassword) throw new Error('koa-two-factor: the admin routes need the `verifyPassword` option');
      return Boolean(await o.verifyPassword(user, password));
    },
    async listUsers() {
      if (!o.listUsers) throw new Error('koa-two-factor: GET /2fa/admin/users needs the `listUsers` option');
      return (await o.listUsers()).map((u) => ({ id: String(u.id), username: String(u.username), ...(typeof u.email === 'string' ? { email: u.email } : {}) }));
    },
    userIdOf,
    userId(user) {
      if (!user) return null;
      const id = userIdOf(user);
      if (id !== null) return id;
      warnOnce('user-id', UNREADABLE_USER_ID);
      throw new TwoFactorError('forbidden', { reason: 'user_id_unreadable' }, UNREADABLE_USER_ID);
    },
    accountName: (user) => getAccountName(user as never),
  };
}
