/**
 * What a session may do, decided in one place from plain data: the 2FA
 * namespace an adapter keeps in the app's session, and what the stores say
 * about the user now. No framework, no I/O.
 *
 * A second factor belongs to one login, not to a user id. Passing it starts
 * a login (a random id kept in the session and, server-side, in the guard
 * store until logout); a session counts as verified only while that login is
 * live and the user's generation has not moved since.
 */
import { randomBytes } from 'node:crypto';
import type { TwoFactorState } from './state.ts';

/** How the second factor was passed. */
export type VerifiedMethod = 'totp' | 'backup' | 'passkey' | 'email' | 'remembered';

/** The 2FA namespace inside the app's session (JSON-safe). */
export interface SecondFactorSession {
  /** The user this namespace belongs to; another user starts from nothing. */
  uid: string;
  /** The verified login's id (server-side key); absent until the second factor. */
  login?: string;
  /** When the second factor was passed (ms). */
  verifiedAt?: number;
  method?: VerifiedMethod;
  /** The user's generation when verified; a bump elsewhere unverifies. */
  generation?: number;
  /**
   * A random tag of a not-yet-verified login, so what the gate caches about
   * it belongs to this login only: a new login is always read afresh.
   */
  tag?: string;
  /**
   * A random value the WebAuthn challenges given to this session are kept
   * with: an answer to a challenge given to another session is refused.
   */
  binding?: string;
}

/** What the stores say about a user and this session's login. */
export interface SessionFacts {
  state: TwoFactorState;
  generation: number;
  /** The session's login is live server-side (false when it has none). */
  loginAlive: boolean;
}

/** The namespace as stored, if it is one and belongs to `uid`. */
export function namespaceFor(raw: unknown, uid: string): SecondFactorSession | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const s = raw as SecondFactorSession;
  return s.uid === uid ? s : undefined;
}

/** Verified for this login and the user's current generation. */
export function isVerified(s: SecondFactorSession | undefined, facts: SessionFacts): s is SecondFactorSession & { verifiedAt: number; login: string } {
  return s !== undefined && typeof s.verifiedAt === 'number' && typeof s.login === 'string'
    && s.generation === facts.generation && facts.loginAlive;
}

/**
 * Verified, and within `maxAgeMs` of the last second factor when one is
 * given. A remembered browser is no recent second factor: nobody proved
 * anything at this login, so it never satisfies a `maxAgeMs`.
 */
export function isRecent(s: SecondFactorSession | undefined, facts: SessionFacts, maxAgeMs: number | undefined, now: number): boolean {
  if (!isVerified(s, facts)) return false;
  return maxAgeMs === undefined || (s.method !== 'remembered' && now - s.verifiedAt <= maxAgeMs);
}

/** The gate's answer for a logged-in user on a gated path. */
export type GateDecision = 'pass' | 'verify' | 'setup';

export function gateDecision(s: SecondFactorSession | undefined, facts: SessionFacts): GateDecision {
  if (facts.state === 'pending') return 'setup';
  if (facts.state === 'active' && !isVerified(s, facts)) return 'verify';
  return 'pass';
}

/**
 * May this session link another authenticator? Without active 2FA, yes. With
 * it, only a verified login, and to start one the verification must be
 * within `recentMs` (not a remembered browser's) or a fresh code must come
 * along (`check-code`): a session left open on a shared computer, or a copied
 * remembered-browser cookie, must not be enough to link an attacker's phone.
 */
export type EnrolDecision = 'allow' | 'verify' | 'step-up' | 'check-code';

export function enrolDecision(s: SecondFactorSession | undefined, facts: SessionFacts, starting: boolean, hasCode: boolean, recentMs: number, now: number): EnrolDecision {
  if (facts.state !== 'active') return 'allow';
  if (!isVerified(s, facts)) return 'verify';
  // A remembered browser proved nothing at this login: as for a maxAge, it is not recent.
  if (!starting || (s.method !== 'remembered' && now - s.verifiedAt <= recentMs)) return 'allow';
  return hasCode ? 'check-code' : 'step-up';
}

/** The namespace of a session that has just passed the second factor. */
export function verifiedNamespace(uid: string, login: string, method: VerifiedMethod, generation: number, now: number): SecondFactorSession {
  return { uid, login, verifiedAt: now, method, generation };
}

/** 128 random bits: a login id cannot be guessed into a live one. */
export function newLoginId(): string {
  return randomBytes(16).toString('base64url');
}

/** The namespace of a login the gate sees for the first time (no second factor yet). */
export function taggedNamespace(uid: string): SecondFactorSession {
  return { uid, tag: randomBytes(9).toString('base64url') };
}

/** What a cache of `SessionFacts` may key this session's facts by: its login, or its tag. */
export function factsCacheKey(uid: string, s: SecondFactorSession | undefined): string {
  return `${uid}\n${s?.login ?? (s?.tag === undefined ? '' : `tag:${s.tag}`)}`;
}

/** Strings that come out of `String()` on a missing or unusable id. */
const UNUSABLE_IDS = new Set(['', 'undefined', 'null', 'NaN', '[object Object]']);
/** Ids are stored in keys and sessions: a sane bound. */
export const MAX_USER_ID_LENGTH = 256;

/**
 * A user's id as the package keys everything by, or null when it is not
 * usable (missing, empty, an object without a meaningful `toString`, …).
 * Callers must refuse such a user, never treat them as logged out.
 */
export function usableUserId(value: unknown): string | null {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint' && (typeof value !== 'object' || value === null)) return null;
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  const id = String(value);
  if (UNUSABLE_IDS.has(id.trim()) || id.length > MAX_USER_ID_LENGTH || id.startsWith('[object ')) return null;
  return id;
}
