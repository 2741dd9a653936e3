/**
 * The framework-free heart of the package: enrolment, checking a second
 * factor against the failure budget and replay state, and status. Adapters
 * (Koa today, Express later) translate HTTP to these calls.
 *
 * The work lives in one module per concern (enrolment, factor check, account
 * and admin actions) over a shared `ServiceContext`; this class is the
 * stable public face that delegates to them.
 */
import type { ResolvedLimits } from './limits.ts';
import type { TwoFactorState } from './state.ts';
import type { SessionFacts } from './session-policy.ts';
import type { ResolvedTotpOptions } from './totp.ts';
import * as account from './account-actions.ts';
import type { TwoFactorStatus } from './account-actions.ts';
import * as admin from './admin-actions.ts';
import * as enrolment from './enrolment.ts';
import * as passkeys from './passkeys.ts';
import * as email from './email.ts';
import * as remembered from './remembered-browsers.ts';
import type { SecurityNotice } from './email.ts';
import type { PasskeyRegistered, RelyingParty } from './passkeys.ts';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { EnrolmentConfirmed, EnrolmentStarted } from './enrolment.ts';
import { checkSecondFactor, type FactorChecked } from './factor-check.ts';
import { ServiceContext } from './service-context.ts';
import type { RequestInfo, TwoFactorCoreOptions } from './service-options.ts';

export { DEFAULT_DEVICE_NAME, DEFAULT_ENROLMENT_TTL_MS, DEFAULT_MAX_DEVICES, DEFAULT_STORE_TIMEOUT_MS, DEFAULT_VERIFIED_LOGIN_TTL_MS } from './service-options.ts';
export type { EnrolmentConfirmed, EnrolmentStarted, FactorChecked, RequestInfo, TwoFactorCoreOptions, TwoFactorStatus };

export class TwoFactorService {
  readonly totp: ResolvedTotpOptions;
  readonly limits: ResolvedLimits;
  readonly enrolmentTtlMs: number;
  readonly issuer: string;
  private readonly ctx: ServiceContext;

  constructor(o: TwoFactorCoreOptions) {
    this.ctx = new ServiceContext(o);
    this.totp = this.ctx.totp;
    this.limits = this.ctx.limits;
    this.enrolmentTtlMs = this.ctx.enrolmentTtlMs;
    this.issuer = this.ctx.issuer;
  }

  /** The user's state as the gate needs it: one record read and the policy. */
  sessionState(userId: string): Promise<{ state: TwoFactorState; generation: number }> {
    return account.sessionState(this.ctx, userId);
  }

  /** The user's state and whether the session's verified login is still live (see session-policy.ts). */
  sessionFacts(userId: string, loginId: string | undefined): Promise<SessionFacts> {
    return account.sessionFacts(this.ctx, userId, loginId);
  }

  /** Records server-side a login that passes the second factor (see session-policy.ts). */
  beginLogin(userId: string, loginId: string): Promise<void> {
    return account.beginLogin(this.ctx, userId, loginId);
  }

  /** Ends a verified login server-side (logout). */
  endLogin(userId: string, loginId: string): Promise<void> {
    return account.endLogin(this.ctx, userId, loginId);
  }

  status(userId: string): Promise<TwoFactorStatus> {
    return account.status(this.ctx, userId);
  }

  /** Creates a pending secret; nothing is active until `confirmEnrolment`. */
  startEnrolment(userId: string, accountName: string, deviceNameInput: unknown, info: RequestInfo): Promise<EnrolmentStarted> {
    return enrolment.startEnrolment(this.ctx, userId, accountName, deviceNameInput, info);
  }

  /** A still-pending enrolment shown again (after a mistyped code), or null. */
  resumeEnrolment(userId: string, enrolmentIdInput: unknown, accountName: string): Promise<EnrolmentStarted | null> {
    return enrolment.resumeEnrolment(this.ctx, userId, enrolmentIdInput, accountName);
  }

  /** Proves a pending secret with a code and makes it an active device. */
  confirmEnrolment(userId: string, enrolmentIdInput: unknown, codeInput: unknown, info: RequestInfo): Promise<EnrolmentConfirmed> {
    return enrolment.confirmEnrolment(this.ctx, userId, enrolmentIdInput, codeInput, info);
  }

  /**
   * Checks a TOTP or backup code against the user's devices, the replay state
   * and the shared failure budget. Every wrong, replayed or foreign code gets
   * the same `invalid_code`.
   */
  checkSecondFactor(userId: string, codeInput: unknown, info: RequestInfo): Promise<FactorChecked> {
    return checkSecondFactor(this.ctx, userId, codeInput, info);
  }

  /** Remembers this browser (token for its cookie) for the user at `generation`. */
  rememberBrowser(userId: string, generation: number, userAgent: string, settings: remembered.RememberSettings, info: RequestInfo): Promise<{ token: string; expiresAt: number }> {
    return remembered.rememberBrowser(this.ctx, userId, generation, userAgent, settings, info);
  }

  /** The second factor of a remembered browser's token, or null; `newToken` when the cookie must be replaced. */
  useRememberedBrowser(userId: string, token: string, info: RequestInfo): Promise<{ generation: number; expiresAt: number; newToken?: string } | null> {
    return remembered.useRememberedBrowser(this.ctx, userId, token, info);
  }

