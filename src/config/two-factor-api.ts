/** What `twoFactor()` gives an app, on every adapter: `M` is the framework's middleware type, `C` its request. */
import type { StepUpOptions } from '../core/http/step-up.ts';
import type { TwoFactorService } from '../core/two-factor-service.ts';

export interface TwoFactorApi<M, C> {
  /** Mount after the session and Passport middleware, before the app's routes: blocks half-logged-in sessions. */
  gate: M;
  /** The framework-free service (for admin tools, tests, other adapters). */
  service: TwoFactorService;
  /** Middleware for privileged routes: active 2FA, verified (within `maxAge`). */
  requireStepUp(options?: StepUpOptions): M;
  /** The mount prefix, e.g. `/2fa`. */
  prefix: string;
  /** This session's CSRF token, for the app's own forms behind `requireStepUp` (field `_csrf`). */
  csrfToken(request: C): string;
}
