/**
 * Self-service on an active account: the account page, backup codes,
 * renaming and removing authenticators, turning 2FA off. Everything here
 * needs a session that passed the second factor; the destructive actions
 * also need a fresh code.
 */
import type { Context } from 'koa';
import type Router from '@koa/router';
import { TwoFactorError } from '../../core/errors.ts';
import type { Resolved } from '../resolve-options.ts';
import { keepVerified as keepNamespaceVerified, sessionOf } from '../session-state.ts';
import { bodyOf, pageBase, requestInfo, requireUser, sendPage, verification, wantsJson, type RouteUser } from './route-kit.ts';

/** The user, if their session passed the second factor (or they have no 2FA to pass). */
export async function requireVerifiedSession(ctx: Context, r: Resolved): Promise<RouteUser> {
  const user = requireUser(ctx, r);
  const { facts, verified } = await verification(r, user);
  if (facts.state === 'active' && !verified) {
    throw new TwoFactorError('second_factor_required', { verifyUrl: `${r.prefix}/verify` });
  }
  return user;
}

/** After an action that bumped the generation: this session stays verified, the others do not. */
function keepVerified(ctx: Context, r: Resolved, user: RouteUser, generation: number): void {
  if (user.session) keepNamespaceVerified(ctx, r, user.session, { generation });
}

function flash(ctx: Context, r: Resolved, notice: string): void {
  sessionOf(ctx)[`${r.sessionKey}Notice`] = notice;
}

function takeFlash(ctx: Context, r: Resolved): string | undefined {
  const session = sessionOf(ctx);
  const notice = session[`${r.sessionKey}Notice`];
  if (notice === undefined) return undefined;
  delete session[`${r.sessionKey}Notice`];
  return typeof notice === 'string' ? notice : undefined;
}

async function accountPage(ctx: Context, r: Resolved, uid: string, err?: TwoFactorError): Promise<void> {
  const status = await r.service.status(uid);
  sendPage(ctx, r, r.views.account({
    ...pageBase(ctx, r, undefined, err),
    state: status.state, required: status.required, devices: status.devices,
    backupCodesRemaining: status.backupCodesRemaining, notice: takeFlash(ctx, r),
  }), err ? err.status : 200);
}

/**
 * Runs an account action; a browser gets the account page with the error
 * (wrong code, conflict) or is redirected to it with a notice.
 */
async function action(ctx: Context, r: Resolved, run: (user: RouteUser, body: Record<string, unknown>) => Promise<{ json: unknown; notice?: string; page?: () => void }>): Promise<void> {
  const user = await requireVerifiedSession(ctx, r);
  const body = bodyOf(ctx);
  let done;
  try {
    done = await run(user, body);
  } catch (err) {
    if (err instanceof TwoFactorError && err.code !== 'store_unavailable' && !wantsJson(ctx)) return accountPage(ctx, r, user.uid, err);
    throw err;
  }
  if (wantsJson(ctx)) {
    ctx.body = done.json;
  } else if (done.page) {
    done.page();
  } else {
    if (done.notice) flash(ctx, r, done.notice);
    ctx.status = 303;
    ctx.redirect(r.prefix);
  }
}

export function accountRoutes(router: Router, r: Resolved): void {
  router.post('/backup-codes', (ctx) => action(ctx, r, async (user, body) => {
    const { backupCodes, generation } = await r.service.regenerateBackupCodes(user.uid, body.code, requestInfo(ctx, 'backup-codes'));
    keepVerified(ctx, r, user, generation);
    return {
      json: { backupCodes },
      page: () => sendPage(ctx, r, r.views.backupCodes({ ...pageBase(ctx, r, undefined), backupCodes, continueUrl: r.prefix })),
    };
  }));

  const remove = (ctx: Context) => action(ctx, r, async (user, body) => {
    const { state, generation } = await r.service.removeDevice(user.uid, ctx.params.id, body.code, requestInfo(ctx, 'devices/remove'));
    keepVerified(ctx, r, user, generation);
    return { json: { state }, notice: 'The authenticator app was removed.' };
  });
  router.delete('/devices/:id', remove);
  router.post('/devices/:id/remove', remove);

  const rename = (ctx: Context) => action(ctx, r, async ({ uid }, body) => {
    await r.service.renameDevice(uid, ctx.params.id, body.name, requestInfo(ctx, 'devices/rename'));
    return { json: { renamed: true }, notice: 'The authenticator app was renamed.' };
  });
  router.patch('/devices/:id', rename);
  router.post('/devices/:id/rename', rename);

  router.post('/disable', (ctx) => action(ctx, r, async (user, body) => {
    const { state, generation } = await r.service.disable(user.uid, body.code, requestInfo(ctx, 'disable'));
    keepVerified(ctx, r, user, generation);
    return { json: { state }, notice: 'Two-factor authentication is now off.' };
  }));
}

export { accountPage };
