/** The pages' passkey script (served at `${prefix}/assets/passkeys.js`); written by views work. */
export const PASSKEYS_SCRIPT = '';
