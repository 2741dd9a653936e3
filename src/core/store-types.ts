/**
 * The two store interfaces. `RecordStore` is durable (an app may put it on
 * its own database); `GuardStore` holds short-lived, security-deciding state
 * and must make `attemptTotp` atomic.
 */
import type { ResolvedLimits } from './limits.ts';

/**
 * A passkey or security key (WebAuthn credential). Nothing in it is secret:
 * the private key never leaves the authenticator.
 */
export interface PasskeyCredential {
  /** The credential id, base64url. */
  credentialId: string;
  /** Its COSE public key, base64url. */
  publicKey: string;
  /** The authenticator's signature counter at its last use; 0 when it keeps none. */
  counter: number;
  /** How the browser can reach it (`internal`, `usb`, `hybrid`, …), as it reported them. */
  transports?: string[] | undefined;
}

/** One linked authenticator: an authenticator app (TOTP) or a passkey. */
export interface DeviceRecord {
  id: string;
  /** The user's name for it, e.g. `Phone`. */
  name: string;
  /** The TOTP secret, sealed by `SecretBox` (never the plain secret); `''` for a passkey. */
  sealedSecret: string;
  /** Set for a passkey; absent for an authenticator app. */
  passkey?: PasskeyCredential | undefined;
  createdAt: number;
  lastUsedAt: number | null;
}

/**
 * `advanced`: the counter moved forward (or the authenticator keeps none);
 * `regressed`: it did not move forward although it counts (a cloned
 * authenticator, or a replayed assertion), nothing written; `missing`: no such passkey.
 */
export type CounterOutcome = 'advanced' | 'regressed' | 'missing';

