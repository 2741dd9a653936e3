/**
 * The framework-free heart of the package: enrolment, checking a second
 * factor against the failure budget and replay state, and status. Adapters
 * (Koa today, Express later) translate HTTP to these calls.
 */
import { randomBytes } from 'node:crypto';
import type { AuditEvent, AuditEventType, AuditHook } from './audit.ts';
import { BACKUP_CODE_COUNT, generateBackupCodes, hashBackupCode, normalizeBackupCode } from './backup-codes.ts';
import { parseEncryptionKeys, SecretBox, type EncryptionKey } from './encryption.ts';
import { ERRORS, isTwoFactorError, TwoFactorError } from './errors.ts';
import { resolveLimits, type LimitOptions, type ResolvedLimits } from './limits.ts';
import { buildOtpauthUri } from './otpauth-uri.ts';
import { qrSvg } from './qr-code.ts';
import { twoFactorState, type TwoFactorState } from './state.ts';
import { generateSecret, isTotpShape, matchTimeStep, resolveTotpOptions, type ResolvedTotpOptions, type TotpOptions } from './totp.ts';
import { readCodeField, readStringField } from './code-input.ts';
import type { AttemptOutcome, GuardStore, RecordStore, StepCandidate, UserRecord } from '../stores/types.ts';
import { STEP_TTL_SKEW_MS } from '../stores/redis-keys.ts';

/** A pending secret stays usable for 10 minutes: time to find the phone, not to forget the tab. */
export const DEFAULT_ENROLMENT_TTL_MS = 10 * 60_000;
/** A store that has not answered within a second is treated as down: fail closed. */
export const DEFAULT_STORE_TIMEOUT_MS = 1000;
/** Authenticators one user may link. */
export const DEFAULT_MAX_DEVICES = 10;
export const DEFAULT_DEVICE_NAME = 'Authenticator';
const MAX_NAME_LENGTH = 64;

export interface TwoFactorCoreOptions {
  /** Durable per-user records. */
  records: RecordStore;
  /** Ephemeral guard state (replay, failures, pending enrolments). */
  guard: GuardStore;
  /** AES-256-GCM keys for secrets at rest, first is current; or the `id:key,id:key` string form. */
  encryptionKeys: EncryptionKey[] | string;
  /** Name shown in the authenticator app. */
  issuer: string;
  /** TOTP parameters and window. */
  totp?: TotpOptions | undefined;
  /** Failure budget and per-IP limit. */
  limits?: LimitOptions | undefined;
  /** Lifetime of a secret shown but not yet confirmed. Default `DEFAULT_ENROLMENT_TTL_MS`. */
  enrolmentTtlMs?: number | undefined;
  /** Deadline for one operation's store calls before answering `store_unavailable`. Default `DEFAULT_STORE_TIMEOUT_MS`. */
  storeTimeoutMs?: number | undefined;
  /** Most authenticators per user. Default `DEFAULT_MAX_DEVICES`. */
  maxDevices?: number | undefined;
  /** Receives audit events; its errors are logged, never thrown. */
  audit?: AuditHook | undefined;
  /** Where operational warnings go. Default `console.warn`. */
  logger?: ((message: string) => void) | undefined;
  /** Clock, for tests. Default `Date.now`. */
  now?: (() => number) | undefined;
}

/** Who is asking, for limits and audit events. */
export interface RequestInfo {
  ip?: string | undefined;
  /** The acting user when it is not the subject (an admin). */
  actor?: string | undefined;
  /** Which endpoint checked the code, for audit events. */
  endpoint: string;
}

export interface EnrolmentStarted {
  enrolmentId: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
  expiresAt: string;
  deviceName: string;
}

export interface EnrolmentConfirmed {
  state: 'active';
  deviceId: string;
  deviceName: string;
  /** Only when this was the first device: shown once, never again. */
  backupCodes?: string[];
  generation: number;
}

export interface FactorChecked {
  method: 'totp' | 'backup';
  deviceId?: string;
  backupCodesRemaining: number;
  generation: number;
}

