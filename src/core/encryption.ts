/**
 * AES-256-GCM for TOTP secrets at rest. Each box names the key that sealed
 * it, so keys can rotate: new boxes use the first key, old boxes still open
 * with any listed key. The user id is bound as associated data, so a box
 * copied onto another user's record does not open.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { base32 } from '@otplib/plugin-base32-scure';

/** A named 32-byte key. */
export interface EncryptionKey {
  /** Short id stored in each box, `[A-Za-z0-9_-]{1,32}`. */
  id: string;
  /** 32 bytes, or their base64/base64url (44 or 43 chars) or hex (64 chars). */
  key: Buffer | string;
}

const VERSION = 'v1';
const IV_BYTES = 12; // the GCM nonce size NIST SP 800-38D recommends
/**
 * The tag of a compact box: 96 bits, the shortest NIST SP 800-38D allows
 * without limits on use. A forgery is accepted with probability 2^-96 per
 * try, and trying needs write access to the store (which can simply delete
 * the factor). It keeps a 160-bit secret's box at 62 characters with a
 * 2-character key id, under Redis' 64-byte limit for compact hash entries.
 */
const COMPACT_TAG_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

function toKeyBytes(key: Buffer | string): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(key)) bytes = key;
  else if (/^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex');
  else bytes = Buffer.from(key, 'base64');
  if (bytes.length !== 32) {
    throw new RangeError('An encryption key must be 32 bytes (64 hex chars or 44 base64 chars); generate one with `openssl rand -base64 32`.');
  }
  return bytes;
}

/**
 * Parses the `TWO_FACTOR_KEYS`-style setting `id1:key1,id2:key2` (first is
 * current). A bare key without `id:` gets the id `k1`.
 */
export function parseEncryptionKeys(setting: string): EncryptionKey[] {
  return setting.split(',').map((s) => s.trim()).filter(Boolean).map((entry) => {
    const colon = entry.indexOf(':');
    return colon < 0 ? { id: 'k1', key: entry } : { id: entry.slice(0, colon), key: entry.slice(colon + 1) };
  });
}

/** The bytes of `text` when it is unpadded upper-case base32 that encodes back to itself, else null. */
function canonicalBase32Bytes(text: string): Buffer | null {
  if (!/^[A-Z2-7]+$/.test(text)) return null;
  try {
    const bytes = Buffer.from(base32.decode(text));
    return bytes.length > 0 && base32.encode(bytes, { padding: false }) === text ? bytes : null;
  } catch {
    return null;
  }
}

export class SecretBox {
  private readonly keys = new Map<string, Buffer>();
  private readonly currentId: string;

  /** `keys[0]` seals new boxes; the rest only open old ones. */
  constructor(keys: EncryptionKey[]) {
    if (keys.length === 0) throw new RangeError('SecretBox needs at least one encryption key');
    for (const k of keys) {
      if (!KEY_ID.test(k.id)) throw new RangeError(`Encryption key id "${k.id}" must match ${KEY_ID}`);
      if (this.keys.has(k.id)) throw new RangeError(`Encryption key id "${k.id}" is listed twice`);
      this.keys.set(k.id, toKeyBytes(k.key));
    }
    this.currentId = keys[0]!.id;
  }

  /** A box of the form `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts). */
  seal(plaintext: string, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64url'));
    return [VERSION, this.currentId, ...parts].join('.');
  }

  /**
   * A TOTP secret (unpadded base32) in a compact box, `<keyId>.<iv|tag|ciphertext>`
   * (one base64url part, 96-bit tag), sealing the secret's bytes rather than
   * their base32 text: 62 characters for a 160-bit secret and a 2-character
   * key id, against 89 for `seal`. A text that is not canonical base32 is
   * sealed by `seal`. `open` opens both.
   */
  sealSecret(secret: string, associatedData: string): string {
    const bytes = canonicalBase32Bytes(secret);
    if (!bytes) return this.seal(secret, associatedData);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentId)!, iv, { authTagLength: COMPACT_TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ct = Buffer.concat([cipher.update(bytes), cipher.final()]);
    return `${this.currentId}.${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64url')}`;
  }

  /** Opens a box; throws `SecretDecryptionError` if it was altered, moved or its key is gone. */
  open(box: string, associatedData: string): string {
    const parts = box.split('.');
    if (parts.length === 2) return this.openCompact(parts[0]!, parts[1]!, associatedData);
    if (parts.length !== 5 || parts[0] !== VERSION) throw new SecretDecryptionError('Not a sealed secret');
    const key = this.keys.get(parts[1]!);
    if (!key) throw new SecretDecryptionError(`Sealed with unknown key id "${parts[1]}"`);
    const [iv, tag, ct] = parts.slice(2).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== 16) throw new SecretDecryptionError('Malformed sealed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('Sealed secret failed authentication');
    }
  }

  private openCompact(keyId: string, body: string, associatedData: string): string {
    const key = this.keys.get(keyId);
    if (!key) throw new SecretDecryptionError(`Sealed with unknown key id "${keyId}"`);
    const bytes = Buffer.from(body, 'base64url');
    if (bytes.length <= IV_BYTES + COMPACT_TAG_BYTES) throw new SecretDecryptionError('Malformed sealed secret');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES), { authTagLength: COMPACT_TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + COMPACT_TAG_BYTES));
      const secret = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + COMPACT_TAG_BYTES)), decipher.final()]);
      return base32.encode(secret, { padding: false });
    } catch {
      throw new SecretDecryptionError('Sealed secret failed authentication');
    }
  }

  /** The id of the key that sealed `box` (either form). */
  keyIdOf(box: string): string | undefined {
    const parts = box.split('.');
    return parts.length === 2 ? parts[0] : parts[1];
  }

  /** True when a box was sealed with an older key and should be re-sealed. */
  isStale(box: string): boolean {
    return this.keyIdOf(box) !== this.currentId;
  }

  /** True for a compact box (`sealSecret`); a `v1.` box of a secret shrinks when re-sealed with `sealSecret`. */
  isCompact(box: string): boolean {
    return box.split('.').length === 2;
  }

  /**
   * Keys derived from every listed key for another purpose (HKDF-SHA256),
   * current first, so the same configuration also keys backup-code hashes.
   */
  deriveKeys(purpose: string): Buffer[] {
    const ordered = [this.currentId, ...[...this.keys.keys()].filter((id) => id !== this.currentId)];
    return ordered.map((id) => Buffer.from(hkdfSync('sha256', this.keys.get(id)!, Buffer.alloc(0), purpose, 32)));
  }

  /** A fresh random key, base64, for development mode. */
  static randomKey(): string {
    return randomBytes(32).toString('base64');
  }
}
