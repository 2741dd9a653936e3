/**
 * Linking an authenticator: `POST /2fa/setup` shows a pending secret,
 * `POST /2fa/setup/confirm` proves it with a code and activates it.
 * A user whose 2FA is already active must have passed it in this session.
 */
import type { Context } from 'koa';
import type Router from '@koa/router';
import { TwoFactorError } from '../../core/errors.ts';
import type { EnrolmentStarted } from '../../core/two-factor-service.ts';
import type { Resolved } from '../resolve-options.ts';
import { keepVerified, markVerified } from '../session-state.ts';
import { bodyOf, pageBase, requestInfo, requireUser, returnToOf, sendPage, verification, wantsJson, type RouteUser } from './route-kit.ts';

/**
 * A user with active 2FA adds a device only from a verified session, and to
 * start one the verification must be recent or a fresh `code` must come along.
 */
async function allowedToEnrol(ctx: Context, r: Resolved, user: RouteUser, body: Record<string, unknown>, starting: boolean): Promise<void> {
  const { facts, verified } = await verification(r, user);
  if (facts.state !== 'active') return;
  const s = user.session;
  if (!verified || !s) {
    throw new TwoFactorError('second_factor_required', { verifyUrl: `${r.prefix}/verify` });
  }
  if (!starting || Date.now() - s.verifiedAt! <= r.recentVerificationMs) return;
  if (body.code !== undefined) {
    await r.service.checkSecondFactor(user.uid, body.code, requestInfo(ctx, 'setup'));
    keepVerified(ctx, r, s, { verifiedAt: Date.now() });
    return;
  }
  throw new TwoFactorError('step_up_required', { stepUpUrl: `${r.prefix}/step-up?returnTo=${encodeURIComponent(`${r.prefix}/setup`)}` });
}

function setupPage(ctx: Context, r: Resolved, e: EnrolmentStarted, returnTo: string | undefined, err?: TwoFactorError, status = 200): void {
  sendPage(ctx, r, r.views.setup({
    ...pageBase(ctx, r, returnTo, err),
    enrolmentId: e.enrolmentId, qrSvg: e.qrSvg, secret: e.secret, otpauthUri: e.otpauthUri,
    expiresAt: e.expiresAt, deviceName: e.deviceName, accountName: r.accountName(ctx), issuer: r.service.issuer,
  }), err ? err.status : status);
}

export function setupRoutes(router: Router, r: Resolved): void {
  const start = async (ctx: Context) => {
    const user = requireUser(ctx, r);
    const body = bodyOf(ctx);
    await allowedToEnrol(ctx, r, user, body, true);
    // A GET (a link or the account page's little form) names the device in the query.
    const name = ctx.method === 'GET' ? (ctx.query.name === '' ? undefined : ctx.query.name) : body.name;
    const started = await r.service.startEnrolment(user.uid, r.accountName(ctx), name, requestInfo(ctx, 'setup'));
    const created = ctx.method === 'GET' ? 200 : 201;
    if (wantsJson(ctx)) {
      ctx.status = created;
      const { deviceName: _name, ...json } = started;
      ctx.body = json;
      return;
    }
    setupPage(ctx, r, started, returnToOf(ctx, body), undefined, created);
  };
  router.get('/setup', start);
  router.post('/setup', start);

  router.post('/setup/confirm', async (ctx) => {
    const user = requireUser(ctx, r);
    const body = bodyOf(ctx);
    await allowedToEnrol(ctx, r, user, body, false);
    const returnTo = returnToOf(ctx, body);
    let done;
    try {
      done = await r.service.confirmEnrolment(user.uid, body.enrolmentId, body.code, requestInfo(ctx, 'setup/confirm'));
    } catch (err) {
      // A browser sees the same QR code again with the error, while it is still pending.
      const pending = err instanceof TwoFactorError && err.code !== 'store_unavailable' && !wantsJson(ctx)
        ? await r.service.resumeEnrolment(user.uid, body.enrolmentId, r.accountName(ctx)).catch(() => null)
        : null;
      if (pending) return setupPage(ctx, r, pending, returnTo, err as TwoFactorError);
      throw err;
    }
    if (done.backupCodes) {
      // The first device: this session has just proven the second factor.
      await markVerified(ctx, r, user.uid, 'totp', done.generation, Date.now());
    }
    if (wantsJson(ctx)) {
      ctx.body = { state: done.state, deviceId: done.deviceId, ...(done.backupCodes ? { backupCodes: done.backupCodes } : {}) };
      return;
    }
    sendPage(ctx, r, r.views.setupDone({
      ...pageBase(ctx, r, returnTo),
      backupCodes: done.backupCodes,
      continueUrl: returnTo ?? r.afterVerifyPath,
      deviceName: done.deviceName,
    }));
  });
}
