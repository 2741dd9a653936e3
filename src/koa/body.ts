/**
 * Reading a request body once, for the 2FA routes and for `requireStepUp`
 * (which needs a form's `_csrf` field before the app's own parser ran).
 * Bodies are tiny: a code, a name, an id.
 */
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import { TwoFactorError } from '../core/errors.ts';
import { UNREADABLE_BODY_MESSAGE } from '../core/error-classes.ts';
import { BODY_LIMIT } from '../core/http/body-limits.ts';

const parse = bodyParser({
  enableTypes: ['json', 'form'], jsonLimit: BODY_LIMIT, formLimit: BODY_LIMIT,
  parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
});

/**
 * The body, parsed unless something upstream already did. Whatever goes
 * wrong while reading it (malformed JSON, a bad or unknown
 * `Content-Encoding`, too large) is the client's doing: `invalid_input`.
 */
export async function readBody(ctx: Context): Promise<unknown> {
  const request = ctx.request as { body?: unknown };
  if (request.body !== undefined) return request.body;
  try {
    await parse(ctx, async () => {});
  } catch {
    throw new TwoFactorError('invalid_input', {}, UNREADABLE_BODY_MESSAGE);
  }
  return request.body;
}
