/**
 * otpauth:// URIs per the Key Uri Format. Written here rather than with
 * @otplib/uri because that one leaves a ':' inside the issuer unescaped in the
 * label, which makes the label ambiguous to apps that split on it.
 */
import type { ResolvedTotpOptions } from './totp.ts';

export interface OtpauthUriInput {
  /** Service name shown in the app, e.g. `Example App`. */
  issuer: string;
  /** Account name shown under it, e.g. `alice@example.com`. */
  accountName: string;
  /** Unpadded base32 secret. */
  secret: string;
  totp: ResolvedTotpOptions;
}

export function buildOtpauthUri({ issuer, accountName, secret, totp }: OtpauthUriInput): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(accountName)}`;
  const params = [`secret=${secret.replace(/=+$/, '')}`, `issuer=${encodeURIComponent(issuer)}`];
  // Defaults are left out on purpose: some apps reject a URI that merely
  // restates them, and every app assumes them.
  if (totp.algorithm !== 'sha1') params.push(`algorithm=${totp.algorithm.toUpperCase()}`);
  if (totp.digits !== 6) params.push(`digits=${totp.digits}`);
  if (totp.period !== 30) params.push(`period=${totp.period}`);
  return `otpauth://totp/${label}?${params.join('&')}`;
}
