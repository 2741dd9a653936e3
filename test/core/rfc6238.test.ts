/** The tests' own TOTP (test/support/rfc6238.ts) against RFC 6238 appendix B and RFC 4226 appendix D. */
import { expect } from 'chai';
import { base32Decode, hotp, totp } from '../support/rfc6238.ts';

describe('test support: an independent RFC 6238 TOTP', () => {
  const sha1Key = Buffer.from('12345678901234567890');

  it('RFC 4226 appendix D: HOTP values for counters 0 to 9', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expect(expected.map((_, counter) => hotp(sha1Key, counter))).to.deep.equal(expected);
  });

  it('RFC 6238 appendix B: the SHA-1 vectors (8 digits)', () => {
    const vectors: Array<[number, string]> = [
      [59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
      [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130'],
    ];
    for (const [seconds, code] of vectors) expect(hotp(sha1Key, Math.floor(seconds / 30), 8), `T=${seconds}`).to.equal(code);
  });

  it('reads base32 secrets as authenticator apps do, and computes 6-digit codes from them', () => {
    // "12345678901234567890" in base32, lower case and spaced as people copy it.
    const secret = 'gezd gnbv gy3t qojq gezd gnbv gy3t qojq';
    expect(base32Decode(secret).toString()).to.equal('12345678901234567890');
    expect(totp(secret, 59_000)).to.equal('287082');
  });
});
