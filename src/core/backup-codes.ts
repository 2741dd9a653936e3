/**
 * Backup codes: 10 single-use codes of 50 random bits each, written
 * `xxxxx-xxxxx` in Crockford's base32 (no i, l, o, u: nothing to confuse),
 * stored only as keyed hashes. A keyed hash (HMAC-SHA256) rather than a slow
 * password hash: 50 random bits are not guessable offline without the key,
 * and a lookup costs one hash, not one per stored code.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const BACKUP_CODE_COUNT = 10;
/** 10 symbols × 5 bits = 50 bits per code. */
export const BACKUP_CODE_LENGTH = 10;
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const bytes = randomBytes(BACKUP_CODE_LENGTH);
    // 256 is a multiple of 32, so taking each byte mod 32 is unbiased.
    const chars = [...bytes].map((b) => ALPHABET[b % 32]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/**
 * The canonical form of something typed as a backup code, or null when it
 * cannot be one. Case, spaces and hyphens are forgiven; o/i/l read as 0/1/1.
 */
export function normalizeBackupCode(input: string): string | null {
  const s = input.toLowerCase().replace(/[\s-]/g, '').replace(/o/g, '0').replace(/[il]/g, '1');
  return s.length === BACKUP_CODE_LENGTH && /^[0-9a-hjkmnp-tv-z]+$/.test(s) ? s : null;
}

/**
 * Bytes of the HMAC kept: 96 bits. A wrong code matches a stored hash with
 * probability 10 / 2^96 per guess, far below guessing the code itself
 * (10 / 2^50); finding another code with a stored hash (a second preimage)
 * takes 2^96 HMACs and the key. 16 base64url characters, so the record stays
 * in Redis' compact encoding (fields under 64 bytes).
 */
export const BACKUP_HASH_BYTES = 12;

/** The stored form: HMAC-SHA256 over the user id and the code, its first 96 bits in base64url. */
export function hashBackupCode(hashKey: Buffer, userId: string, normalized: string): string {
  return backupHmac(hashKey, userId, normalized).subarray(0, BACKUP_HASH_BYTES).toString('base64url');
}

/** The form stored before 0.2 (the whole HMAC, hex): still consumed, never written. */
export function legacyBackupHash(hashKey: Buffer, userId: string, normalized: string): string {
  return backupHmac(hashKey, userId, normalized).toString('hex');
}

function backupHmac(hashKey: Buffer, userId: string, normalized: string): Buffer {
  return createHmac('sha256', hashKey).update(`${userId}\n${normalized}`).digest();
}
