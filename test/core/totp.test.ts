import { expect } from 'chai';
import { base32 } from '@otplib/plugin-base32-scure';
import {
  generateCode,
  generateSecret,
  isTotpShape,
  matchTimeStep,
  resolveTotpOptions,
  timeStepAt,
  SECRET_BYTES,
  type TotpAlgorithm,
} from '../../src/core/totp.ts';

/** The RFC 6238 Appendix B seeds: "1234567890" repeated to the hash's size. */
function rfcSeed(bytes: number): string {
  const ascii = '1234567890'.repeat(7).slice(0, bytes);
  return base32.encode(new TextEncoder().encode(ascii), { padding: false });
}

const SEEDS: Record<TotpAlgorithm, string> = {
  sha1: rfcSeed(20),
  sha256: rfcSeed(32),
  sha512: rfcSeed(64),
};

/** RFC 6238 Appendix B: time (s) → 8-digit code per algorithm. */
const VECTORS: { time: number; sha1: string; sha256: string; sha512: string }[] = [
  { time: 59, sha1: '94287082', sha256: '46119246', sha512: '90693936' },
  { time: 1111111109, sha1: '07081804', sha256: '68084774', sha512: '25091201' },
  { time: 1111111111, sha1: '14050471', sha256: '67062674', sha512: '99943326' },
  { time: 1234567890, sha1: '89005924', sha256: '91819424', sha512: '93441116' },
  { time: 2000000000, sha1: '69279037', sha256: '90698825', sha512: '38618901' },
  { time: 20000000000, sha1: '65353130', sha256: '77737706', sha512: '47863826' },
];

const PERIOD_MS = 30_000;

