import { setupPage } from './setup.ts';
import { setupDonePage } from './setup-done.ts';
import type { Views } from './types.ts';
import { verifyPage } from './verify.ts';

/** The built-in pages; replace any of them with the `views` option. */
export const defaultViews: Views = {
  setup: setupPage,
  setupDone: setupDonePage,
  verify: verifyPage,
};

export { escapeHtml, html, raw, SafeHtml, type HtmlValue } from './html.ts';
export { errorAlert, humanDuration, layout, safeHref, type LayoutOptions } from './layout.ts';
export { setupPage, groupSecret } from './setup.ts';
export { setupDonePage } from './setup-done.ts';
export { verifyPage } from './verify.ts';
export type { PageBase, SetupDonePageData, SetupPageData, VerifyPageData, Views } from './types.ts';
