/** What every adapter's body reader accepts: the 2FA bodies are tiny (a code, a name, an id). */

/** Largest JSON or form body read, in the body parsers' notation. */
export const BODY_LIMIT = '16kb';
