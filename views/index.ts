import { accountPage } from './account.ts';
import { adminPage } from './admin.ts';
import { backupCodesPage } from './backup-codes.ts';
import { setupPage } from './setup.ts';
import { setupDonePage } from './setup-done.ts';
import { setupRequiredPage } from './setup-required.ts';
import type { Views } from './types.ts';
import { verifyPage } from './verify.ts';

/** The built-in pages; replace any of them with the `views` option. */
export const defaultViews: Views = {
  setup: setupPage,
  setupDone: setupDonePage,
  verify: verifyPage,
  account: accountPage,
  backupCodes: backupCodesPage,
  setupRequired: setupRequiredPage,
  admin: adminPage,
};

export { adminPage } from './admin.ts';

export { escapeHtml, html, raw, SafeHtml, type HtmlValue } from './html.ts';
export { errorAlert, humanDuration, layout, returnToField, safeHref, LAYOUT_STYLE_SOURCE, type LayoutOptions } from './layout.ts';
export { setupPage, groupSecret } from './setup.ts';
export { setupDonePage } from './setup-done.ts';
export { verifyPage } from './verify.ts';
export { accountPage, formatUtcDateTime } from './account.ts';
export { backupCodesDataUrl, backupCodesList, backupCodesPage, backupCodesText } from './backup-codes.ts';
export { setupRequiredPage } from './setup-required.ts';
export { passkeyAuthenticateForm, passkeyRegisterForm, passkeyScript, passkeyUnsupported, type AuthenticateFormOptions, type RegisterFormOptions } from './passkeys.ts';
export type {
  AdminPageData,
  AccountPageData,
  AccountPasskeyLinks,
  BackupCodesPageData,
  BrowserView,
  DeviceView,
  PageBase,
  PasskeyAuthenticateLinks,
  PasskeyRegisterLinks,
  SetupDonePageData,
  SetupPageData,
  SetupRequiredPageData,
  VerifyPageData,
  Views,
} from './types.ts';
