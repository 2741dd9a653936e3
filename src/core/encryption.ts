/**
 * AES-256-GCM for TOTP secrets at rest. Each box names the key that sealed
 * it, so keys can rotate: new boxes use the first key, old boxes still open
 * with any listed key. The user id is bound as associated data, so a box
 * copied onto another user's record does not open.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/** A named 32-byte key. */
export interface EncryptionKey {
  /** Short id stored in each box, `[A-Za-z0-9_-]{1,32}`. */
  id: string;
  /** 32 bytes, or their base64/base64url (44 or 43 chars) or hex (64 chars). */
  key: Buffer | string;
}

const VERSION = 'v1';
const IV_BYTES = 12; // the GCM nonce size NIST SP 800-38D recommends
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

  /** Opens a box; throws `SecretDecryptionError` if it was altered, moved or its key is gone. */
  open(box: string, associatedData: string): string {
    const parts = box.split('.');
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

  /** True when a box was sealed with an older key and should be re-sealed. */
  isStale(box: string): boolean {
    return box.split('.')[1] !== this.currentId;
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