/** A WebAuthn challenge handed to one session, for one purpose, usable once. */
export interface PasskeyChallenge {
  /** The challenge itself, base64url, as the browser signs it. */
  challenge: string;
  userId: string;
  purpose: 'register' | 'authenticate';
  /** The random binding of the session it was given to (see `SecondFactorSession.binding`). */
  binding: string;
  expiresAt: number;
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

/** `added-first`: the user had no device before, so this one turns 2FA on. `full`: refused, nothing written. */
export type AddDeviceOutcome = 'added' | 'added-first' | 'full';

export interface Policy {
  /** 2FA required for every user. */
  requireAll: boolean;
}

export interface RecordStore {
  /** The user's record; an empty one (no devices, generation 0) when none. */
  get(userId: string): Promise<UserRecord>;
  /**
   * Links a device unless the user already has `maxDevices` devices (`full`:
   * nothing written). Must be ONE atomic step on your database (a
   * transaction, a conditional insert, a lock on the user's row): parallel
   * confirmations that each count and then insert would link more than
   * `maxDevices`. Re-adding an existing id replaces that device (name, last
   * use included) and is never `full`.
   */
  addDevice(userId: string, device: DeviceRecord, maxDevices: number): Promise<AddDeviceOutcome>;
  /**
   * Removes a device in one atomic step. With `keepLast`, the only device is
   * kept (`kept-last`): two concurrent removals cannot leave none. Removing
   * the last device also drops the backup codes (`removed-last`).
   */
  removeDevice(userId: string, deviceId: string, keepLast?: boolean): Promise<RemoveDeviceOutcome>;
  renameDevice(userId: string, deviceId: string, name: string): Promise<boolean>;
  touchDevice(userId: string, deviceId: string, at: number): Promise<void>;
  /**
   * Moves a passkey's signature counter to `counter` in one atomic step,
   * under WebAuthn's rule: when either the stored or the new counter is not
   * 0, the new one must be greater (`regressed`: nothing written). Two
   * assertions with the same counter cannot both advance it.
   */
  advancePasskeyCounter(userId: string, deviceId: string, counter: number): Promise<CounterOutcome>;
  /** Replaces the whole set of backup code hashes at once. */
  replaceBackupCodes(userId: string, hashes: string[]): Promise<void>;
  /**
   * Atomically removes a backup code: whichever of `hashes` (the forms one
   * code can be stored in) is there; true for exactly one caller.
   */
  consumeBackupCode(userId: string, hashes: readonly string[]): Promise<boolean>;
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
  | {
    kind: 'accepted'; deviceId: string; step: number;
    /** The store wrote the device's last use into the user's record itself (the Redis stores on one client); else the caller does. */
    lastUseRecorded?: boolean;
  }
  /** No candidate could be claimed; counted as a failure. `lockedForMs` > 0 when this failure started a lockout. */
  | { kind: 'rejected'; lockedForMs: number }
  /** Refused without judging the code: the user is locked out. */
  | { kind: 'locked'; retryAfterMs: number }
  /** Refused without judging: the hard cap of consecutive failures is reached (TOTP only). */
  | { kind: 'capped' };

/** The lockout a counted failure started: its `now` and `lockedForMs`, and the limits it was counted under. */
export interface StartedLock {
  now: number;
  lockedForMs: number;
  limits: ResolvedLimits;
}

/** A browser the user chose to remember ("Don't ask for a code on this browser"). */
export interface RememberedBrowser {
  /** Random, public: how the account page names it (forget). */
  id: string;
  /** Keyed hash of the cookie's token; the token itself is kept nowhere. */
  tokenHash: string;
  /** The user's 2FA generation when remembered: a bump (disable, reset, new backup codes) ends it. */
  generation: number;
  /** From the User-Agent, e.g. "Chrome on Linux". */
  name: string;
  createdAt: number;
  lastUsedAt: number;
  /** When the token was last replaced (rotated at most once a day). */
  rotatedAt: number;
  expiresAt: number;
}

/** Whose emails a send limit counts: one user's, or one address's. */
export type EmailSendScope = { userId: string } | { ip: string };

/** The `deviceId` of an accepted attempt that was the user's emailed code. */
export const EMAIL_CODE_DEVICE = '@email';

/** `refused`: the IP's window is used up, `retryAfterMs` until it ends. */
export type IpAttemptOutcome = { kind: 'counted' } | { kind: 'refused'; retryAfterMs: number };

export interface GuardStore {
  saveEnrolment(enrolment: PendingEnrolment): Promise<void>;
  getEnrolment(userId: string, id: string): Promise<PendingEnrolment | null>;
  deleteEnrolment(userId: string, id: string): Promise<void>;
  /**
   * Keeps a WebAuthn challenge until `expiresAt`, as the one live challenge
   * of its session (`binding`) for its purpose: a newer one replaces it, so
   * a session cannot pile challenges up.
   */
  saveChallenge(challenge: PasskeyChallenge): Promise<void>;
  /**
   * Removes and returns the session's live challenge for `purpose` if it is
   * `challenge`, in one atomic step: of parallel callers, exactly one gets
   * it. Another session (another binding) cannot see it, nor use it up.
   */
  takeChallenge(userId: string, binding: string, purpose: PasskeyChallenge['purpose'], challenge: string): Promise<PasskeyChallenge | null>;
  /**
   * One atomic decision: refuse if locked or capped; else claim the first
   * candidate whose step is later than its device's last accepted step and
   * start the budget over (`afterSuccess`); else count a failure (when `countFailure`).
   */
  attemptTotp(userId: string, candidates: StepCandidate[], limits: ResolvedLimits, now: number, stepTtlMs: number, countFailure: boolean, emailCodeHash?: string): Promise<AttemptOutcome>;
  /**
   * Keeps the hash of the code just emailed to the user until `expiresAt`,
   * replacing any earlier one (a newer send kills the older code). It is
   * taken by `attemptTotp` when its `emailCodeHash` matches and no device
   * claimed the code: accepted as `EMAIL_CODE_DEVICE`, in the same atomic step.
   */
  saveEmailCode(userId: string, hash: string, expiresAt: number): Promise<void>;
  /**
   * Remembers a browser until its `expiresAt`; keeps at most `maxPerUser`
   * per user, dropping the oldest (and any expired) in the same atomic step.
   */
  rememberBrowser(userId: string, browser: RememberedBrowser, maxPerUser: number): Promise<void>;
  /** The user's live remembered browsers (not expired), oldest first. */
  listRememberedBrowsers(userId: string): Promise<RememberedBrowser[]>;
  /**
   * Records a use of the browser whose token hash is `tokenHash`: its last
   * use, and a new token hash when `newTokenHash` is given. Atomic; false
   * when that browser (with that token) is no longer remembered.
   */
  touchRememberedBrowser(userId: string, id: string, tokenHash: string, lastUsedAt: number, newTokenHash?: string): Promise<boolean>;
  /** Forgets one remembered browser; false when there was none. */
  forgetRememberedBrowser(userId: string, id: string): Promise<boolean>;
  /** Forgets every remembered browser of the user. */
  forgetRememberedBrowsers(userId: string): Promise<void>;
  /** Forgets the user's emailed code (2FA was turned off: it must not outlive it). */
  deleteEmailCode(userId: string): Promise<void>;
  /**
   * Counts one email sent for a user, or from an address, in a fixed window;
   * refused (nothing counted) when `max` are used up.
   */
  countEmailSend(scope: EmailSendScope, max: number, windowMs: number): Promise<IpAttemptOutcome>;
  /** Takes back one counted send (the message could not be sent). */
  refundEmailSend(scope: EmailSendScope): Promise<void>;
  /** Remaining lockout in ms, 0 when none. Backup codes pass the hard cap. */
  lockRemaining(userId: string, now: number): Promise<number>;
  /** Counts a failure for a check that is not a TOTP (backup code, password). */
  recordFailure(userId: string, limits: ResolvedLimits, now: number): Promise<AttemptOutcome>;
  /**
   * Takes back one counted failure (a check counted before it was judged,
   * then passed). With `startedLock` — that failure started a lockout — the
   * lockout is taken back too (the backoff level, and the window restarts at
   * `startedLock.now` one failure short of the limit), but only while it is
   * still the lockout this failure started; otherwise only the failure is refunded.
   */
  refundFailure(userId: string, startedLock?: StartedLock): Promise<void>;
  /** Starts the failure budget over after a successful second factor (see `afterSuccess`). */
  recordSuccess(userId: string, limits: ResolvedLimits, now: number): Promise<void>;
  /** Forgets replay state and failures (admin reset, disable). */
  resetUser(userId: string): Promise<void>;
  /**
   * The server-side half of a session's second factor: a login that passed
   * it stays live for `ttlMs` unless ended. A session copied, restored or
   * written back after logout carries an ended login id and counts for nothing.
   */
  beginLogin(userId: string, loginId: string, ttlMs: number): Promise<void>;
  /** Ends a verified login (logout, a new login, a newer verification). */
  endLogin(userId: string, loginId: string): Promise<void>;
  /** Whether the login passed the second factor and has not ended. */
  loginAlive(userId: string, loginId: string): Promise<boolean>;
  /**
   * The per-IP limit, in one atomic step before a code or password is judged:
   * refused when the IP has used `limits.ipMaxFailures` attempts in its window
   * (a fixed window of `limits.ipWindowMs` from the first counted attempt),
   * otherwise counted. A separate read and write would let a parallel burst
   * through.
   */
  countIpAttempt(ip: string, limits: ResolvedLimits): Promise<IpAttemptOutcome>;
  /** Takes back one counted attempt (it was right, or never judged), never below zero. */
  refundIpAttempt(ip: string): Promise<void>;
}
