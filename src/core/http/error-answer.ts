/**
 * The one door from an error to its answer, for the gate, the routes,
 * `requireStepUp` and the adapters' error handlers alike: JSON
 * `{ error, message, ...details }` for JSON clients, the login page for a
 * browser without a user, a short error page for any other browser. The same
 * outage gets the same answer everywhere.
 */
import type { TwoFactorError } from '../errors.ts';
import { html, layout, safeHref } from '../../../views/index.ts';
import { jsonAnswer, pageAnswer, redirectAnswer, wantsJson } from './negotiate.ts';
import { safeReturnTo } from './return-to.ts';
import type { Answer, AnswerHeaders, HttpRequest } from './types.ts';

/** Details that point the user somewhere next, in the order a page offers them. */
const NEXT_STEP_LINKS: ReadonlyArray<readonly [string, string]> = [
  ['loginUrl', 'Log in'],
  ['setupUrl', 'Set up two-factor authentication'],
  ['verifyUrl', 'Enter a code'],
  ['stepUpUrl', 'Enter a code'],
];

/** A short page: the error's message and, when the error names one, a local link to go on. */
export function defaultErrorPage(err: TwoFactorError): string {
  const link = NEXT_STEP_LINKS.find(([key]) => safeReturnTo(err.details[key]) !== undefined);
  const next = link ? html`<p><a href="${safeHref(String(err.details[link[0]]))}">${link[1]}</a></p>` : html``;
  const body = html`<h1>${err.status === 503 ? 'Try again shortly' : 'Something went wrong'}</h1>
<p class="error" role="alert">${err.message}</p>
${next}`;
  return layout({ title: 'Error', body });
}

export interface ErrorPageSettings {
  /** The HTML a browser gets for an error. */
  page: (err: TwoFactorError) => string;
  /** Content-Security-Policy of that page, or false for none. */
  contentSecurityPolicy: string | false;
}

function retryHeaders(err: TwoFactorError): AnswerHeaders {
  return typeof err.details.retryAfter === 'number' ? { 'Retry-After': String(err.details.retryAfter) } : {};
}

/** The error as JSON, whatever the client asked for. */
function jsonError(err: TwoFactorError): Answer {
  return jsonAnswer(err.toJSON(), err.status, retryHeaders(err));
}

export function errorAnswer(req: HttpRequest, err: TwoFactorError, o: ErrorPageSettings): Answer {
  const answer = wantsJson(req) ? jsonError(err) : browserError(err, o);
  answer.headers.Vary = 'Accept';
  return answer;
}

function browserError(err: TwoFactorError, o: ErrorPageSettings): Answer {
  const login = safeReturnTo(err.details.loginUrl);
  if (err.code === 'unauthenticated' && login) return redirectAnswer(login);
  const answer = pageAnswer(o.page(err), o.contentSecurityPolicy, err.status);
  Object.assign(answer.headers, retryHeaders(err));
  return answer;
}
