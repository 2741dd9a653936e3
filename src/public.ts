/** What every entry point exports besides its adapter: options, core, stores, views. */
export * from './config/options.ts';
export { defaultErrorPage } from './core/http/error-answer.ts';
export { DEFAULT_STORE_ERROR_LOG_INTERVAL_MS, type TwoFactorErrorsOptions } from './core/http/error-handling.ts';
export { DEFAULT_STEP_UP_CSRF, DEFAULT_STEP_UP_REASON, type StepUpOptions } from './core/http/step-up.ts';
export { safeReturnTo } from './core/http/return-to.ts';
export { classifyError, toTwoFactorError, UNREADABLE_BODY_MESSAGE, type ErrorClass } from './core/error-classes.ts';
export * from './core/index.ts';
export * from './stores/index.ts';
export type * from '../views/types.ts';
export { defaultViews, html, raw, escapeHtml, layout } from '../views/index.ts';
