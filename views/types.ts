/**
 * The data each default page receives. An app replaces any page by passing a
 * function of the same signature in the `views` option; every string it puts
 * into HTML must go through `html` / `escapeHtml` from `views/html.ts`.
 */

/** Fields every page gets. */
export interface PageBase {
  /** Mount prefix of the 2FA routes, e.g. `/2fa`. Used to build form actions. */
  prefix: string;
  /** Synchronizer token for the `_csrf` hidden field of every form. */
  csrfToken: string;
  /** Where to go after success; passed through forms as the `returnTo` field. */
  returnTo?: string | undefined;
  /** A message for the person, shown above the form (wrong code, expired…). */
  error?: string | undefined;
  /** Seconds to wait when locked out; shown in the error text when set. */
  retryAfterSeconds?: number | undefined;
  /** Digits of an authenticator code (the `totp.digits` option). Default 6. */
  codeDigits?: number | undefined;
  /** The app's logout route (the `logoutPath` option). Default `/logout`. */
  logoutPath?: string | undefined;
  /** How the app's logout is reached: a form post or a link (the `logoutMethod` option). Default `POST`. */
  logoutMethod?: 'POST' | 'GET' | undefined;
}

/** The page that links an authenticator app: QR code, secret key, code field. */
export interface SetupPageData extends PageBase {
  /** Pending enrolment id, posted back as `enrolmentId`. */
  enrolmentId: string;
  /** Inline SVG markup of the QR code (generated locally, trusted markup). */
  qrSvg: string;
  /** The base32 secret key, for typing by hand. Shown grouped in fours. */
  secret: string;
  /** The otpauth:// URI (for a "open in authenticator app" link on phones). */
  otpauthUri: string;
  /** ISO time when this pending enrolment expires (10 minutes). */
  expiresAt: string;
  /** Name of the device being linked, e.g. `Phone`. */
  deviceName: string;
  /** The account label shown in the app, e.g. `alice`. */
  accountName: string;
  /** The issuer shown in the app, e.g. `Example App`. */
  issuer: string;
  /** Set when passkeys are enabled: the page also offers a passkey or security key instead of the app. */
  passkey?: PasskeyRegisterLinks | undefined;
}

/** "Good to go": shown once after a device is confirmed. */
export interface SetupDonePageData extends PageBase {
  /** Backup codes, shown this one time (only after the first device). */
  backupCodes?: string[] | undefined;
  /** Where the continue button leads. */
  continueUrl: string;
  /** Name of the device just linked. */
  deviceName: string;
}

/** The second-factor challenge after the password step. */
export interface VerifyPageData extends PageBase {
  /** How many backup codes remain, when known; a warning is shown when few. */
  backupCodesRemaining?: number | undefined;
  /** Form action: `${prefix}/verify` for login, `${prefix}/step-up` for sudo mode. */
  action: string;
  /** Heading, e.g. "Two-factor authentication" or "Confirm it's you". */
  title: string;
  /** Set when passkeys are enabled and the user has one: the page offers "Use a passkey" next to the code form. */
  passkey?: PasskeyAuthenticateLinks | undefined;
  /** Set when the app emails codes and this user may get one: the page offers "Email me a code instead". */
  emailCode?: EmailCodeLinks | undefined;
  /** A notice after an action, e.g. "We sent a code to a***@example.com." */
  notice?: string | undefined;
  /**
   * Set on the login challenge when the app remembers browsers (the
   * `rememberBrowser` option) and this user may use it: the code form offers
   * "Don't ask for a code on this browser for N days" (checkbox `remember`,
   * value `on`), and a passkey form carries the same choice. Never on step-up.
   */
  rememberDays?: number | undefined;
}

/** "Email me a code instead": where the form posts and where the code goes. */
export interface EmailCodeLinks {
  /** `POST` URL that sends the code, e.g. `/2fa/email-code` (fields `_csrf`, `kind`, `returnTo`). */
  sendUrl: string;
  /** The address, masked (`a***@example.com`). */
  address: string;
}

/** Where a page's passkey forms get their WebAuthn options and script, to sign in with a passkey. */
export interface PasskeyAuthenticateLinks {
  /** `POST` URL answering `PublicKeyCredentialRequestOptionsJSON`, e.g. `/2fa/passkeys/authentication-options`. */
  optionsUrl: string;
  /** The same-origin passkey script, e.g. `/2fa/assets/passkeys.js`. */
  scriptUrl: string;
}

