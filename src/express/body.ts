/**
 * Reading a request body once, for the 2FA routes and for `requireStepUp`,
 * whether or not the app mounted `express.json()` / `express.urlencoded()`
 * before them. Bodies are tiny: a code, a name, an id.
 */
import bodyParser from 'body-parser';
import type { Request, Response } from 'express';
import { TwoFactorError } from '../core/errors.ts';
import { UNREADABLE_BODY_MESSAGE } from '../core/error-classes.ts';
import { BODY_LIMIT } from '../core/http/body-limits.ts';

const parsers = [
  bodyParser.json({ limit: BODY_LIMIT }),
  bodyParser.urlencoded({ limit: BODY_LIMIT, extended: false }),
];

/** Set by body-parser once it has read a body (express.json and friends too, Express 4 and 5). */
type ParsedRequest = Request & { _body?: boolean };

function run(parser: (typeof parsers)[number], req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => parser(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
}

/**
 * The body, parsed unless a parser upstream already read it. Whatever goes
 * wrong while reading it (malformed JSON, a bad or unknown
 * `Content-Encoding`, too large) is the client's doing: `invalid_input`.
 */
export async function readBody(req: Request, res: Response): Promise<unknown> {
  const parsed = req as ParsedRequest;
  if (!parsed._body && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    try {
      for (const parser of parsers) if (!parsed._body) await run(parser, req, res);
    } catch {
      throw new TwoFactorError('invalid_input', {}, UNREADABLE_BODY_MESSAGE);
    }
  }
  return parsed._body ? req.body : undefined;
}
