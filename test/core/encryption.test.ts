import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { parseEncryptionKeys, SecretBox, SecretDecryptionError, type EncryptionKey } from '../../src/core/encryption.ts';
import { generateSecret } from '../../src/core/totp.ts';

const KEY_A: EncryptionKey = { id: 'a', key: randomBytes(32) };
const KEY_B: EncryptionKey = { id: 'b', key: randomBytes(32) };
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Flips one bit of one byte of the base64url part `index` (2 = iv, 3 = tag, 4 = ciphertext). */
function tamperPart(box: string, index: number, byte = 0): string {
  const parts = box.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[byte] = bytes[byte]! ^ 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

function expectDecryptionError(fn: () => unknown): void {
  expect(fn).to.throw(SecretDecryptionError);
}

describe('core/encryption', () => {
  describe('SecretBox', () => {
    it('opens what it sealed (round trip)', () => {
      const box = new SecretBox([KEY_A]);
      const sealed = box.seal(SECRET, 'user-1');
      expect(sealed).to.not.include(SECRET);
      expect(box.open(sealed, 'user-1')).to.equal(SECRET);
    });

    it('round-trips an empty and a non-ASCII plaintext', () => {
      const box = new SecretBox([KEY_A]);
      expect(box.open(box.seal('', 'u'), 'u')).to.equal('');
      expect(box.open(box.seal('héllo ✓', 'ü'), 'ü')).to.equal('héllo ✓');
    });

    it('writes v1.<keyId>.<iv>.<tag>.<ciphertext> with a 12-byte IV and 16-byte tag', () => {
      const sealed = new SecretBox([KEY_A]).seal(SECRET, 'u');
      const parts = sealed.split('.');
      expect(parts).to.have.length(5);
      expect(parts[0]).to.equal('v1');
      expect(parts[1]).to.equal('a');
      expect(Buffer.from(parts[2]!, 'base64url')).to.have.length(12);
      expect(Buffer.from(parts[3]!, 'base64url')).to.have.length(16);
    });

    it('gives a different box for each seal of the same secret (random IV)', () => {
      const box = new SecretBox([KEY_A]);
      const boxes = new Set(Array.from({ length: 50 }, () => box.seal(SECRET, 'u')));
      expect(boxes.size).to.equal(50);
      const ivs = new Set([...boxes].map((b) => b.split('.')[2]));
      expect(ivs.size).to.equal(50);
    });

    it('throws SecretDecryptionError when the IV, tag or ciphertext is altered', () => {
      const box = new SecretBox([KEY_A]);
      const sealed = box.seal(SECRET, 'u');
      for (const index of [2, 3, 4]) {
        const n = Buffer.from(sealed.split('.')[index]!, 'base64url').length;
        for (const byte of [0, n - 1]) {
          expectDecryptionError(() => box.open(tamperPart(sealed, index, byte), 'u'));
        }
      }
    });

    it('throws SecretDecryptionError when the key id is changed to another known key', () => {
      const box = new SecretBox([KEY_A, KEY_B]);
      const sealed = box.seal(SECRET, 'u');
      expectDecryptionError(() => box.open(sealed.replace(/^v1\.a\./, 'v1.b.'), 'u'));
    });

    it('throws SecretDecryptionError for a truncated, extended or foreign-format box', () => {
      const box = new SecretBox([KEY_A]);
      const sealed = box.seal(SECRET, 'u');
      const parts = sealed.split('.');
      for (const bad of [
        '',
        SECRET,
        parts.slice(0, 4).join('.'),
        `${sealed}.x`,
        sealed.replace(/^v1\./, 'v2.'),
        [...parts.slice(0, 2), Buffer.alloc(11).toString('base64url'), ...parts.slice(3)].join('.'),
        [...parts.slice(0, 3), Buffer.alloc(15).toString('base64url'), parts[4]].join('.'),
      ]) {
        expectDecryptionError(() => box.open(bad, 'u'));
      }
    });

    it('throws SecretDecryptionError for the associated data of another user', () => {
      const box = new SecretBox([KEY_A]);
      const sealed = box.seal(SECRET, 'user-1');
      expectDecryptionError(() => box.open(sealed, 'user-2'));
      expectDecryptionError(() => box.open(sealed, ''));
    });

    it('opens a box sealed under the old key after rotation, and reports it stale', () => {
      const oldBox = new SecretBox([KEY_A]);
      const sealed = oldBox.seal(SECRET, 'u');
      expect(oldBox.isStale(sealed)).to.equal(false);

      const rotated = new SecretBox([KEY_B, KEY_A]);
      expect(rotated.open(sealed, 'u')).to.equal(SECRET);
      expect(rotated.isStale(sealed)).to.equal(true);

      const resealed = rotated.seal(SECRET, 'u');
      expect(resealed.split('.')[1]).to.equal('b');
      expect(rotated.isStale(resealed)).to.equal(false);
      expect(rotated.open(resealed, 'u')).to.equal(SECRET);
    });

    it('fails on a box from a key that is no longer listed', () => {
      const sealed = new SecretBox([KEY_A]).seal(SECRET, 'u');
      const withoutA = new SecretBox([KEY_B]);
      expectDecryptionError(() => withoutA.open(sealed, 'u'));
      // Same id, different key material: authentication fails.
      const impostor = new SecretBox([{ id: 'a', key: randomBytes(32) }]);
      expectDecryptionError(() => impostor.open(sealed, 'u'));
    });

    it('accepts a key as a Buffer, base64, base64url or hex', () => {
      const raw = randomBytes(32);
      const forms = [raw, raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')];
      const sealed = new SecretBox([{ id: 'k', key: raw }]).seal(SECRET, 'u');
      for (const key of forms) {
        expect(new SecretBox([{ id: 'k', key }]).open(sealed, 'u')).to.equal(SECRET);
      }
    });

    it('throws RangeError for keys that are not 32 bytes', () => {
      for (const key of [randomBytes(16), randomBytes(31), randomBytes(33), Buffer.alloc(0), '', 'short', randomBytes(16).toString('base64'), randomBytes(31).toString('hex')]) {
        expect(() => new SecretBox([{ id: 'k', key }])).to.throw(RangeError);
      }
    });

    it('throws RangeError for bad key ids, duplicate ids and an empty key list', () => {
      const key = randomBytes(32);
      for (const id of ['', 'a.b', 'a:b', 'a b', 'ü', 'x'.repeat(33)]) {
        expect(() => new SecretBox([{ id, key }]), JSON.stringify(id)).to.throw(RangeError);
      }
      expect(() => new SecretBox([{ id: 'x'.repeat(32), key }])).to.not.throw();
      expect(() => new SecretBox([{ id: 'Az09_-', key }])).to.not.throw();
      expect(() => new SecretBox([{ id: 'a', key }, { id: 'a', key: randomBytes(32) }])).to.throw(RangeError);
      expect(() => new SecretBox([])).to.throw(RangeError);
    });

    it('derives per-purpose keys, current key first, stable across instances', () => {
      const box = new SecretBox([KEY_A, KEY_B]);
      const [first, second] = box.deriveKeys('p');
      expect(first).to.have.length(32);
      expect(first!.equals(second!)).to.equal(false);
      expect(first!.equals(new SecretBox([KEY_A]).deriveKeys('p')[0]!)).to.equal(true);
      expect(second!.equals(new SecretBox([KEY_B]).deriveKeys('p')[0]!)).to.equal(true);
      expect(first!.equals(box.deriveKeys('other')[0]!)).to.equal(false);
    });

    it('randomKey gives a usable, fresh 32-byte base64 key', () => {
      const k1 = SecretBox.randomKey();
      expect(Buffer.from(k1, 'base64')).to.have.length(32);
      expect(k1).to.not.equal(SecretBox.randomKey());
      const box = new SecretBox([{ id: 'dev', key: k1 }]);
      expect(box.open(box.seal(SECRET, 'u'), 'u')).to.equal(SECRET);
    });
  });

  describe('SecretBox.sealSecret (the compact box of a TOTP secret)', () => {
    const k1: EncryptionKey = { id: 'k1', key: randomBytes(32) };
    const k2: EncryptionKey = { id: 'k2', key: randomBytes(32) };

    it('seals a 160-bit secret in 62 characters (under Redis\' 64-byte listpack limit) and opens it to the same base32', () => {
      const box = new SecretBox([k1]);
      const secret = generateSecret();
      const sealed = box.sealSecret(secret, 'alice');
      expect(sealed).to.match(/^k1\.[A-Za-z0-9_-]{59}$/);
      expect(box.open(sealed, 'alice')).to.equal(secret);
      expect(box.isCompact(sealed)).to.equal(true);
      expect(box.keyIdOf(sealed)).to.equal('k1');
      expect(box.sealSecret(secret, 'alice'), 'a random IV each time').to.not.equal(sealed);
    });

    it('refuses another user\'s box, a changed byte, a cut tag and an unknown key', () => {
      const box = new SecretBox([k1]);
      const sealed = box.sealSecret(generateSecret(), 'alice');
      expect(() => box.open(sealed, 'bob')).to.throw(SecretDecryptionError);
      const body = Buffer.from(sealed.slice(3), 'base64url');
      for (const i of [0, 12, 20, body.length - 1]) {
        const changed = Buffer.from(body);
        changed[i] = changed[i]! ^ 1;
        expect(() => box.open(`k1.${changed.toString('base64url')}`, 'alice'), `byte ${i}`).to.throw(SecretDecryptionError);
      }
      expect(() => box.open(`k1.${body.subarray(0, 24).toString('base64url')}`, 'alice')).to.throw(SecretDecryptionError);
      expect(() => new SecretBox([k2]).open(sealed, 'alice')).to.throw(SecretDecryptionError, /unknown key id "k1"/);
    });

    it('rotates like the long form: an older key still opens, isStale says which to re-seal', () => {
      const old = new SecretBox([k1]).sealSecret(generateSecret(), 'alice');
      const rotated = new SecretBox([k2, k1]);
      expect(rotated.isStale(old)).to.equal(true);
      const again = rotated.sealSecret(rotated.open(old, 'alice'), 'alice');
      expect(rotated.isStale(again)).to.equal(false);
      expect(new SecretBox([k2]).open(again, 'alice')).to.equal(new SecretBox([k1]).open(old, 'alice'));
    });

    it('seals text that is not canonical base32 (lower case, padding) in the long form, which opens as it was', () => {
      const box = new SecretBox([k1]);
      for (const text of ['jbswy3dpehpk3pxp', 'JBSWY3DPEHPK3PXP====', 'not base32!']) {
        const sealed = box.sealSecret(text, 'alice');
        expect(sealed.startsWith('v1.k1.'), text).to.equal(true);
        expect(box.isCompact(sealed)).to.equal(false);
        expect(box.open(sealed, 'alice')).to.equal(text);
      }
    });
  });

  describe('parseEncryptionKeys', () => {
    it('parses "id:key,id:key" in order, current first', () => {
      const k1 = SecretBox.randomKey();
      const k2 = SecretBox.randomKey();
      expect(parseEncryptionKeys(`a:${k1},b:${k2}`)).to.deep.equal([{ id: 'a', key: k1 }, { id: 'b', key: k2 }]);
      expect(parseEncryptionKeys('a:KEY,b:KEY2')).to.deep.equal([{ id: 'a', key: 'KEY' }, { id: 'b', key: 'KEY2' }]);
    });

    it('gives a bare key the id k1', () => {
      const k = SecretBox.randomKey();
      expect(parseEncryptionKeys(k)).to.deep.equal([{ id: 'k1', key: k }]);
    });

    it('ignores surrounding spaces and empty entries', () => {
      expect(parseEncryptionKeys(' a:KEY , ,b:KEY2, ')).to.deep.equal([{ id: 'a', key: 'KEY' }, { id: 'b', key: 'KEY2' }]);
    });

    it('feeds SecretBox: a box sealed with the parsed setting opens after rotation', () => {
      const k1 = SecretBox.randomKey();
      const k2 = SecretBox.randomKey();
      const sealed = new SecretBox(parseEncryptionKeys(k1)).seal(SECRET, 'u');
      const rotated = new SecretBox(parseEncryptionKeys(`k2:${k2},k1:${k1}`));
      expect(rotated.open(sealed, 'u')).to.equal(SECRET);
      expect(rotated.isStale(sealed)).to.equal(true);
    });
  });
});