/** Where a page's passkey forms get their WebAuthn options, post the new passkey and load the script. */
export interface PasskeyRegisterLinks {
  /** `POST` URL answering `PublicKeyCredentialCreationOptionsJSON`, e.g. `/2fa/passkeys/options`. */
  optionsUrl: string;
  /** Form action that links the new passkey, e.g. `/2fa/passkeys`. */
  registerUrl: string;
  /** The same-origin passkey script, e.g. `/2fa/assets/passkeys.js`. */
  scriptUrl: string;
}

/** The account page's passkey links: adding one, and (when the user has one) proving an action with it. */
export interface AccountPasskeyLinks extends PasskeyRegisterLinks {
  /**
   * Set when the user has a passkey: `POST` URL answering
   * `PublicKeyCredentialRequestOptionsJSON`; every form that asks for a fresh
   * code then also offers "Use a passkey instead".
   */
  authenticationOptionsUrl?: string | undefined;
}

/** One linked authenticator as the account page lists it. */
export interface DeviceView {
  /** The device id, used in the rename and remove URLs. */
  id: string;
  /** The name the user gave it, e.g. `Phone`. */
  name: string;
  /** An authenticator app or a passkey / security key. */
  kind: 'totp' | 'passkey';
  /** ISO time it was linked. */
  createdAt: string;
  /** ISO time of its last successful use; null when never used. */
  lastUsedAt: string | null;
}

/** One remembered browser ("Don't ask for a code on this browser") as the account page lists it. */
export interface BrowserView {
  /** The browser's id, used in its forget URL. */
  id: string;
  /** A name from its User-Agent when it was remembered, e.g. `Chrome on Linux`. */
  name: string;
  /** ISO time of its last sign-in without a code (or when it was remembered). */
  lastUsedAt: string;
  /** ISO time it stops being remembered. */
  expiresAt: string;
}

/** The "Two-factor authentication" account page: devices, codes, actions. */
export interface AccountPageData extends PageBase {
  /** `none`: 2FA off; `pending`: required but not set up yet; `active`: at least one device. */
  state: 'none' | 'pending' | 'active';
  /** Required by policy: disabling is refused, the last device cannot be removed. */
  required: boolean;
  /** The linked authenticator apps and passkeys, oldest first. */
  devices: DeviceView[];
  /** Unused backup codes left. */
  backupCodesRemaining: number;
  /** A success notice ("Backup codes regenerated", "Phone removed"). */
  notice?: string | undefined;
  /** Set when passkeys are enabled: the page offers "Add a passkey" (see `AccountPasskeyLinks`). */
  passkey?: AccountPasskeyLinks | undefined;
  /**
   * Set when the app remembers browsers (the `rememberBrowser` option): the
   * browsers that sign this user in without a code, most recently used first,
   * each with "Forget", and "Forget all remembered browsers". Empty: none is.
   */
  rememberedBrowsers?: BrowserView[] | undefined;
  /**
   * Where the forget forms post, e.g. `/2fa/browsers`: `${browsersUrl}/${id}/forget`
   * and `${browsersUrl}/forget-all`. Default `${prefix}/browsers`.
   */
  browsersUrl?: string | undefined;
}

/** Fresh backup codes after regeneration, shown this once. */
export interface BackupCodesPageData extends PageBase {
  /** The new codes, shown this one time. */
  backupCodes: string[];
  /** Where the continue button leads. */
  continueUrl: string;
}

/**
 * Shown when an action needs active 2FA and the user has none:
 * "Activate now" (setup, then back to the action) or "Activate later".
 */
export interface SetupRequiredPageData extends PageBase {
  /** Setup page URL carrying a returnTo back to the action. */
  activateUrl: string;
  /** Where "Activate later" leads (where the user came from). */
  laterUrl: string;
  /** Why it is needed, e.g. "Taking control of a remote session needs two-factor authentication." */
  reason: string;
  /** Set when the app emails security notices: the address the "it is on" notice goes to, in full (the person checks it is theirs). */
  emailAddress?: string | undefined;
}

/** The admin's user list: state per user, the global flag, the actions. */
export interface AdminPageData extends PageBase {
  /** 2FA is required of every user. */
  requireAll: boolean;
  /** Every user with their 2FA state and whether it is required of them. */
  users: { id: string; username: string; state: 'none' | 'pending' | 'active'; required: boolean }[];
  /** A success notice after a policy change. */
  notice?: string | undefined;
}

/** Every default page; the `views` option takes a `Partial<Views>`. */
export interface Views {
  setup(data: SetupPageData): string;
  setupDone(data: SetupDonePageData): string;
  verify(data: VerifyPageData): string;
  account(data: AccountPageData): string;
  backupCodes(data: BackupCodesPageData): string;
  setupRequired(data: SetupRequiredPageData): string;
  admin(data: AdminPageData): string;
}
