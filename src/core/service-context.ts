/**
 * What every operation of the service shares: the resolved options, the
 * stores, and the helpers for deadlines, audit events and backup-code hashes.
 */
import type { AuditEvent, AuditEventType, AuditHook } from './audit.ts';
import { BACKUP_CODE_COUNT, generateBackupCodes, hashBackupCode, legacyBackupHash, normalizeBackupCode } from './backup-codes.ts';
import { parseEncryptionKeys, SecretBox } from './encryption.ts';
import type { EmailSettings } from './email.ts';
import { isTwoFactorError, TwoFactorError } from './errors.ts';
import { resolveLimits, STEP_TTL_SKEW_MS, type ResolvedLimits } from './limits.ts';
import { resolveTotpOptions, type ResolvedTotpOptions } from './totp.ts';
import { DEFAULT_ENROLMENT_TTL_MS, DEFAULT_MAX_DEVICES, DEFAULT_STORE_TIMEOUT_MS, DEFAULT_VERIFIED_LOGIN_TTL_MS, type RequestInfo, type TwoFactorCoreOptions } from './service-options.ts';
import type { GuardStore, RecordStore, UserRecord } from './store-types.ts';

export class ServiceContext {
  readonly records: RecordStore;
  readonly guard: GuardStore;
  readonly box: SecretBox;
  readonly backupKeys: Buffer[];
  readonly issuer: string;
  readonly totp: ResolvedTotpOptions;
  readonly limits: ResolvedLimits;
  readonly enrolmentTtlMs: number;
  readonly storeTimeoutMs: number;
  readonly maxDevices: number;
  readonly stepTtlMs: number;
  readonly verifiedLoginTtlMs: number;
  readonly auditHook: AuditHook | undefined;
  readonly log: (message: string) => void;
  readonly now: () => number;
  /** The email channel, when the app configured one. */
  readonly email: EmailSettings | undefined;
  /** HMAC key of emailed codes (derived from the encryption key). */
  readonly emailKey: Buffer;
  /** HMAC key of remembered browsers' tokens (derived from the encryption key). */
  readonly rememberKey: Buffer;

  constructor(o: TwoFactorCoreOptions) {
    this.records = o.records;
    this.guard = o.guard;
    this.box = new SecretBox(typeof o.encryptionKeys === 'string' ? parseEncryptionKeys(o.encryptionKeys) : o.encryptionKeys);
    this.backupKeys = this.box.deriveKeys('koa-two-factor backup codes');
    this.issuer = o.issuer;
    this.totp = resolveTotpOptions(o.totp);
    this.limits = resolveLimits(o.limits);
    this.enrolmentTtlMs = o.enrolmentTtlMs ?? DEFAULT_ENROLMENT_TTL_MS;
    this.storeTimeoutMs = o.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS;
    this.maxDevices = o.maxDevices ?? DEFAULT_MAX_DEVICES;
    this.verifiedLoginTtlMs = o.verifiedLoginTtlMs ?? DEFAULT_VERIFIED_LOGIN_TTL_MS;
    this.stepTtlMs = (2 * this.totp.window + 1) * this.totp.period * 1000 + STEP_TTL_SKEW_MS;
    this.auditHook = o.audit;
    this.log = o.logger ?? ((m) => console.warn(m));
    this.now = o.now ?? Date.now;
    this.email = o.email;
    this.emailKey = this.box.deriveKeys('koa-two-factor email codes')[0]!;
    this.rememberKey = this.box.deriveKeys('koa-two-factor remembered browsers')[0]!;
  }

  /**
   * Runs store work under a deadline. Any store error or timeout becomes
   * `store_unavailable`: the caller answers 503 and never lets anyone in.
   */
  async guarded<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TwoFactorError('store_unavailable')), this.storeTimeoutMs);
    });
    try {
      return await Promise.race([work(), deadline]);
    } catch (err) {
      if (isTwoFactorError(err)) throw err;
      this.log(`koa-two-factor: store failure, failing closed: ${err instanceof Error ? err.message : String(err)}`);
      throw new TwoFactorError('store_unavailable');
    } finally {
      clearTimeout(timer);
    }
  }

  audit(type: AuditEventType, userId: string, info: RequestInfo, outcome: AuditEvent['outcome'], detail: AuditEvent['detail']): void {
    if (!this.auditHook) return;
    const event: AuditEvent = { type, userId, at: new Date(this.now()).toISOString(), outcome, detail: { endpoint: info.endpoint, ...detail } };
    if (info.actor !== undefined) event.actor = info.actor;
    if (info.ip !== undefined) event.ip = info.ip;
    try {
      Promise.resolve(this.auditHook(event)).catch((err: unknown) => this.log(`koa-two-factor: audit hook failed: ${String(err)}`));
    } catch (err) {
      this.log(`koa-two-factor: audit hook failed: ${String(err)}`);
    }
  }

  /** Every stored form a backup code can have: its hash under each listed key, now and before 0.2. */
  backupHashes(userId: string, normalized: string): string[] {
    return this.backupKeys.flatMap((key) => [hashBackupCode(key, userId, normalized), legacyBackupHash(key, userId, normalized)]);
  }

  /** A fresh set of backup codes stored (hashed with the current key) in place of the old; the codes are shown once. */
  async issueBackupCodes(userId: string): Promise<string[]> {
    const backupCodes = generateBackupCodes(BACKUP_CODE_COUNT);
    await this.records.replaceBackupCodes(userId, backupCodes.map((c) => hashBackupCode(this.backupKeys[0]!, userId, normalizeBackupCode(c)!)));
    return backupCodes;
  }

  async recordAndRequirement(userId: string): Promise<[UserRecord, boolean]> {
    const [record, policy] = await Promise.all([this.records.get(userId), this.records.getPolicy()]);
    return [record, record.required || policy.requireAll];
  }
}

export function lockedError(retryAfterMs: number): TwoFactorError {
  return new TwoFactorError('too_many_attempts', { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
}