  /** The per-user suffix of the remembered-browser cookie's name. */
  rememberedCookieSuffix(userId: string): string {
    return remembered.rememberedCookieSuffix(this.ctx, userId);
  }

  /** The user's remembered browsers that still count (current generation). */
  listRememberedBrowsers(userId: string): Promise<remembered.RememberedBrowserView[]> {
    return remembered.listRememberedBrowsers(this.ctx, userId);
  }

  /** Forgets one remembered browser, or all (`id` undefined). */
  forgetRememberedBrowsers(userId: string, id: string | undefined, info: RequestInfo): Promise<boolean> {
    return remembered.forgetRememberedBrowsers(this.ctx, userId, id, info);
  }

  /** Emails a new code to `address` (the older one dies); 429 past the send limits, 503 `email_unavailable` when it cannot be sent. */
  sendEmailCode(userId: string, address: string, info: RequestInfo): Promise<{ to: string; expiresAt: string }> {
    return email.sendEmailCode(this.ctx, userId, address, info);
  }

  /** Tells the user about a security change by email (when the channel is on and `address` known); never throws. */
  notify(userId: string, address: string | undefined, notice: SecurityNotice, info: RequestInfo): void {
    email.notifyUser(this.ctx, userId, address, notice, info);
  }

  /** Whether the email channel is configured. */
  get emailEnabled(): boolean {
    return this.ctx.email !== undefined;
  }

  /** Options for `navigator.credentials.create()`; the challenge is kept for this session's `binding`. */
  passkeyRegistrationOptions(userId: string, accountName: string, binding: string, rp: RelyingParty): Promise<PublicKeyCredentialCreationOptionsJSON> {
    return passkeys.passkeyRegistrationOptions(this.ctx, userId, accountName, binding, rp);
  }

  /** Verifies a passkey registration against this session's challenge and links it; the first device brings backup codes. */
  registerPasskey(userId: string, nameInput: unknown, responseInput: unknown, binding: string | undefined, rp: RelyingParty, info: RequestInfo): Promise<PasskeyRegistered> {
    return passkeys.registerPasskey(this.ctx, userId, nameInput, responseInput, binding, rp, info);
  }

  /** Options for `navigator.credentials.get()` over the user's passkeys; the answer goes to `checkSecondFactor` as a `PasskeyProof`. */
  passkeyAuthenticationOptions(userId: string, binding: string, rp: RelyingParty): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return passkeys.passkeyAuthenticationOptions(this.ctx, userId, binding, rp);
  }

  /** Replaces the backup codes after a fresh code; the old set dies at once. */
  regenerateBackupCodes(userId: string, codeInput: unknown, info: RequestInfo): Promise<{ backupCodes: string[]; generation: number }> {
    return account.regenerateBackupCodes(this.ctx, userId, codeInput, info);
  }

  /** Unlinks one authenticator after a fresh code; refused for the last one while 2FA is required. */
  removeDevice(userId: string, deviceIdInput: unknown, codeInput: unknown, info: RequestInfo): Promise<{ state: TwoFactorState; generation: number }> {
    return account.removeDevice(this.ctx, userId, deviceIdInput, codeInput, info);
  }

  renameDevice(userId: string, deviceIdInput: unknown, nameInput: unknown, info: RequestInfo): Promise<void> {
    return account.renameDevice(this.ctx, userId, deviceIdInput, nameInput, info);
  }

  /** Turns 2FA off after a fresh code: devices and backup codes go. Refused while required. */
  disable(userId: string, codeInput: unknown, info: RequestInfo): Promise<{ state: TwoFactorState; generation: number }> {
    return account.disable(this.ctx, userId, codeInput, info);
  }

  /**
   * Confirms an admin action with the admin's own password. A wrong password
   * counts against the admin's failure budget, like a wrong code.
   */
  confirmAdmin(adminId: string, checkPassword: () => Promise<boolean>, info: RequestInfo): Promise<void> {
    return admin.confirmAdmin(this.ctx, adminId, checkPassword, info);
  }

  /** Each listed user's state and requirement, and the global flag. */
  usersOverview(users: { id: string; username: string }[]): Promise<{ requireAll: boolean; users: { id: string; username: string; state: TwoFactorState; required: boolean }[] }> {
    return admin.usersOverview(this.ctx, users);
  }

  setPolicy(requireAllInput: unknown, info: RequestInfo): Promise<{ requireAll: boolean }> {
    return admin.setPolicy(this.ctx, requireAllInput, info);
  }

  /** Requires (or stops requiring) 2FA for chosen users; a conflict while it is required for all. */
  setRequired(userIdsInput: unknown, requiredInput: unknown, info: RequestInfo): Promise<{ userIds: string[]; required: boolean }> {
    return admin.setRequired(this.ctx, userIdsInput, requiredInput, info);
  }

  /** Removes a user's 2FA (lost phone and codes) and ends their verified sessions. */
  resetUser(userId: string, info: RequestInfo): Promise<{ state: TwoFactorState }> {
    return admin.resetUser(this.ctx, userId, info);
  }
}
