/**
 * Reading a request body once, for the 2FA routes and for `requireStepUp`
 * (which needs a form's `_csrf` field before the app's own parser ran).
 * Bodies are tiny: a code, a name, an id.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { TwoFactorError } from '../core/errors.ts';

export const BODY_LIMIT = '16kb';

const parse = bodyParser({
  enableTypes: ['json', 'form'], jsonLimit: BODY_LIMIT, formLimit: BODY_LIMIT,
  parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
});

/**
 * Parses the body unless something upstream already did. Whatever goes
 * wrong while reading it (malformed JSON, a bad or unknown
 * `Content-Encoding`, too large) is the client's doing: `invalid_input`.
 */
export async function readBodyOnce(ctx: Context): Promise<void> {
  if ((ctx.request as { body?: unknown }).body !== undefined) return;
  try {
    await parse(ctx, async () => {});
  } catch {
    throw new TwoFactorError('invalid_input', {}, 'The request body could not be read.');
  }
}
