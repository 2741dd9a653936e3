/**
 * Reading a request body once, for the 2FA routes and for `requireStepUp`,
 * whether or not the app mounted `express.json()` / `express.urlencoded()`
 * before them. Bodies are tiny: a code, a name, an id.
 */
// express.json / express.urlencoded: the app's own Express's body-parser (1 on Express 4, 2 on 5), not an undeclared dependency.
import express, { type Request, type Response } from 'express';
import { TwoFactorError } from '../core/errors.ts';
import { UNREADABLE_BODY_MESSAGE } from '../core/error-classes.ts';
import { BODY_LIMIT } from '../core/http/body-limits.ts';

const parsers = [
  express.json({ limit: BODY_LIMIT }),
  express.urlencoded({ limit: BODY_LIMIT, extended: false }),
];

/** Set by body-parser 1 (Express 4's express.json and friends) once it has read a body; body-parser 2 (Express 5's) does not set it. */
type ParsedRequest = Request & { _body?: boolean };

/**
 * Some parser (the app's or ours) has read the body: body-parser 1 flags it,
 * body-parser 2 only leaves the stream consumed (and skips a consumed
 * stream), so a read body is one whose stream has ended.
 */
function alreadyRead(req: ParsedRequest): boolean {
  return req._body === true || req.readableEnded;
}

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
  if (!alreadyRead(parsed) && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    try {
      for (const parser of parsers) if (!alreadyRead(parsed)) await run(parser, req, res);
    } catch {
      throw new TwoFactorError('invalid_input', {}, UNREADABLE_BODY_MESSAGE);
    }
  }
  return alreadyRead(parsed) ? req.body : undefined;
}
