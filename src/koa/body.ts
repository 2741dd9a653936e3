/**
 * Reading a request body once, for the 2FA routes and for `requireStepUp`
 * (which needs a form's `_csrf` field before the app's own parser ran).
 * Bodies are tiny: a code, a name, an id. co-body does the reading (limits,
 * charsets, gzip/deflate/br); it needs no Koa, so an Express app that
 * installs this package gets no Koa with it.
 */
import coBody from 'co-body';
import typeIs from 'type-is';
import type { Context } from 'koa';
import { TwoFactorError } from '../core/errors.ts';
import { UNREADABLE_BODY_MESSAGE } from '../core/error-classes.ts';
import { BODY_LIMIT } from '../core/http/body-limits.ts';

/** Methods whose body is read; others have none worth reading. */
const PARSED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function parse(ctx: Context): Promise<unknown> {
  if (!PARSED_METHODS.has(ctx.method)) return undefined;
  if (typeIs(ctx.req, ['json', '+json'])) return coBody.json(ctx.req, { limit: BODY_LIMIT, strict: true });
  if (typeIs(ctx.req, ['urlencoded'])) return coBody.form(ctx.req, { limit: BODY_LIMIT });
  // Another type, or no body: nothing the routes can read a field from.
  return {};
}

/**
 * The body, parsed unless something upstream already did. Whatever goes
 * wrong while reading it (malformed JSON, a bad or unknown
 * `Content-Encoding`, too large) is the client's doing: `invalid_input`.
 */
export async function readBody(ctx: Context): Promise<unknown> {
  const request = ctx.request as { body?: unknown };
  if (request.body !== undefined) return request.body;
  try {
    request.body = await parse(ctx);
  } catch {
    throw new TwoFactorError('invalid_input', {}, UNREADABLE_BODY_MESSAGE);
  }
  return request.body;
}
