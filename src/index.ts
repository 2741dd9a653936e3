/** koa-two-factor: two-factor authentication for Koa + Passport apps. */
export { twoFactor, type TwoFactor, type TwoFactorOptions } from './koa/index.ts';
export * from './koa/options.ts';
export { twoFactorErrors, defaultErrorPage, DEFAULT_STORE_ERROR_LOG_INTERVAL_MS, type TwoFactorErrorsOptions } from './koa/error-handler.ts';
export { classifyError, toTwoFactorError, UNREADABLE_BODY_MESSAGE, type ErrorClass } from './core/error-classes.ts';
export * from './core/index.ts';
export * from './stores/index.ts';
export type { Views, SetupPageData, SetupDonePageData, VerifyPageData, PageBase } from '../views/types.ts';
export { defaultViews, html, raw, escapeHtml, layout } from '../views/index.ts';