describe('core/totp', () => {
  describe('RFC 6238 Appendix B test vectors', () => {
    it('the seeds are the RFC ASCII strings of 20, 32 and 64 bytes', () => {
      expect(Buffer.from(base32.decode(SEEDS.sha1)).toString('ascii')).to.equal('12345678901234567890');
      expect(Buffer.from(base32.decode(SEEDS.sha256)).toString('ascii')).to.equal('12345678901234567890123456789012');
      expect(Buffer.from(base32.decode(SEEDS.sha512)).toString('ascii')).to.equal(
        '1234567890123456789012345678901234567890123456789012345678901234',
      );
    });

    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      for (const v of VECTORS) {
        it(`generateCode gives ${v[algorithm]} for ${algorithm.toUpperCase()} at T=${v.time}`, () => {
          expect(generateCode(SEEDS[algorithm], v.time * 1000, { algorithm, digits: 8 })).to.equal(v[algorithm]);
        });
      }

      it(`matchTimeStep accepts every ${algorithm.toUpperCase()} vector at its own time step`, () => {
        const r = resolveTotpOptions({ algorithm, digits: 8, window: 0 });
        for (const v of VECTORS) {
          expect(matchTimeStep(SEEDS[algorithm], v[algorithm], v.time * 1000, r), `T=${v.time}`).to.equal(Math.floor(v.time / 30));
        }
      });
    }

    it('a code of one algorithm does not match under another', () => {
      const r = resolveTotpOptions({ algorithm: 'sha256', digits: 8, window: 1 });
      expect(matchTimeStep(SEEDS.sha256, '94287082', 59_000, r)).to.equal(null);
    });
  });

  describe('matchTimeStep window', () => {
    const secret = SEEDS.sha1; // fixed, so a two-steps-away code cannot collide by chance
    const w1 = resolveTotpOptions({ window: 1 });
    const w0 = resolveTotpOptions({ window: 0 });
    const base = 1_700_000_010_000; // an arbitrary fixed moment

    // Start, middle and very end of a step: the window must not depend on the position inside it.
    for (const offset of [0, 15_000, 29_999]) {
      const now = timeStepAt(base) * PERIOD_MS + offset;
      const step = timeStepAt(now);
      const codeAt = (deltaSteps: number) => generateCode(secret, now + deltaSteps * PERIOD_MS);

      it(`window 1 returns the step of the current, previous and next code (${offset} ms into the step)`, () => {
        expect(matchTimeStep(secret, codeAt(0), now, w1)).to.equal(step);
        expect(matchTimeStep(secret, codeAt(-1), now, w1)).to.equal(step - 1);
        expect(matchTimeStep(secret, codeAt(1), now, w1)).to.equal(step + 1);
      });

      it(`window 1 returns null for codes two steps away (${offset} ms into the step)`, () => {
        expect(matchTimeStep(secret, codeAt(-2), now, w1)).to.equal(null);
        expect(matchTimeStep(secret, codeAt(2), now, w1)).to.equal(null);
      });

      it(`window 0 accepts only the current step (${offset} ms into the step)`, () => {
        expect(matchTimeStep(secret, codeAt(0), now, w0)).to.equal(step);
        expect(matchTimeStep(secret, codeAt(-1), now, w0)).to.equal(null);
        expect(matchTimeStep(secret, codeAt(1), now, w0)).to.equal(null);
      });
    }

    it('returns null for a code that belongs to no step in the window', () => {
      const now = base;
      const inWindow = new Set([-1, 0, 1].map((d) => generateCode(secret, now + d * PERIOD_MS)));
      let wrong = generateCode(secret, now);
      while (inWindow.has(wrong)) wrong = String((Number(wrong) + 1) % 1_000_000).padStart(6, '0');
      expect(matchTimeStep(secret, wrong, now, w1)).to.equal(null);
    });

    it('honours a non-default period and digit count', () => {
      const r = resolveTotpOptions({ period: 60, digits: 8, window: 0 });
      const now = base;
      const code = generateCode(secret, now, { period: 60, digits: 8 });
      expect(code).to.match(/^[0-9]{8}$/);
      expect(matchTimeStep(secret, code, now, r)).to.equal(timeStepAt(now, 60));
    });

    it('returns null (does not throw) for malformed tokens', () => {
      for (const token of ['', 'abcdef', '12345', '1234567', ' 12345', '12345a', '0x1234', '-12345', '1e5000', '０１２３４５', '١٢٣٤٥٦']) {
        expect(() => matchTimeStep(secret, token, base, w1), JSON.stringify(token)).to.not.throw();
        expect(matchTimeStep(secret, token, base, w1), JSON.stringify(token)).to.equal(null);
      }
    });
  });

  describe('resolveTotpOptions', () => {
    it('defaults to SHA-1, 6 digits, 30 s, window 1', () => {
      expect(resolveTotpOptions()).to.deep.equal({ window: 1, period: 30, digits: 6, algorithm: 'sha1' });
    });

    it('refuses a window other than 0 or 1', () => {
      expect(() => resolveTotpOptions({ window: 2 })).to.throw(RangeError);
      expect(() => resolveTotpOptions({ window: -1 })).to.throw(RangeError);
      expect(() => resolveTotpOptions({ window: 0.5 })).to.throw(RangeError);
    });
  });

  describe('timeStepAt', () => {
    it('floors the time to 30 s steps', () => {
      expect(timeStepAt(59_000)).to.equal(1);
      expect(timeStepAt(60_000)).to.equal(2);
      expect(timeStepAt(1_111_111_109_000)).to.equal(37037036);
    });
  });

  describe('generateSecret', () => {
    it('is unpadded base32 that decodes to 20 bytes', () => {
      const s = generateSecret();
      expect(s).to.match(/^[A-Z2-7]+$/);
      expect(s).to.not.include('=');
      expect(SECRET_BYTES).to.equal(20);
      expect(base32.decode(s)).to.have.length(20);
    });

    it('gives a different secret each time', () => {
      const secrets = new Set(Array.from({ length: 100 }, () => generateSecret()));
      expect(secrets.size).to.equal(100);
    });
  });

  describe('isTotpShape', () => {
    it('accepts exactly six ASCII digits by default, and eight when asked', () => {
      expect(isTotpShape('123456')).to.equal(true);
      expect(isTotpShape('000000')).to.equal(true);
      expect(isTotpShape('12345678', 8)).to.equal(true);
      expect(isTotpShape('123456', 8)).to.equal(false);
    });

    it('rejects spaces, wrong lengths, letters, full-width and other non-ASCII digits, hex', () => {
      for (const s of [' 123456', '123456 ', ' 12345', '12345', '1234567', '12345a', '０１２３４５', '١٢٣٤٥٦', '0x1234', '', '123\n45', '12345\n']) {
        expect(isTotpShape(s), JSON.stringify(s)).to.equal(false);
      }
    });
  });
});
