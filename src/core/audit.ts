/**
 * Audit events handed to the app's `audit` hook. They never carry a code,
 * secret or backup code: only who, what, from where, when and the outcome.
 */
export type AuditEventType =
  | 'enrolment.started' | 'enrolment.confirmed'
  | 'verification.succeeded' | 'verification.failed' | 'lockout'
  | 'backup_code.used' | 'backup_codes.regenerated'
  | 'device.removed' | 'device.renamed'
  | 'passkey.registered' | 'passkey.counter_regression'
  | 'email_code.sent' | 'email_code.refused' | 'email_code.failed' | 'email_notice.sent'
  | 'browser.remembered' | 'browser.forgotten'
  | 'disabled' | 'reset' | 'policy.changed';

export interface AuditEvent {
  type: AuditEventType;
  /** The user whose 2FA it concerns. */
  userId: string;
  /** Who acted, when not the user (an admin). */
  actor?: string | undefined;
  ip?: string | undefined;
  /** ISO time. */
  at: string;
  outcome: 'success' | 'failure';
  /** Non-secret context: endpoint, method, device id, lockout length. */
  detail?: Record<string, string | number | boolean> | undefined;
}

export type AuditHook = (event: AuditEvent) => void | Promise<void>;
