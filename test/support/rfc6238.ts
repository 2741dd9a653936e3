/**
 * TOTP as RFC 6238 and RFC 4226 define it, written from the RFCs with
 * node:crypto alone: codes for the tests that must not share otplib with the
 * code under test (a consumer app driven from outside, like a phone would).
 * Checked against the RFC 6238 appendix B vectors in test/core/rfc6238.test.ts.
 */
import { createHmac } from 'node:crypto';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, case-insensitive, padding and spaces ignored. */
export function base32Decode(text: string): Buffer {
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text.toUpperCase().replace(/[\s=]/g, '')) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${JSON.stringify(char)}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

/** RFC 4226 HOTP of `key` at `counter`. */
export function hotp(key: Buffer, counter: number, digits = 6, algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1'): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** digits;
  return binary.toString().padStart(digits, '0');
}

/** RFC 6238 TOTP of a base32 secret at `timeMs` (30 s steps from the Unix epoch). */
export function totp(secretBase32: string, timeMs: number, digits = 6, periodSeconds = 30): string {
  return hotp(base32Decode(secretBase32), Math.floor(timeMs / 1000 / periodSeconds), digits);
}
