/** koa-two-factor: two-factor authentication for Koa + Passport apps. */
export { twoFactor, type TwoFactor, type TwoFactorOptions } from './koa/index.ts';
export * from './koa/options.ts';
export * from './core/index.ts';
export * from './stores/index.ts';
export type { Views, SetupPageData, SetupDonePageData, VerifyPageData, PageBase } from '../views/types.ts';
export { defaultViews, html, raw, escapeHtml, layout } from '../views/index.ts';
