export * from './errors.ts';
export * from './totp.ts';
export * from './otpauth-uri.ts';
export * from './encryption.ts';
export * from './state.ts';
export * from './session-policy.ts';
export * from './limits.ts';
export * from './failure-budget.ts';
export * from './backup-codes.ts';
export * from './audit.ts';
export * from './code-input.ts';
export * from './two-factor-service.ts';
export {
  defaultEmailTemplates, maskAddress, DEFAULT_EMAIL_CODE_DIGITS, DEFAULT_EMAIL_CODE_TTL_MS, DEFAULT_EMAIL_MAX_SENDS,
  DEFAULT_EMAIL_SEND_TIMEOUT_MS, DEFAULT_EMAIL_SEND_WINDOW_MS,
  type EmailContent, type EmailMessage, type EmailTemplates, type SecurityNotice,
} from './email.ts';
export { DEFAULT_PASSKEY_NAME, PASSKEY_CHALLENGE_TTL_MS, type PasskeyRegistered, type RelyingParty } from './passkeys.ts';
