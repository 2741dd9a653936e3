/**
 * Admin policy routes: who must use 2FA, and resets for lost phones. Only
 * users the app's `canManage` accepts, from a verified session, and every
 * change confirmed with the admin's own password (a wrong one counts against
 * the admin's failure budget). HTML forms use the POST twins of PUT routes.
 */
import type { Context } from 'koa';
import type Router from '@koa/router';
import { TwoFactorError } from '../../core/errors.ts';
import type { RequestInfo } from '../../core/two-factor-service.ts';
import type { Resolved } from '../resolve-options.ts';
import { requireVerifiedSession } from './account.ts';
import { bodyOf, pageBase, requestInfo, sendPage, wantsJson } from './route-kit.ts';
import { sessionOf } from '../session-state.ts';

async function requireAdmin(ctx: Context, r: Resolved): Promise<string> {
  const { uid } = await requireVerifiedSession(ctx, r);
  if (!(await r.canManage(ctx))) throw new TwoFactorError('forbidden');
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
function listField(ctx: Context, value: unknown): unknown {
  return typeof value === 'string' && ctx.is('urlencoded') ? [value] : value;
}

async function adminPage(ctx: Context, r: Resolved, err?: TwoFactorError, notice?: string): Promise<void> {
  const overview = await r.service.usersOverview(await r.listUsers());
  sendPage(ctx, r, r.views.admin({ ...pageBase(ctx, r, undefined, err), ...overview, notice }), err ? err.status : 200);
}

/** Confirms with the password, runs the change, answers JSON or returns to the admin page. */
async function change(ctx: Context, r: Resolved, endpoint: string, run: (body: Record<string, unknown>, info: RequestInfo) => Promise<unknown>, notice: string): Promise<void> {
  const adminId = await requireAdmin(ctx, r);
  const body = bodyOf(ctx);
  const info: RequestInfo = { ...requestInfo(ctx, endpoint), actor: adminId };
  try {
    if (typeof body.password !== 'string' || body.password.length === 0 || body.password.length > 1024) {
      throw new TwoFactorError('invalid_input', { field: 'password' }, 'Confirm with your password.');
    }
    const password = body.password;
    await r.service.confirmAdmin(adminId, () => r.verifyPassword(ctx, password), info);
    const result = await run(body, info);
    if (wantsJson(ctx)) {
      ctx.body = result;
      return;
    }
  } catch (err) {
    if (err instanceof TwoFactorError && err.code !== 'store_unavailable' && !wantsJson(ctx)) return adminPage(ctx, r, err);
    throw err;
  }
  sessionOf(ctx)[`${r.sessionKey}AdminNotice`] = notice;
  ctx.status = 303;
  ctx.redirect(`${r.prefix}/admin/users`);
}

export function adminRoutes(router: Router, r: Resolved): void {
  router.get('/admin/users', async (ctx) => {
    await requireAdmin(ctx, r);
    if (wantsJson(ctx)) {
      ctx.body = await r.service.usersOverview(await r.listUsers());
      return;
    }
    const session = sessionOf(ctx);
    const notice = session[`${r.sessionKey}AdminNotice`];
    delete session[`${r.sessionKey}AdminNotice`];
    await adminPage(ctx, r, undefined, typeof notice === 'string' ? notice : undefined);
  });

  const policy = (ctx: Context) => change(ctx, r, 'admin/policy',
    (body, info) => r.service.setPolicy(booleanField(body.requireAll), info), 'The policy was saved.');
  router.put('/admin/policy', policy);
  router.post('/admin/policy', policy);

  const required = (ctx: Context) => change(ctx, r, 'admin/users/required',
    (body, info) => r.service.setRequired(listField(ctx, body.userIds), booleanField(body.required), info), 'The users were updated.');
  router.put('/admin/users/required', required);
  router.post('/admin/users/required', required);

  router.post('/admin/users/:id/reset', (ctx) => change(ctx, r, 'admin/users/reset',
    (_body, info) => r.service.resetUser(ctx.params.id!, info), 'Two-factor authentication was reset for that user.'));
}
