/**
 * JSON or HTML, and the headers every 2FA answer carries. The same rules as
 * Koa's and Express's own `accepts` / `is` (the same libraries underneath).
 */
import accepts from 'accepts';
import { is as typeIs } from 'type-is';
import type { IncomingMessage } from 'node:http';
import type { Answer, AnswerHeaders, HttpRequest } from './types.ts';
import { LAYOUT_STYLE_SOURCE } from '../../../views/layout.ts';

/**
 * The pages load nothing from anywhere: no scripts, no other hosts; only the
 * layout's own inline stylesheet (by hash), inline SVG/data images, forms to
 * this origin, and no framing (clickjacking).
 */
export const DEFAULT_CONTENT_SECURITY_POLICY = `default-src 'none'; script-src 'self'; connect-src 'self'; style-src ${LAYOUT_STYLE_SOURCE}; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** The request's body type is one of `types` (`json`, `urlencoded`…). */
export function bodyIs(req: HttpRequest, ...types: string[]): boolean {
  const type = req.header('content-type');
  return type !== '' && typeIs(type, types) !== false;
}

/** JSON when the client asks for it, or sends JSON without asking for HTML. */
export function wantsJson(req: HttpRequest): boolean {
  const accept = req.header('accept');
  const negotiator = accepts({ headers: accept === '' ? {} : { accept } } as IncomingMessage);
  if (negotiator.type(['html', 'json']) === 'json') return true;
  return bodyIs(req, 'application/json') && !accept.includes('text/html');
}

/** 2FA answers must never be cached: they carry secrets, codes and tokens. */
export const NO_STORE: Readonly<AnswerHeaders> = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function jsonAnswer(body: unknown, status = 200, headers: AnswerHeaders = {}): Answer {
  return { kind: 'json', status, body, headers: { ...NO_STORE, ...headers } };
}

export function pageAnswer(markup: string, csp: string | false, status = 200): Answer {
  return { kind: 'html', status, html: markup, headers: { ...NO_STORE, ...(csp ? { 'Content-Security-Policy': csp } : {}) } };
}

/** 302 for a link the browser followed; 303 after a form post (the next request is a GET). */
export function redirectAnswer(location: string, status: 302 | 303 = 302): Answer {
  return { kind: 'redirect', status, location, headers: { ...NO_STORE } };
}
