/**
 * Admin policy routes: who must use 2FA, and resets for lost phones. Only
 * users the app's `canManage` accepts, from a verified session, and every
 * change confirmed with the admin's own password (a wrong one counts against
 * the admin's failure budget). HTML forms use the POST twins of PUT routes.
 */
import { TwoFactorError } from '../../errors.ts';
import type { RequestInfo } from '../../service-options.ts';
import { bodyIs, jsonAnswer, redirectAnswer } from '../negotiate.ts';
import { sessionOf, takeNotice } from '../session-store.ts';
import type { Answer } from '../types.ts';
import { requireVerifiedSession } from './account.ts';
import { notifyUser, page, pageBase, requestInfo, showOnPage, type RouteCall, type RouteHandler } from './route-kit.ts';

async function requireAdmin(call: RouteCall): Promise<string> {
  const { r } = call;
  const { uid, user } = await requireVerifiedSession(call);
  if (!(await r.canManage(user, call.req.native))) throw new TwoFactorError('forbidden');
  // Held to setup like everywhere else: a pending admin must not lift the requirement it is under.
  if ((await r.service.sessionState(uid)).state === 'pending') throw new TwoFactorError('two_factor_setup_required', { setupUrl: `${r.prefix}/setup` });
  return uid;
}

/** Forms send "true"/"on"/"1"; JSON sends booleans. */
function booleanField(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (['true', 'on', '1'].includes(value)) return true;
  if (['false', 'off', '0'].includes(value)) return false;
  return value;
}

/** A form with one checked box sends a string, with several an array; JSON must send a list. */
function listField(call: RouteCall, value: unknown): unknown {
  return typeof value === 'string' && bodyIs(call.req, 'urlencoded') ? [value] : value;
}

async function adminPage({ req, r }: RouteCall, err?: TwoFactorError, notice?: string): Promise<Answer> {
  const overview = await r.service.usersOverview(await r.listUsers());
  return page(r, r.views.admin({ ...pageBase(req, r, undefined, err), ...overview, notice }), err ? err.status : 200);
}

export async function listUsers(call: RouteCall): Promise<Answer> {
  const { req, r } = call;
  await requireAdmin(call);
  if (call.json) return jsonAnswer(await r.service.usersOverview(await r.listUsers()));
  return adminPage(call, undefined, takeNotice(req, `${r.sessionKey}AdminNotice`));
}

/** Confirms with the password, runs the change, answers JSON or returns to the admin page. */
function change(endpoint: string, notice: string, run: (call: RouteCall, info: RequestInfo) => Promise<unknown>): RouteHandler {
  return async (call) => {
    const { req, r, body } = call;
    const adminId = await requireAdmin(call);
    const info: RequestInfo = { ...requestInfo(req, endpoint), actor: adminId };
    let result;
    try {
      if (typeof body.password !== 'string' || body.password.length === 0 || body.password.length > 1024) {
        throw new TwoFactorError('invalid_input', { field: 'password' }, 'Confirm with your password.');
      }
      const password = body.password;
      await r.service.confirmAdmin(adminId, () => r.verifyPassword(req.user(), password), info);
      result = await run(call, info);
    } catch (err) {
      if (showOnPage(err, call.json)) return adminPage(call, err);
      throw err;
    }
    if (call.json) return jsonAnswer(result);
    sessionOf(req)[`${r.sessionKey}AdminNotice`] = notice;
    return redirectAnswer(`${r.prefix}/admin/users`, 303);
  };
}

export const setPolicy = change('admin/policy', 'The policy was saved.',
  ({ r, body }, info) => r.service.setPolicy(booleanField(body.requireAll), info));

export const setRequired = change('admin/users/required', 'The users were updated.',
  (call, info) => call.r.service.setRequired(listField(call, call.body.userIds), booleanField(call.body.required), info));

export const resetUser = change('admin/users/reset', 'Two-factor authentication was reset for that user.',
  async (call, info) => {
    const { r, params } = call;
    const done = await r.service.resetUser(params.id!, info);
    // The user is told at the address the app lists for them (`listUsers`), if any.
    if (r.email.enabled && r.email.notifications) {
      r.listUsers().then(
        (users) => notifyUser(call, params.id!, undefined, 'reset', users.find((u) => u.id === params.id)?.email),
        (err: unknown) => r.log(`koa-two-factor: could not look up the address for a reset notice: ${String(err)}`),
      );
    }
    return done;
  });
