/** What the service is built from, and who is asking on each call. */
import type { EmailSettings } from './email.ts';
import type { AuditHook } from './audit.ts';
import type { EncryptionKey } from './encryption.ts';
import type { LimitOptions } from './limits.ts';
import type { TotpOptions } from './totp.ts';
import type { GuardStore, RecordStore } from './store-types.ts';

/** A pending secret stays usable for 10 minutes: time to find the phone, not to forget the tab. */
export const DEFAULT_ENROLMENT_TTL_MS = 10 * 60_000;
/** A store that has not answered within a second is treated as down: fail closed. */
export const DEFAULT_STORE_TIMEOUT_MS = 1000;
/** Authenticators one user may link. */
export const DEFAULT_MAX_DEVICES = 10;
/**
 * A login that passed the second factor stays verified at most 30 days (or
 * until logout): long enough for a "remember me" session, and a bound on a
 * login that never logs out.
 */
export const DEFAULT_VERIFIED_LOGIN_TTL_MS = 30 * 24 * 60 * 60_000;
export const DEFAULT_DEVICE_NAME = 'Authenticator';
export const MAX_NAME_LENGTH = 64;

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
  /** Longest life of one verified login. Default `DEFAULT_VERIFIED_LOGIN_TTL_MS`. */
  verifiedLoginTtlMs?: number | undefined;
  /** The email channel (codes and security notices); off when absent. */
  email?: EmailSettings | undefined;
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
  /** An emailed code is accepted here (the gate's verify; step-up only when the app allows it). */
  emailCode?: boolean | undefined;
}
