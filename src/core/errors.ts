/**
 * The one table of every error the package answers with. Adapters turn a
 * `TwoFactorError` into `{ error, message, ...details }` with `status`.
 */
export const ERRORS = {
  invalid_input: { status: 400, message: 'The request is missing a field or has one of the wrong shape.' },
  // One message for every wrong, replayed, expired or foreign code: an attacker
  // must not learn which of those it was.
  invalid_code: { status: 401, message: 'That code is not valid. Check your authenticator app and try again.' },
  unauthenticated: { status: 401, message: 'Log in first.' },
  second_factor_required: { status: 401, message: 'Enter the code from your authenticator app to continue.' },
  two_factor_setup_required: { status: 403, message: 'Set up two-factor authentication to continue.' },
  step_up_required: { status: 403, message: 'Confirm it is you with a code from your authenticator app, a passkey or a backup code.' },
  forbidden: { status: 403, message: 'You are not allowed to do that.' },
  csrf_failed: { status: 403, message: 'The form expired or came from another site. Reload the page and try again.' },
  conflict: { status: 409, message: 'That is not possible in the current state.' },
  too_many_attempts: { status: 429, message: 'Too many failed attempts. Wait before trying again.' },
  email_unavailable: { status: 503, message: 'The email could not be sent. Try again shortly, or use another way to sign in.' },
  store_unavailable: { status: 503, message: 'Two-factor checks are unavailable right now. Try again shortly.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** Extra fields some errors carry (`verifyUrl`, `setupUrl`, `retryAfter`…). */
export type ErrorDetails = Record<string, string | number | boolean>;

export class TwoFactorError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, details: ErrorDetails = {}, message?: string) {
    super(message ?? ERRORS[code].message);
    this.name = 'TwoFactorError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  /** The JSON body of the contract: `{ error, message, ...details }`. */
  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.details };
  }
}

export function isTwoFactorError(err: unknown): err is TwoFactorError {
  return err instanceof TwoFactorError;
}
