/** Turns `TwoFactorOptions` into the service and the settings the middleware reads. */
import type { Context } from 'koa';
import { SecretBox } from '../core/encryption.ts';
import { TwoFactorError } from '../core/errors.ts';
import { usableUserId } from '../core/session-policy.ts';
import { SessionFactsCache } from './session-facts.ts';
import { TwoFactorService } from '../core/two-factor-service.ts';
import { MemoryGuardStore } from '../stores/memory-guard-store.ts';
import { MemoryRecordStore } from '../stores/memory-record-store.ts';
import { RedisGuardStore } from '../stores/redis-guard-store.ts';
import { RedisRecordStore } from '../stores/redis-record-store.ts';
import { defaultViews } from '../../views/index.ts';
import type { Views } from '../../views/types.ts';
import {
  DEFAULT_AFTER_VERIFY_PATH, DEFAULT_ISSUER, DEFAULT_LOGIN_PATH, DEFAULT_LOGOUT_PATH, DEFAULT_PREFIX,
  DEFAULT_SESSION_KEY, DEFAULT_STATE_CACHE_MS, DEFAULT_RECENT_VERIFICATION_MS, DEFAULT_CONTENT_SECURITY_POLICY, type TwoFactorOptions,
} from './options.ts';

export interface Resolved {
  service: TwoFactorService;
  prefix: string;
  sessionKey: string;
  loginPath: string;
  logoutPath: string;
  afterVerifyPath: string;
  stateCacheMs: number;
  recentVerificationMs: number;
  contentSecurityPolicy: string | false;
  publicPaths: (string | RegExp)[];
  views: Views;
  canManage(ctx: Context): Promise<boolean>;
  verifyPassword(ctx: Context, password: string): Promise<boolean>;
  listUsers(): Promise<{ id: string; username: string }[]>;
  /** The logged-in user (whatever the app put there), or null. */
  user(ctx: Context): unknown;
  /**
   * The logged-in user's id, or null when nobody is logged in. A user whose
   * id cannot be read is refused (`forbidden`), never let through.
   */
  userId(ctx: Context): string | null;
  /** A user's id, or null when it is not usable (never throws). */
  userIdOf(user: unknown): string | null;
  /** Each verified login's state, cached per process (see session-facts.ts). */
  facts: SessionFactsCache;
  /** Where warnings go. */
  log(message: string): void;
  accountName(ctx: Context): string;
}

/** `user.id`, else Mongo's `user._id` (an ObjectId gives its hex string). */
function defaultUserId(user: { id?: unknown; _id?: unknown }): unknown {
  return user.id ?? user._id;
}

const UNREADABLE_USER_ID = 'koa-two-factor: the logged-in user has no usable id, so two-factor authentication refuses the request. Set the `getUserId` option (the default reads `user.id`, then `user._id`).';

export function resolveOptions(o: TwoFactorOptions): Resolved {
  const records = o.records ?? (o.redis ? new RedisRecordStore(o.redis, { keyPrefix: o.redisKeyPrefix }) : new MemoryRecordStore());
  const guard = o.guard ?? (o.redis ? new RedisGuardStore(o.redis, { keyPrefix: o.redisKeyPrefix }) : new MemoryGuardStore());
  const log = o.logger ?? ((m: string) => console.warn(m));
  let encryptionKeys = o.encryptionKeys;
  if (!encryptionKeys || encryptionKeys.length === 0) {
    if (!(records instanceof MemoryRecordStore)) {
      throw new Error('koa-two-factor: `encryptionKeys` is required with a persistent record store (secrets are encrypted at rest). Generate one with `openssl rand -base64 32` and pass it as `encryptionKeys: "k1:<key>"`.');
    }
    encryptionKeys = [{ id: 'dev', key: SecretBox.randomKey() }];
    log('koa-two-factor: no encryptionKeys given; using an ephemeral key for the in-memory development stores. Secrets will not survive a restart.');
  }
  const prefix = (o.prefix ?? DEFAULT_PREFIX).replace(/\/+$/, '');
  const getUser = o.getUser ?? ((ctx: Context) => ctx.state.user);
  const getUserId: (user: any) => unknown = o.getUserId ?? defaultUserId;
  let warnedUserId = false;
  // An app's getUserId that throws on an odd user is an unusable id, not a 500.
  const userIdOf = (user: unknown): string | null => {
    try {
      return usableUserId(getUserId(user));
    } catch {
      return null;
    }
  };
  const getAccountName = o.getAccountName ?? ((u: { username?: unknown; email?: unknown; id?: unknown }) => String(u.username ?? u.email ?? u.id));
  const service = new TwoFactorService({
    records, guard, encryptionKeys,
    issuer: o.issuer ?? DEFAULT_ISSUER,
    totp: o.totp, limits: o.limits, audit: o.audit, storeTimeoutMs: o.storeTimeoutMs, logger: log,
    enrolmentTtlMs: o.enrolmentTtlMs, maxDevices: o.maxDevices, verifiedLoginTtlMs: o.verifiedLoginTtlMs,
  });
  return {
    service,
    prefix,
    sessionKey: o.sessionKey ?? DEFAULT_SESSION_KEY,
    loginPath: o.loginPath ?? DEFAULT_LOGIN_PATH,
    logoutPath: o.logoutPath ?? DEFAULT_LOGOUT_PATH,
    afterVerifyPath: o.afterVerifyPath ?? DEFAULT_AFTER_VERIFY_PATH,
    stateCacheMs: o.stateCacheMs ?? DEFAULT_STATE_CACHE_MS,
    recentVerificationMs: o.recentVerificationMs ?? DEFAULT_RECENT_VERIFICATION_MS,
    contentSecurityPolicy: o.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY,
    publicPaths: o.publicPaths ?? [],
    views: { ...defaultViews, ...o.views },
    async canManage(ctx) {
      const user = getUser(ctx);
      return Boolean(user && o.canManage && (await o.canManage(user, ctx)));
    },
    async verifyPassword(ctx, password) {
      if (!o.verifyPassword) throw new Error('koa-two-factor: the admin routes need the `verifyPassword` option');
      return Boolean(await o.verifyPassword(getUser(ctx), password));
    },
    async listUsers() {
      if (!o.listUsers) throw new Error('koa-two-factor: GET /2fa/admin/users needs the `listUsers` option');
      return (await o.listUsers()).map((u) => ({ id: String(u.id), username: String(u.username) }));
    },
    user: getUser,
    userIdOf,
    userId(ctx) {
      const user = getUser(ctx);
      if (!user) return null;
      const id = userIdOf(user);
      if (id !== null) return id;
      if (!warnedUserId) log(UNREADABLE_USER_ID);
      warnedUserId = true;
      throw new TwoFactorError('forbidden', { reason: 'user_id_unreadable' }, UNREADABLE_USER_ID);
    },
    facts: new SessionFactsCache(service, o.stateCacheMs ?? DEFAULT_STATE_CACHE_MS),
    log,
    accountName(ctx) {
      return getAccountName(getUser(ctx));
    },
  };
}