export interface TwoFactorStatus {
  state: TwoFactorState;
  required: boolean;
  devices: { id: string; name: string; createdAt: string; lastUsedAt: string | null }[];
  backupCodesRemaining: number;
  generation: number;
}

const noSuchDevice = () => new TwoFactorError('invalid_input', { field: 'id' }, 'No authenticator with that id.');
const lastDeviceRequired = () => new TwoFactorError('conflict', {}, 'Two-factor authentication is required: add another authenticator before removing the last one.');

export class TwoFactorService {
  readonly totp: ResolvedTotpOptions;
  readonly limits: ResolvedLimits;
  readonly enrolmentTtlMs: number;
  private readonly records: RecordStore;
  private readonly guard: GuardStore;
  private readonly box: SecretBox;
  private readonly backupKeys: Buffer[];
  readonly issuer: string;
  private readonly storeTimeoutMs: number;
  private readonly maxDevices: number;
  private readonly stepTtlMs: number;
  private readonly auditHook: AuditHook | undefined;
  private readonly log: (message: string) => void;
  private readonly now: () => number;

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
    this.stepTtlMs = (2 * this.totp.window + 1) * this.totp.period * 1000 + STEP_TTL_SKEW_MS;
    this.auditHook = o.audit;
    this.log = o.logger ?? ((m) => console.warn(m));
    this.now = o.now ?? Date.now;
  }

  /** The user's state as the gate needs it: one record read and the policy. */
  sessionState(userId: string): Promise<{ state: TwoFactorState; generation: number }> {
    return this.guarded(async () => {
      const [record, required] = await this.recordAndRequirement(userId);
      return { state: twoFactorState(record.devices.length > 0, required), generation: record.generation };
    });
  }

  status(userId: string): Promise<TwoFactorStatus> {
    return this.guarded(async () => {
      const [record, required] = await this.recordAndRequirement(userId);
      return {
        state: twoFactorState(record.devices.length > 0, required),
        required,
        devices: record.devices.map((d) => ({
          id: d.id,
          name: d.name,
          createdAt: new Date(d.createdAt).toISOString(),
          lastUsedAt: d.lastUsedAt === null ? null : new Date(d.lastUsedAt).toISOString(),
        })),
        backupCodesRemaining: record.backupCodesRemaining,
        generation: record.generation,
      };
    });
  }

  /** Creates a pending secret; nothing is active until `confirmEnrolment`. */
  startEnrolment(userId: string, accountName: string, deviceNameInput: unknown, info: RequestInfo): Promise<EnrolmentStarted> {
    const deviceName = readStringField(deviceNameInput, 'name', MAX_NAME_LENGTH) ?? DEFAULT_DEVICE_NAME;
    return this.guarded(async () => {
      const record = await this.records.get(userId);
      if (record.devices.length >= this.maxDevices) {
        throw new TwoFactorError('conflict', {}, `At most ${this.maxDevices} authenticators can be linked.`);
      }
      const secret = generateSecret();
      const now = this.now();
      const id = randomBytes(12).toString('base64url');
      await this.guard.saveEnrolment({
        id, userId, name: deviceName, sealedSecret: this.box.seal(secret, userId), createdAt: now, expiresAt: now + this.enrolmentTtlMs,
      });
      this.audit('enrolment.started', userId, info, 'success', { enrolmentId: id });
      return this.describeEnrolment(id, secret, accountName, now + this.enrolmentTtlMs, deviceName);
    });
  }

  /** A still-pending enrolment shown again (after a mistyped code), or null. */
  resumeEnrolment(userId: string, enrolmentIdInput: unknown, accountName: string): Promise<EnrolmentStarted | null> {
    const enrolmentId = readStringField(enrolmentIdInput, 'enrolmentId', 64);
    if (!enrolmentId) return Promise.resolve(null);
    return this.guarded(async () => {
      const pending = await this.guard.getEnrolment(userId, enrolmentId);
      if (!pending) return null;
      return this.describeEnrolment(pending.id, this.box.open(pending.sealedSecret, userId), accountName, pending.expiresAt, pending.name);
    });
  }

  private async describeEnrolment(id: string, secret: string, accountName: string, expiresAt: number, deviceName: string): Promise<EnrolmentStarted> {
    const otpauthUri = buildOtpauthUri({ issuer: this.issuer, accountName, secret, totp: this.totp });
    return { enrolmentId: id, secret, otpauthUri, qrSvg: await qrSvg(otpauthUri), expiresAt: new Date(expiresAt).toISOString(), deviceName };
  }

  /** Proves a pending secret with a code and makes it an active device. */
  confirmEnrolment(userId: string, enrolmentIdInput: unknown, codeInput: unknown, info: RequestInfo): Promise<EnrolmentConfirmed> {
    const enrolmentId = readStringField(enrolmentIdInput, 'enrolmentId', 64, true)!;
    const code = readCodeField(codeInput);
    return this.guarded(async () => {
      const [pending, record] = await Promise.all([this.guard.getEnrolment(userId, enrolmentId), this.records.get(userId)]);
      if (!pending) {
        throw new TwoFactorError('invalid_input', { field: 'enrolmentId' }, 'This setup has expired or does not exist. Start again.');
      }
      const now = this.now();
      const step = isTotpShape(code, this.totp.digits) ? matchTimeStep(this.box.open(pending.sealedSecret, userId), code, now, this.totp) : null;
      if (step === null) return this.failed(userId, await this.guard.recordFailure(userId, this.limits, now), info);
      // Claims the step for the new device id so this code cannot pass the gate again.
      const outcome = await this.guard.attemptTotp(userId, [{ deviceId: pending.id, step }], this.limits, now, this.stepTtlMs, false);
      if (outcome.kind === 'locked') throw this.lockedError(outcome.retryAfterMs);
      if (outcome.kind !== 'accepted') throw new TwoFactorError('invalid_code');
      const first = record.devices.length === 0;
      await this.records.addDevice(userId, {
        id: pending.id, name: pending.name, sealedSecret: pending.sealedSecret, createdAt: now, lastUsedAt: now,
      });
      await this.guard.deleteEnrolment(userId, pending.id);
      let backupCodes: string[] | undefined;
      if (first) {
        backupCodes = generateBackupCodes(BACKUP_CODE_COUNT);
        await this.records.replaceBackupCodes(userId, backupCodes.map((c) => this.backupHash(userId, normalizeBackupCode(c)!, 0)));
      }
      // Enabling 2FA ends the verified status of the user's other sessions.
      const generation = first ? await this.records.bumpGeneration(userId) : record.generation;
      this.audit('enrolment.confirmed', userId, info, 'success', { deviceId: pending.id, firstDevice: first });
      return { state: 'active', deviceId: pending.id, deviceName: pending.name, ...(backupCodes ? { backupCodes } : {}), generation };
    });
  }

  /**
   * Checks a TOTP or backup code against the user's devices, the replay state
   * and the shared failure budget. Every wrong, replayed or foreign code gets
   * the same `invalid_code`.
   */
  checkSecondFactor(userId: string, codeInput: unknown, info: RequestInfo): Promise<FactorChecked> {
    const code = readCodeField(codeInput);
    return this.guarded(async () => {
      const [record, ipFailures] = await Promise.all([
        this.records.get(userId),
        info.ip && this.limits.ipMaxFailures > 0 ? this.guard.ipFailures(info.ip) : Promise.resolve(0),
      ]);
      if (this.limits.ipMaxFailures > 0 && ipFailures >= this.limits.ipMaxFailures) {
        this.audit('verification.failed', userId, info, 'failure', { reason: 'ip_limit' });
        throw new TwoFactorError('too_many_attempts', { retryAfter: Math.ceil(this.limits.ipWindowMs / 1000) });
      }
      if (record.devices.length === 0) {
        // Nothing to check against: a code cannot be right. Still counted.
        return this.failed(userId, await this.guard.recordFailure(userId, this.limits, this.now()), info);
      }
      if (isTotpShape(code, this.totp.digits)) return this.checkTotp(record, code, info);
      const normalized = normalizeBackupCode(code);
      if (normalized) return this.checkBackupCode(record, normalized, info);
      return this.failed(userId, await this.guard.recordFailure(userId, this.limits, this.now()), info);
    });
  }

  /** Replaces the backup codes after a fresh code; the old set dies at once. */
  regenerateBackupCodes(userId: string, codeInput: unknown, info: RequestInfo): Promise<{ backupCodes: string[]; generation: number }> {
    return this.guarded(async () => {
      await this.checkSecondFactor(userId, codeInput, info);
      const backupCodes = generateBackupCodes(BACKUP_CODE_COUNT);
      await this.records.replaceBackupCodes(userId, backupCodes.map((c) => this.backupHash(userId, normalizeBackupCode(c)!, 0)));
      const generation = await this.records.bumpGeneration(userId);
      this.audit('backup_codes.regenerated', userId, info, 'success', {});
      return { backupCodes, generation };
    });
  }

  /** Unlinks one authenticator after a fresh code; refused for the last one while 2FA is required. */
  removeDevice(userId: string, deviceIdInput: unknown, codeInput: unknown, info: RequestInfo): Promise<{ state: TwoFactorState; generation: number }> {
    const deviceId = readStringField(deviceIdInput, 'id', 64, true)!;
    readCodeField(codeInput);
    return this.guarded(async () => {
      const [record, required] = await this.recordAndRequirement(userId);
      if (!record.devices.some((d) => d.id === deviceId)) {
        throw noSuchDevice();
      }
      if (required && record.devices.length === 1) {
        throw lastDeviceRequired();
      }
      await this.checkSecondFactor(userId, codeInput, info);
      // Atomic in the store: two sessions removing the two last devices at once cannot leave none.
      const outcome = await this.records.removeDevice(userId, deviceId, required);
      if (outcome === 'missing') throw noSuchDevice();
      if (outcome === 'kept-last') {
        throw lastDeviceRequired();
      }
      const last = outcome === 'removed-last';
      const generation = await this.records.bumpGeneration(userId);
      this.audit('device.removed', userId, info, 'success', { deviceId, lastDevice: last });
      return { state: twoFactorState(!last, required), generation };
    });
  }

  renameDevice(userId: string, deviceIdInput: unknown, nameInput: unknown, info: RequestInfo): Promise<void> {
    const deviceId = readStringField(deviceIdInput, 'id', 64, true)!;
    const name = readStringField(nameInput, 'name', MAX_NAME_LENGTH, true)!;
    return this.guarded(async () => {
      if (!(await this.records.renameDevice(userId, deviceId, name))) {
        throw noSuchDevice();
      }
      this.audit('device.renamed', userId, info, 'success', { deviceId });
    });
  }

  /** Turns 2FA off after a fresh code: devices and backup codes go. Refused while required. */
  disable(userId: string, codeInput: unknown, info: RequestInfo): Promise<{ state: TwoFactorState; generation: number }> {
    readCodeField(codeInput);
    return this.guarded(async () => {
      const [, required] = await this.recordAndRequirement(userId);
      if (required) {
        throw new TwoFactorError('forbidden', {}, 'Two-factor authentication is required for your account and cannot be turned off.');
      }
      await this.checkSecondFactor(userId, codeInput, info);
      await this.records.clearFactors(userId);
      const generation = await this.records.bumpGeneration(userId);
      this.audit('disabled', userId, info, 'success', {});
      return { state: 'none', generation };
    });
  }

  /**
   * Confirms an admin action with the admin's own password. A wrong password
   * counts against the admin's failure budget, like a wrong code.
   */
  confirmAdmin(adminId: string, checkPassword: () => Promise<boolean>, info: RequestInfo): Promise<void> {
    return this.guarded(async () => {
      const now = this.now();
      // Counted first (atomic with the lock check) so parallel guesses stay
      // within the budget; a right password takes its count back.
      const outcome = await this.guard.recordFailure(adminId, this.limits, now);
      if (outcome.kind === 'locked') throw this.lockedError(outcome.retryAfterMs);
      if (outcome.kind === 'rejected' && outcome.lockedForMs === 0 && (await checkPassword())) {
        await this.guard.refundFailure(adminId);
        return;
      }
      this.audit('verification.failed', adminId, info, 'failure', { method: 'password' });
      if (outcome.kind === 'rejected' && outcome.lockedForMs > 0) this.audit('lockout', adminId, info, 'failure', { lockedForMs: outcome.lockedForMs });
      throw new TwoFactorError('forbidden', { field: 'password' }, 'That password is not right.');
    });
  }

  /** Each listed user's state and requirement, and the global flag. */
  usersOverview(users: { id: string; username: string }[]): Promise<{ requireAll: boolean; users: { id: string; username: string; state: TwoFactorState; required: boolean }[] }> {
    return this.guarded(async () => {
      const [policy, records] = await Promise.all([this.records.getPolicy(), Promise.all(users.map((u) => this.records.get(u.id)))]);
      return {
        requireAll: policy.requireAll,
        users: users.map((u, i) => {
          const required = policy.requireAll || records[i]!.required;
          return { id: u.id, username: u.username, state: twoFactorState(records[i]!.devices.length > 0, required), required };
        }),
      };
    });
  }

  setPolicy(requireAllInput: unknown, info: RequestInfo): Promise<{ requireAll: boolean }> {
    if (typeof requireAllInput !== 'boolean') throw new TwoFactorError('invalid_input', { field: 'requireAll' }, 'requireAll must be true or false.');
    return this.guarded(async () => {
      await this.records.setPolicy({ requireAll: requireAllInput });
      this.audit('policy.changed', info.actor ?? '', info, 'success', { requireAll: requireAllInput });
      return { requireAll: requireAllInput };
    });
  }

  /** Requires (or stops requiring) 2FA for chosen users; a conflict while it is required for all. */
  setRequired(userIdsInput: unknown, requiredInput: unknown, info: RequestInfo): Promise<{ userIds: string[]; required: boolean }> {
    if (!Array.isArray(userIdsInput) || userIdsInput.length === 0 || userIdsInput.length > 1000 || !userIdsInput.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 256)) {
      throw new TwoFactorError('invalid_input', { field: 'userIds' }, 'userIds must be a non-empty list of user ids.');
    }
    if (typeof requiredInput !== 'boolean') throw new TwoFactorError('invalid_input', { field: 'required' }, 'required must be true or false.');
    const userIds = [...new Set(userIdsInput as string[])];
    return this.guarded(async () => {
      if ((await this.records.getPolicy()).requireAll) {
        throw new TwoFactorError('conflict', {}, 'Two-factor authentication is required for all users; per-user settings are unavailable.');
      }
      await this.records.setRequired(userIds, requiredInput);
      for (const id of userIds) this.audit('policy.changed', id, info, 'success', { required: requiredInput });
      return { userIds, required: requiredInput };
    });
  }

  /** Removes a user's 2FA (lost phone and codes) and ends their verified sessions. */
  resetUser(userId: string, info: RequestInfo): Promise<{ state: TwoFactorState }> {
    return this.guarded(async () => {
      await this.records.clearFactors(userId);
      await Promise.all([this.records.bumpGeneration(userId), this.guard.resetUser(userId)]);
      const [, required] = await this.recordAndRequirement(userId);
      this.audit('reset', userId, info, 'success', {});
      return { state: twoFactorState(false, required) };
    });
  }

  private async checkTotp(record: UserRecord, code: string, info: RequestInfo): Promise<FactorChecked> {
    const now = this.now();
    const candidates: StepCandidate[] = [];
    for (const d of record.devices) {
      const step = matchTimeStep(this.box.open(d.sealedSecret, record.userId), code, now, this.totp);
      if (step !== null) candidates.push({ deviceId: d.id, step });
    }
    const outcome = await this.guard.attemptTotp(record.userId, candidates, this.limits, now, this.stepTtlMs, true);
    if (outcome.kind !== 'accepted') return this.failed(record.userId, outcome, info);
    // Last-used time is informational: do not make the login wait for it.
    this.records.touchDevice(record.userId, outcome.deviceId, now).catch((err: unknown) => this.log(`koa-two-factor: could not record device use: ${String(err)}`));
    this.audit('verification.succeeded', record.userId, info, 'success', { method: 'totp', deviceId: outcome.deviceId });
    return { method: 'totp', deviceId: outcome.deviceId, backupCodesRemaining: record.backupCodesRemaining, generation: record.generation };
  }

  private async checkBackupCode(record: UserRecord, normalized: string, info: RequestInfo): Promise<FactorChecked> {
    const userId = record.userId;
    const now = this.now();
    // Counted before it is judged, in one atomic step with the lock check, so
    // parallel guesses cannot all slip past the lock; a success starts over.
    const counted = await this.guard.recordFailure(userId, this.limits, now);
    if (counted.kind !== 'rejected') return this.failed(userId, counted, info);
    let used = false;
    for (let i = 0; i < this.backupKeys.length && !used; i++) {
      used = await this.records.consumeBackupCode(userId, this.backupHash(userId, normalized, i));
    }
    if (!used) return this.failed(userId, counted, info);
    await this.guard.recordSuccess(userId, this.limits, now);
    const remaining = Math.max(0, record.backupCodesRemaining - 1);
    this.audit('backup_code.used', userId, info, 'success', { remaining });
    this.audit('verification.succeeded', userId, info, 'success', { method: 'backup' });
    return { method: 'backup', backupCodesRemaining: remaining, generation: record.generation };
  }

  /** Turns a refused or failed attempt into the right error, with its audit events. */
  private async failed(userId: string, outcome: AttemptOutcome, info: RequestInfo): Promise<never> {
    if (outcome.kind === 'locked') {
      this.audit('verification.failed', userId, info, 'failure', { reason: 'locked' });
      throw this.lockedError(outcome.retryAfterMs);
    }
    if (outcome.kind === 'capped') {
      this.audit('verification.failed', userId, info, 'failure', { reason: 'hard_cap' });
      throw new TwoFactorError('too_many_attempts', {}, 'Too many failed attempts: authenticator codes are blocked. Use a backup code or ask an administrator to reset your two-factor authentication.');
    }
    this.audit('verification.failed', userId, info, 'failure', {});
    if (info.ip && this.limits.ipMaxFailures > 0) await this.guard.recordIpFailure(info.ip, this.limits);
    if (outcome.kind === 'rejected' && outcome.lockedForMs > 0) {
      this.audit('lockout', userId, info, 'failure', { lockedForMs: outcome.lockedForMs });
      // Still the answer for a wrong code, but it says the wait that starts now.
      const retryAfter = Math.ceil(outcome.lockedForMs / 1000);
      throw new TwoFactorError('invalid_code', { retryAfter }, `${ERRORS.invalid_code.message} Too many failed attempts: wait before trying again.`);
    }
    throw new TwoFactorError('invalid_code');
  }

  private lockedError(retryAfterMs: number): TwoFactorError {
    return new TwoFactorError('too_many_attempts', { retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)) });
  }

  private backupHash(userId: string, normalized: string, keyIndex: number): string {
    return hashBackupCode(this.backupKeys[keyIndex]!, userId, normalized);
  }

  private async recordAndRequirement(userId: string): Promise<[UserRecord, boolean]> {
    const [record, policy] = await Promise.all([this.records.get(userId), this.records.getPolicy()]);
    return [record, record.required || policy.requireAll];
  }

  /**
   * Runs store work under a deadline. Any store error or timeout becomes
   * `store_unavailable`: the caller answers 503 and never lets anyone in.
   */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
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

  private audit(type: AuditEventType, userId: string, info: RequestInfo, outcome: AuditEvent['outcome'], detail: AuditEvent['detail']): void {
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
}
