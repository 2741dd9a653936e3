/**
 * Turns an untrusted request field into a code candidate. Anything that is
 * not a non-empty string (missing, null, number, array from a duplicated form
 * field, object) is `invalid_input`; a string of the wrong shape reaches the
 * check and fails there, so it is counted like any wrong code.
 */
import { TwoFactorError } from './errors.ts';

/** Longest string we even look at; backup codes are 11 chars. */
const MAX_CODE_LENGTH = 64;

export function readCodeField(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TwoFactorError('invalid_input', { field: 'code' }, 'A code is required, as a string.');
  }
  if (value.length > MAX_CODE_LENGTH) {
    throw new TwoFactorError('invalid_input', { field: 'code' }, 'That code is far too long.');
  }
  return value;
}

/** An optional string field (names, ids): `undefined` when absent, else a trimmed bounded string. */
export function readStringField(value: unknown, field: string, maxLength: number, required = false): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (required) throw new TwoFactorError('invalid_input', { field }, `The field "${field}" is required.`);
    return undefined;
  }
  if (typeof value !== 'string' || value.trim().length === 0 || value.length > maxLength) {
    throw new TwoFactorError('invalid_input', { field }, `The field "${field}" must be a string of at most ${maxLength} characters.`);
  }
  return value.trim();
}
