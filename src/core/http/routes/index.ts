/**
 * The 2FA routes, declared once for every adapter, and their dispatcher:
 * no-store caching, the body read once (an unreadable one is `invalid_input`),
 * CSRF, the route, and every error through the one door.
 */
import { match, type MatchFunction } from 'path-to-regexp';
import { toTwoFactorError } from '../../error-classes.ts';
import { checkCsrf } from '../csrf.ts';
import { defaultErrorPage, errorAnswer } from '../error-answer.ts';
import { isUnder } from '../gate.ts';
import { wantsJson } from '../negotiate.ts';
import type { Answer, HttpRequest, HttpSettings } from '../types.ts';
import * as account from './account.ts';
import * as passkeys from './passkeys.ts';
import * as emailCode from './email-code.ts';
import * as admin from './admin.ts';
import { answerChallenge, showChallenge } from './challenge.ts';
import { recordBody, type RouteHandler } from './route-kit.ts';
import { confirmSetup, startSetup } from './setup.ts';
import { status } from './status.ts';

/** Method, path under the prefix, handler. HTML forms use the POST twins of PUT, PATCH and DELETE. */
export const ROUTES: ReadonlyArray<readonly [string, string, RouteHandler]> = [
  ['GET', '/', status],
  ['GET', '/setup', startSetup],
  ['POST', '/setup', startSetup],
  ['POST', '/setup/confirm', confirmSetup],
  ['GET', '/verify', showChallenge('verify')],
  ['POST', '/verify', answerChallenge('verify')],
  ['GET', '/step-up', showChallenge('step-up')],
  ['POST', '/step-up', answerChallenge('step-up')],
  ['POST', '/email-code', emailCode.sendEmailCode],
  ['POST', '/passkeys/options', passkeys.registrationOptions],
  ['POST', '/passkeys', passkeys.register],
  ['POST', '/passkeys/authentication-options', passkeys.authenticationOptions],
  ['GET', '/assets/passkeys.js', passkeys.script],
  ['POST', '/backup-codes', account.regenerateBackupCodes],
  ['DELETE', '/devices/:id', account.removeDevice],
  ['POST', '/devices/:id/remove', account.removeDevice],
  ['PATCH', '/devices/:id', account.renameDevice],
  ['POST', '/devices/:id/rename', account.renameDevice],
  ['POST', '/disable', account.disable],
  ['DELETE', '/browsers/:id', account.forgetBrowser],
  ['POST', '/browsers/:id/forget', account.forgetBrowser],
  ['POST', '/browsers/forget-all', account.forgetAllBrowsers],
  ['GET', '/admin/users', admin.listUsers],
  ['PUT', '/admin/policy', admin.setPolicy],
  ['POST', '/admin/policy', admin.setPolicy],
  ['PUT', '/admin/users/required', admin.setRequired],
  ['POST', '/admin/users/required', admin.setRequired],
  ['POST', '/admin/users/:id/reset', admin.resetUser],
];

interface CompiledRoute { method: string; match: MatchFunction<Record<string, string>>; handle: RouteHandler }

/** The routes of one mount prefix, and what the adapters call. */
export interface RouteDispatcher {
  /** Whether a path is under the prefix at all: one string compare, so the app's own requests cost nothing more. */
  covers(path: string): boolean;
  /** The answer of the route the request names, or null when it names none. */
  answer(req: HttpRequest): Promise<Answer | null>;
}

export function createRouteDispatcher(r: HttpSettings): RouteDispatcher {
  const compiled: CompiledRoute[] = ROUTES.map(([method, path, handle]) => ({
    method, handle, match: match<Record<string, string>>(path === '/' ? r.prefix : `${r.prefix}${path}`, { decode: safeDecode }),
  }));

  const covers = (path: string): boolean => isUnder(path, r.prefix);

  function find(req: HttpRequest): { route: CompiledRoute; params: Record<string, string> } | null {
    if (!covers(req.path)) return null;
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    for (const route of compiled) {
      if (route.method !== method) continue;
      const found = route.match(req.path);
      if (found) return { route, params: found.params };
    }
    return null;
  }

  async function answer(req: HttpRequest): Promise<Answer | null> {
    const found = find(req);
    if (!found) return null;
    try {
      // Whatever goes wrong reading the body is the client's doing: invalid_input, never a 500.
      const raw = await req.readBody();
      checkCsrf(req, recordBody(raw, false), r.sessionKey);
      return await found.route.handle({ req, r, params: found.params, body: recordBody(raw), json: wantsJson(req) });
    } catch (thrown) {
      const err = toTwoFactorError(thrown);
      if (!err) throw thrown;
      return errorAnswer(req, err, { page: defaultErrorPage, contentSecurityPolicy: r.contentSecurityPolicy });
    }
  }

  return { covers, answer };
}

/** A path parameter that is not valid percent-encoding stays as sent (it then matches no device). */
function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
