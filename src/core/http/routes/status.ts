/** `GET /2fa`: the user's 2FA status, the session's, and a CSRF token. */
import { csrfToken } from '../csrf.ts';
import { jsonAnswer, redirectAnswer } from '../negotiate.ts';
import { withReturnTo } from '../return-to.ts';
import { accountPage } from './account.ts';
import { requireUser, verification, type RouteCall } from './route-kit.ts';

export async function status(call: RouteCall) {
  const { req, r } = call;
  const user = requireUser(call);
  const { uid, session } = user;
  const [status, { verified }] = await Promise.all([r.service.status(uid), verification(r, user)]);
  const { generation: _generation, devices, backupCodesRemaining, ...rest } = status;
  if (!call.json) {
    if (status.state === 'active' && !verified) return redirectAnswer(withReturnTo(`${r.prefix}/verify`, r.prefix));
    return accountPage(call, uid);
  }
  // Before the second factor, only what the verify page needs: a password
  // alone must not list the account's devices or its backup codes.
  const secondFactorPassed = verified || status.state !== 'active';
  const browsers = secondFactorPassed && r.remember.enabled ? { rememberedBrowsers: await r.service.listRememberedBrowsers(uid) } : {};
  return jsonAnswer({
    ...rest,
    ...(secondFactorPassed ? { devices, backupCodesRemaining } : {}),
    ...browsers,
    session: {
      verified,
      verifiedAt: verified ? new Date(session!.verifiedAt!).toISOString() : null,
      method: verified ? (session!.method ?? null) : null,
    },
    csrfToken: csrfToken(req, r.sessionKey),
  });
}
