/**
 * The two store interfaces. `RecordStore` is durable (an app may put it on
 * its own database); `GuardStore` holds short-lived, security-deciding state
 * and must make `attemptTotp` atomic.
 */
import type { ResolvedLimits } from '../core/limits.ts';

/** One linked authenticator. */
export interface DeviceRecord {
  id: string;
  /** The user's name for it, e.g. `Phone`. */
  name: string;
  /** The TOTP secret, sealed by `SecretBox` (never the plain secret). */
  sealedSecret: string;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Everything durable about one user's 2FA. */
export interface UserRecord {
  userId: string;
  devices: DeviceRecord[];
  /** How many unused backup codes remain. */
  backupCodesRemaining: number;
  /** Set by an admin for this user. */
  required: boolean;
  /** Bumped when sessions verified earlier must verify again. */
  generation: number;
}

export type RemoveDeviceOutcome = 'removed' | 'removed-last' | 'missing' | 'kept-last';

export interface Policy {
  /** 2FA required for every user. */
  requireAll: boolean;
}

export interface RecordStore {
  /** The user's record; an empty one (no devices, generation 0) when none. */
  get(userId: string): Promise<UserRecord>;
  addDevice(userId: string, device: DeviceRecord): Promise<void>;
  /**
   * Removes a device in one atomic step. With `keepLast`, the only device is
   * kept (`kept-last`): two concurrent removals cannot leave none. Removing
   * the last device also drops the backup codes (`removed-last`).
   */
  removeDevice(userId: string, deviceId: string, keepLast?: boolean): Promise<RemoveDeviceOutcome>;
  renameDevice(userId: string, deviceId: string, name: string): Promise<boolean>;
  touchDevice(userId: string, deviceId: string, at: number): Promise<void>;
  /** Replaces the whole set of backup code hashes at once. */
  replaceBackupCodes(userId: string, hashes: string[]): Promise<void>;
  /** Atomically removes one backup code hash; true for exactly one caller. */
  consumeBackupCode(userId: string, hash: string): Promise<boolean>;
  /** Removes devices and backup codes (disable, admin reset). */
  clearFactors(userId: string): Promise<void>;
  /** Increments and returns the generation. */
  bumpGeneration(userId: string): Promise<number>;
  setRequired(userIds: string[], required: boolean): Promise<void>;
  getPolicy(): Promise<Policy>;
  setPolicy(policy: Policy): Promise<void>;
}

/** A secret shown to the user but not yet proven with a code. */
export interface PendingEnrolment {
  id: string;
  userId: string;
  name: string;
  sealedSecret: string;
  createdAt: number;
  expiresAt: number;
}

/** A device whose code matched, at the time step it matched. */
export interface StepCandidate {
  deviceId: string;
  step: number;
}

export type AttemptOutcome =
  /** A candidate's step was later than that device's last one, and is now claimed. */
  | { kind: 'accepted'; deviceId: string; step: number }
  /** No candidate could be claimed; counted as a failure. `lockedForMs` > 0 when this failure started a lockout. */
  | { kind: 'rejected'; lockedForMs: number }
  /** Refused without judging the code: the user is locked out. */
  | { kind: 'locked'; retryAfterMs: number }
  /** Refused without judging: the hard cap of consecutive failures is reached (TOTP only). */
  | { kind: 'capped' };

export interface GuardStore {
  saveEnrolment(enrolment: PendingEnrolment): Promise<void>;
  getEnrolment(userId: string, id: string): Promise<PendingEnrolment | null>;
  deleteEnrolment(userId: string, id: string): Promise<void>;
  /**
   * One atomic decision: refuse if locked or capped; else claim the first
   * candidate whose step is later than its device's last accepted step and
   * start the budget over (`afterSuccess`); else count a failure (when `countFailure`).
   */
  attemptTotp(userId: string, candidates: StepCandidate[], limits: ResolvedLimits, now: number, stepTtlMs: number, countFailure: boolean): Promise<AttemptOutcome>;
  /** Remaining lockout in ms, 0 when none. Backup codes pass the hard cap. */
  lockRemaining(userId: string, now: number): Promise<number>;
  /** Counts a failure for a check that is not a TOTP (backup code, password). */
  recordFailure(userId: string, limits: ResolvedLimits, now: number): Promise<AttemptOutcome>;
  /** Takes back one counted failure (a check counted before it was judged, then passed). */
  refundFailure(userId: string): Promise<void>;
  /** Starts the failure budget over after a successful second factor (see `afterSuccess`). */
  recordSuccess(userId: string, limits: ResolvedLimits, now: number): Promise<void>;
  /** Forgets replay state and failures (admin reset, disable). */
  resetUser(userId: string): Promise<void>;
  /** Failures from this IP in the current window. */
  ipFailures(ip: string): Promise<number>;
  recordIpFailure(ip: string, limits: ResolvedLimits): Promise<void>;
}
