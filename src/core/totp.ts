/**
 * TOTP (RFC 6238) on otplib: secret generation, matching a code to the time
 * step it belongs to (the step is what replay protection remembers), and
 * generating codes (tests, examples).
 */
import { randomBytes } from 'node:crypto';
import { generateSync, verifySync } from '@otplib/totp';
import { NodeCryptoPlugin } from '@otplib/plugin-crypto-node';
import { base32 } from '@otplib/plugin-base32-scure';

export type TotpAlgorithm = 'sha1' | 'sha256' | 'sha512';

/** How codes are computed and how much clock drift is forgiven. */
export interface TotpOptions {
  /** Steps accepted either side of the current one. 1 = ±30 s; 0 = current step only. */
  window?: number | undefined;
  /** Seconds per step. Authenticator apps assume 30. */
  period?: number | undefined;
  /** Code length. Authenticator apps assume 6. */
  digits?: 6 | 8 | undefined;
  /** HMAC hash. Google Authenticator ignores anything but SHA-1. */
  algorithm?: TotpAlgorithm | undefined;
}

/** ±1 step: tolerates 30 s of phone clock drift or typing time, and no more (RFC 6238 §5.2). */
export const DEFAULT_TOTP_WINDOW = 1;
export const DEFAULT_TOTP_PERIOD = 30;
export const DEFAULT_TOTP_DIGITS = 6;
export const DEFAULT_TOTP_ALGORITHM: TotpAlgorithm = 'sha1';
/** 160 bits, the HMAC-SHA1 block-size recommendation of RFC 4226 §4. */
export const SECRET_BYTES = 20;

export type ResolvedTotpOptions = Required<{ [K in keyof TotpOptions]: NonNullable<TotpOptions[K]> }>;

export function resolveTotpOptions(o: TotpOptions = {}): ResolvedTotpOptions {
  const window = o.window ?? DEFAULT_TOTP_WINDOW;
  if (!Number.isInteger(window) || window < 0 || window > 1) {
    throw new RangeError('totp.window must be 0 or 1 (steps either side of the current one)');
  }
  return {
    window,
    period: o.period ?? DEFAULT_TOTP_PERIOD,
    digits: o.digits ?? DEFAULT_TOTP_DIGITS,
    algorithm: o.algorithm ?? DEFAULT_TOTP_ALGORITHM,
  };
}

const crypto = new NodeCryptoPlugin();

/** A new random secret as unpadded base32 (what authenticator apps take). */
export function generateSecret(bytes = SECRET_BYTES): string {
  return base32.encode(randomBytes(bytes), { padding: false });
}

/** The time step a moment falls in. */
export function timeStepAt(nowMs: number, period = DEFAULT_TOTP_PERIOD): number {
  return Math.floor(nowMs / 1000 / period);
}

/** The code of `secret` (base32) at `nowMs`. */
export function generateCode(secret: string, nowMs: number, o: TotpOptions = {}): string {
  const r = resolveTotpOptions(o);
  return generateSync({
    secret, base32, crypto,
    epoch: Math.floor(nowMs / 1000),
    period: r.period, digits: r.digits, algorithm: r.algorithm,
  });
}

/**
 * The time step at which `code` is valid for `secret` within the window, or
 * null. `code` must already have passed `isTotpShape`.
 */
export function matchTimeStep(secret: string, code: string, nowMs: number, r: ResolvedTotpOptions): number | null {
  try {
    const result = verifySync({
      secret, base32, crypto,
      token: code,
      epoch: Math.floor(nowMs / 1000),
      epochTolerance: r.window * r.period,
      period: r.period, digits: r.digits, algorithm: r.algorithm,
    });
    return result.valid ? result.timeStep : null;
  } catch {
    // otplib throws (OTPError, or a plain Error from base32) on malformed
    // tokens or secrets; to the caller that is a code that does not match.
    return null;
  }
}

/** True only for a string of exactly `digits` ASCII digits. */
export function isTotpShape(code: string, digits: number = DEFAULT_TOTP_DIGITS): boolean {
  return code.length === digits && /^[0-9]+$/.test(code);
}
