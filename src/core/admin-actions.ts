/** What an administrator does: confirm with their password, see users, set the policy, reset a user. */
import { TwoFactorError } from './errors.ts';
import { twoFactorState, type TwoFactorState } from './state.ts';
import { withIpLimit } from './ip-limit.ts';
import { lockedError, type ServiceContext } from './service-context.ts';
import type { RequestInfo } from './service-options.ts';

/**
 * Confirms an admin action with the admin's own password. A wrong password
 * counts against the admin's failure budget and the IP's limit, like a wrong code.
 */
export function confirmAdmin(ctx: ServiceContext, adminId: string, checkPassword: () => Promise<boolean>, info: RequestInfo): Promise<void> {
  return ctx.guarded(() => withIpLimit(ctx, adminId, info, async () => {
    const now = ctx.now();
    // Counted first (atomic with the lock check) so parallel guesses stay
    // within the budget; a right password takes its count back.
    const outcome = await ctx.guard.recordFailure(adminId, ctx.limits, now);
    if (outcome.kind !== 'rejected') throw lockedError(outcome.kind === 'locked' ? outcome.retryAfterMs : 0);
    // Judged even when this count reached the limit: the right password must
    // pass then too, and take back the lockout its count started.
    if (await checkPassword()) {
      const { lockedForMs } = outcome;
      await ctx.guard.refundFailure(adminId, lockedForMs > 0 ? { now, lockedForMs, limits: ctx.limits } : undefined);
      return;
    }
    ctx.audit('verification.failed', adminId, info, 'failure', { method: 'password' });
    if (outcome.lockedForMs > 0) ctx.audit('lockout', adminId, info, 'failure', { lockedForMs: outcome.lockedForMs });
    throw new TwoFactorError('forbidden', { field: 'password' }, 'That password is not right.');
  }, { method: 'password' }));
}

/** Each listed user's state and requirement, and the global flag. */
export function usersOverview(ctx: ServiceContext, users: { id: string; username: string }[]): Promise<{ requireAll: boolean; users: { id: string; username: string; state: TwoFactorState; required: boolean }[] }> {
  return ctx.guarded(async () => {
    const [policy, records] = await Promise.all([ctx.records.getPolicy(), Promise.all(users.map((u) => ctx.records.get(u.id)))]);
    return {
      requireAll: policy.requireAll,
      users: users.map((u, i) => {
        const required = policy.requireAll || records[i]!.required;
        return { id: u.id, username: u.username, state: twoFactorState(records[i]!.devices.length > 0, required), required };
      }),
    };
  });
}

export function setPolicy(ctx: ServiceContext, requireAllInput: unknown, info: RequestInfo): Promise<{ requireAll: boolean }> {
  if (typeof requireAllInput !== 'boolean') throw new TwoFactorError('invalid_input', { field: 'requireAll' }, 'requireAll must be true or false.');
  return ctx.guarded(async () => {
    await ctx.records.setPolicy({ requireAll: requireAllInput });
    ctx.audit('policy.changed', info.actor ?? '', info, 'success', { requireAll: requireAllInput });
    return { requireAll: requireAllInput };
  });
}

/** Requires (or stops requiring) 2FA for chosen users; a conflict while it is required for all. */
export function setRequired(ctx: ServiceContext, userIdsInput: unknown, requiredInput: unknown, info: RequestInfo): Promise<{ userIds: string[]; required: boolean }> {
  if (!Array.isArray(userIdsInput) || userIdsInput.length === 0 || userIdsInput.length > 1000 || !userIdsInput.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 256)) {
    throw new TwoFactorError('invalid_input', { field: 'userIds' }, 'userIds must be a non-empty list of user ids.');
  }
  if (typeof requiredInput !== 'boolean') throw new TwoFactorError('invalid_input', { field: 'required' }, 'required must be true or false.');
  const userIds = [...new Set(userIdsInput as string[])];
  return ctx.guarded(async () => {
    if ((await ctx.records.getPolicy()).requireAll) {
      throw new TwoFactorError('conflict', {}, 'Two-factor authentication is required for all users; per-user settings are unavailable.');
    }
    await ctx.records.setRequired(userIds, requiredInput);
    for (const id of userIds) ctx.audit('policy.changed', id, info, 'success', { required: requiredInput });
    return { userIds, required: requiredInput };
  });
}

/** Removes a user's 2FA (lost phone and codes) and ends their verified sessions. */
export function resetUser(ctx: ServiceContext, userId: string, info: RequestInfo): Promise<{ state: TwoFactorState }> {
  return ctx.guarded(async () => {
    await ctx.records.clearFactors(userId);
    await Promise.all([ctx.records.bumpGeneration(userId), ctx.guard.resetUser(userId), ctx.guard.forgetRememberedBrowsers(userId)]);
    const [, required] = await ctx.recordAndRequirement(userId);
    ctx.audit('reset', userId, info, 'success', {});
    return { state: twoFactorState(false, required) };
  });
}
