/** koa-two-factor: two-factor authentication for Koa + Passport apps (Express: `koa-two-factor/express`). */
export { twoFactor, type TwoFactor, type TwoFactorOptions } from './koa/index.ts';
export { twoFactorErrors } from './koa/error-handler.ts';
export * from './public.ts';
