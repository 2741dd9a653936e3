/**
 * Self-service on an active account: the account page, backup codes,
 * renaming and removing authenticators, turning 2FA off. Everything here
 * needs a session that passed the second factor; the destructive actions
 * also need a fresh code.
 */
import { TwoFactorError } from '../../errors.ts';
import { jsonAnswer, redirectAnswer } from '../negotiate.ts';
import { clearRememberCookie } from '../remembered.ts';
import { keepVerified } from '../session-state.ts';
import { sessionOf, takeNotice } from '../session-store.ts';
import type { Answer, HttpSettings } from '../types.ts';
import { notifyUser, page, pageBase, passkeyUrls, proofOf, requestInfo, requireUser, showOnPage, verification, type RouteCall, type RouteHandler, type RouteUser } from './route-kit.ts';

/** The user, if their session passed the second factor (or they have no 2FA to pass). */
export async function requireVerifiedSession(call: RouteCall): Promise<RouteUser> {
  const user = requireUser(call);
  const { facts, verified } = await verification(call.r, user);
  if (facts.state === 'active' && !verified) {
    throw new TwoFactorError('second_factor_required', { verifyUrl: `${call.r.prefix}/verify` });
  }
  return user;
}

/** After an action that bumped the generation: this session stays verified, the others do not. */
function stayVerified({ req, r }: RouteCall, user: RouteUser, generation: number): void {
  if (user.session) keepVerified(req, r, user.session, { generation });
}

export async function accountPage({ req, r }: RouteCall, uid: string, err?: TwoFactorError): Promise<Answer> {
  const [status, browsers] = await Promise.all([r.service.status(uid), r.remember.enabled ? rememberedBrowsers(r, uid) : undefined]);
  return page(r, r.views.account({
    ...pageBase(req, r, undefined, err),
    state: status.state, required: status.required, devices: status.devices,
    backupCodesRemaining: status.backupCodesRemaining, notice: takeNotice(req, `${r.sessionKey}Notice`),
    passkey: r.passkeys.enabled ? accountPasskeyLinks(r, status.devices.some((d) => d.kind === 'passkey')) : undefined,
    rememberedBrowsers: browsers,
    browsersUrl: browsers ? `${r.prefix}/browsers` : undefined,
  }), err ? err.status : 200);
}

/** The user's remembered browsers, most recently used first. */
async function rememberedBrowsers(r: HttpSettings, uid: string) {
  const browsers = await r.service.listRememberedBrowsers(uid);
  return browsers.sort((a, b) => b.lastUsedAt.localeCompare(a.lastUsedAt));
}

function accountPasskeyLinks(r: HttpSettings, hasPasskey: boolean) {
  const { optionsUrl, registerUrl, scriptUrl, authenticationOptionsUrl } = passkeyUrls(r);
  // Proving an action with a passkey is offered to a user who has one.
  return { optionsUrl, registerUrl, scriptUrl, authenticationOptionsUrl: hasPasskey ? authenticationOptionsUrl : undefined };
}

interface ActionDone { json: unknown; notice?: string; page?: () => Answer }

/**
 * Runs an account action; a browser gets the account page with the error
 * (wrong code, conflict) or is redirected to it with a notice.
 */
function action(run: (call: RouteCall, user: RouteUser) => Promise<ActionDone>): RouteHandler {
  return async (call) => {
    const user = await requireVerifiedSession(call);
    let done;
    try {
      done = await run(call, user);
    } catch (err) {
      if (showOnPage(err, call.json)) return accountPage(call, user.uid, err);
      throw err;
    }
    if (call.json) return jsonAnswer(done.json);
    if (done.page) return done.page();
    if (done.notice) sessionOf(call.req)[`${call.r.sessionKey}Notice`] = done.notice;
    return redirectAnswer(call.r.prefix, 303);
  };
}

export const regenerateBackupCodes = action(async (call, user) => {
  const { req, r } = call;
  const { backupCodes, generation } = await r.service.regenerateBackupCodes(user.uid, proofOf(call, user), requestInfo(req, 'backup-codes'));
  stayVerified(call, user, generation);
  notifyUser(call, user.uid, user.user, 'backup_codes_regenerated');
  return {
    json: { backupCodes },
    page: () => page(r, r.views.backupCodes({ ...pageBase(req, r, undefined), backupCodes, continueUrl: r.prefix })),
  };
});

export const removeDevice = action(async (call, user) => {
  const { req, r, params } = call;
  const { state, generation } = await r.service.removeDevice(user.uid, params.id, proofOf(call, user), requestInfo(req, 'devices/remove'));
  stayVerified(call, user, generation);
  notifyUser(call, user.uid, user.user, state === 'active' ? 'device_removed' : 'disabled');
  return { json: { state }, notice: 'The authenticator was removed.' };
});

/** "Forget" one remembered browser. */
export const forgetBrowser = action(async ({ req, r, params }, { uid }) => {
  if (!(await r.service.forgetRememberedBrowsers(uid, params.id!, requestInfo(req, 'browsers/forget')))) {
    throw new TwoFactorError('invalid_input', { field: 'id' }, 'No such remembered browser.');
  }
  return { json: { forgotten: 1 }, notice: 'The browser was forgotten: it will ask for a code at the next sign-in.' };
});

/** "Forget all remembered browsers", this one included. */
export const forgetAllBrowsers = action(async ({ req, r }, { uid }) => {
  await r.service.forgetRememberedBrowsers(uid, undefined, requestInfo(req, 'browsers/forget-all'));
  clearRememberCookie(req, r, uid);
  return { json: { forgotten: 'all' }, notice: 'Every remembered browser was forgotten.' };
});

export const renameDevice = action(async ({ req, r, body, params }, { uid }) => {
  await r.service.renameDevice(uid, params.id, body.name, requestInfo(req, 'devices/rename'));
  return { json: { renamed: true }, notice: 'The authenticator was renamed.' };
});

export const disable = action(async (call, user) => {
  const { req, r } = call;
  const { state, generation } = await r.service.disable(user.uid, proofOf(call, user), requestInfo(req, 'disable'));
  stayVerified(call, user, generation);
  notifyUser(call, user.uid, user.user, 'disabled');
  return { json: { state }, notice: 'Two-factor authentication is now off.' };
});
