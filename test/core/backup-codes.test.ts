import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  BACKUP_CODE_COUNT,
  generateBackupCodes,
  hashBackupCode,
  legacyBackupHash,
  normalizeBackupCode,
} from '../../src/core/backup-codes.ts';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

describe('core/backup-codes', () => {
  describe('generateBackupCodes', () => {
    it('gives 10 codes by default', () => {
      expect(BACKUP_CODE_COUNT).to.equal(10);
      expect(generateBackupCodes()).to.have.length(10);
      expect(generateBackupCodes(3)).to.have.length(3);
    });

    it('writes each code as xxxxx-xxxxx in lower-case letters and digits', () => {
      for (const code of generateBackupCodes()) expect(code).to.match(/^[0-9a-z]{5}-[0-9a-z]{5}$/);
    });

    it('never uses i, l, o or u, and over 1000 codes uses all 32 other symbols', () => {
      const codes = Array.from({ length: 100 }, () => generateBackupCodes()).flat();
      expect(codes).to.have.length(1000);
      const used = new Set(codes.join('').replace(/-/g, ''));
      for (const c of 'ilou') expect(used.has(c), c).to.equal(false);
      // 10 000 symbols: each of the 32 is missing with probability ~32·(31/32)^10000 ≈ 0.
      expect([...used].sort().join('')).to.equal(CROCKFORD);
    });

    it('gives every code at least 50 bits, measured on its output: symbols per code × log2(symbols seen at each position)', () => {
      const codes = Array.from({ length: 200 }, () => generateBackupCodes()).flat().map((c) => c.replace('-', ''));
      // Length from the output, not from a constant: all codes are equally long.
      const lengths = new Set(codes.map((c) => c.length));
      expect(lengths.size).to.equal(1);
      const length = [...lengths][0]!;
      // Each position on its own: 2000 draws leave one of 32 symbols unseen with odds of ~32·(31/32)^2000 ≈ 1e-26.
      let bits = 0;
      for (let i = 0; i < length; i++) bits += Math.log2(new Set(codes.map((c) => c[i])).size);
      expect(bits, `${length} symbols`).to.be.at.least(50);
      // No position is a function of another (a code that repeats itself has fewer bits than its symbols).
      for (let i = 0; i < length; i++) {
        for (let j = i + 1; j < length; j++) {
          const pairs = new Set(codes.map((c) => `${c[i]}${c[j]}`));
          expect(pairs.size, `positions ${i} and ${j}`).to.be.above(32 * 2);
        }
      }
    });

    it('gives 1000 distinct codes', () => {
      const codes = Array.from({ length: 100 }, () => generateBackupCodes()).flat();
      expect(new Set(codes).size).to.equal(1000);
    });

    it('gives codes that normalise to themselves without the hyphen', () => {
      for (const code of generateBackupCodes()) expect(normalizeBackupCode(code)).to.equal(code.replace('-', ''));
    });
  });

  describe('normalizeBackupCode', () => {
    it('forgives upper case, spaces and hyphens', () => {
      expect(normalizeBackupCode('ABCDE-FGHJK')).to.equal('abcdefghjk');
      expect(normalizeBackupCode(' abcde fghjk ')).to.equal('abcdefghjk');
      expect(normalizeBackupCode('abcdefghjk')).to.equal('abcdefghjk');
      expect(normalizeBackupCode('ab-cd-ef-gh-jk')).to.equal('abcdefghjk');
      expect(normalizeBackupCode('abcde\tfghjk\n')).to.equal('abcdefghjk');
    });

    it('reads o as 0 and i or l as 1', () => {
      expect(normalizeBackupCode('ooooo-iiiii')).to.equal('0000011111');
      expect(normalizeBackupCode('OIL23-45678')).to.equal('0112345678');
    });

    it('rejects wrong lengths', () => {
      for (const s of ['', 'abcde', 'abcde-fghj', 'abcde-fghjkm', '123456', 'abcde-fghjk-a']) {
        expect(normalizeBackupCode(s), JSON.stringify(s)).to.equal(null);
      }
    });

    it('rejects symbols outside the alphabet (u, punctuation, non-ASCII)', () => {
      for (const s of ['abcde-fghju', 'abcde_fghjk', 'abcde.fghjk', 'abcdé-fghjk', 'abcde-fghj!']) {
        expect(normalizeBackupCode(s), JSON.stringify(s)).to.equal(null);
      }
    });
  });

  describe('hashBackupCode', () => {
    const key = randomBytes(32);
    const code = normalizeBackupCode(generateBackupCodes(1)[0]!)!;

    it('is deterministic: the first 96 bits of HMAC-SHA256, 16 base64url characters (the legacy form is the whole HMAC in hex)', () => {
      const h = hashBackupCode(key, 'alice', code);
      expect(h).to.match(/^[A-Za-z0-9_-]{16}$/);
      expect(hashBackupCode(key, 'alice', code)).to.equal(h);
      const legacy = legacyBackupHash(key, 'alice', code);
      expect(legacy).to.match(/^[0-9a-f]{64}$/);
      expect(Buffer.from(h, 'base64url').toString('hex')).to.equal(legacy.slice(0, 24));
    });

    it('is user-scoped: the same code hashes differently for two users', () => {
      expect(hashBackupCode(key, 'alice', code)).to.not.equal(hashBackupCode(key, 'bob', code));
    });

    it('is key-scoped: the same code and user hash differently under another key', () => {
      expect(hashBackupCode(key, 'alice', code)).to.not.equal(hashBackupCode(randomBytes(32), 'alice', code));
    });

    it('distinguishes different codes', () => {
      const other = code === '0000000000' ? '0000000001' : '0000000000';
      expect(hashBackupCode(key, 'alice', code)).to.not.equal(hashBackupCode(key, 'alice', other));
    });
  });
});
