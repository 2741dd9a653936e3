/** What a signed-in user does with their own 2FA: status, backup codes, devices, turning it off. */
import { TwoFactorError } from './errors.ts';
import { twoFactorState, type TwoFactorState } from './state.ts';
import type { SessionFacts } from './session-policy.ts';
import { readStringField } from './code-input.ts';
import { checkSecondFactor, readProofField } from './factor-check.ts';
import type { ServiceContext } from './service-context.ts';
import { MAX_NAME_LENGTH, type RequestInfo } from './service-options.ts';

export interface TwoFactorStatus {
  state: TwoFactorState;
  required: boolean;
  devices: { id: string; name: string; kind: 'totp' | 'passkey'; createdAt: string; lastUsedAt: string | null }[];
  backupCodesRemaining: number;
  generation: number;
}

const noSuchDevice = () => new TwoFactorError('invalid_input', { field: 'id' }, 'No authenticator with that id.');
const lastDeviceRequired = () => new TwoFactorError('conflict', {}, 'Two-factor authentication is required: add another authenticator before removing the last one.');

/** The user's state as the gate needs it: one record read and the policy. */
export function sessionState(ctx: ServiceContext, userId: string): Promise<{ state: TwoFactorState; generation: number }> {
  return ctx.guarded(async () => {
    const [record, required] = await ctx.recordAndRequirement(userId);
    return { state: twoFactorState(record.devices.length > 0, required), generation: record.generation };
  });
}

/** The user's state and whether this session's login is live: what the session policy needs. */
export function sessionFacts(ctx: ServiceContext, userId: string, loginId: string | undefined): Promise<SessionFacts> {
  return ctx.guarded(async () => {
    const [[record, required], loginAlive] = await Promise.all([
      ctx.recordAndRequirement(userId),
      loginId === undefined ? false : ctx.guard.loginAlive(userId, loginId),
    ]);
    return { state: twoFactorState(record.devices.length > 0, required), generation: record.generation, loginAlive };
  });
}

/** Records server-side a login that passes the second factor. */
export function beginLogin(ctx: ServiceContext, userId: string, loginId: string): Promise<void> {
  return ctx.guarded(() => ctx.guard.beginLogin(userId, loginId, ctx.verifiedLoginTtlMs));
}

/** Ends a verified login (logout): a copy of that session is no longer verified. */
export function endLogin(ctx: ServiceContext, userId: string, loginId: string): Promise<void> {
  return ctx.guarded(() => ctx.guard.endLogin(userId, loginId));
}

export function status(ctx: ServiceContext, userId: string): Promise<TwoFactorStatus> {
  return ctx.guarded(async () => {
    const [record, required] = await ctx.recordAndRequirement(userId);
    return {
      state: twoFactorState(record.devices.length > 0, required),
      required,
      devices: record.devices.map((d) => ({
        id: d.id,
        name: d.name,
        kind: d.passkey ? 'passkey' as const : 'totp' as const,
        createdAt: new Date(d.createdAt).toISOString(),
        lastUsedAt: d.lastUsedAt === null ? null : new Date(d.lastUsedAt).toISOString(),
      })),
      backupCodesRemaining: record.backupCodesRemaining,
      generation: record.generation,
    };
  });
}

/** Replaces the backup codes after a fresh code; the old set dies at once. */
export function regenerateBackupCodes(ctx: ServiceContext, userId: string, codeInput: unknown, info: RequestInfo): Promise<{ backupCodes: string[]; generation: number }> {
  return ctx.guarded(async () => {
    await checkSecondFactor(ctx, userId, codeInput, info);
    const backupCodes = await ctx.issueBackupCodes(userId);
    const generation = await ctx.records.bumpGeneration(userId);
    await ctx.guard.forgetRememberedBrowsers(userId);
    ctx.audit('backup_codes.regenerated', userId, info, 'success', {});
    return { backupCodes, generation };
  });
}

/** Unlinks one authenticator after a fresh code; refused for the last one while 2FA is required. */
export function removeDevice(ctx: ServiceContext, userId: string, deviceIdInput: unknown, codeInput: unknown, info: RequestInfo): Promise<{ state: TwoFactorState; generation: number }> {
  const deviceId = readStringField(deviceIdInput, 'id', 64, true)!;
  readProofField(codeInput);
  return ctx.guarded(async () => {
    const [record, required] = await ctx.recordAndRequirement(userId);
    const device = record.devices.find((d) => d.id === deviceId);
    if (!device) {
      throw noSuchDevice();
    }
    if (required && record.devices.length === 1) {
      throw lastDeviceRequired();
    }
    await checkSecondFactor(ctx, userId, codeInput, info);
    // Atomic in the store: two sessions removing the two last devices at once cannot leave none.
    const outcome = await ctx.records.removeDevice(userId, deviceId, required);
    if (outcome === 'missing') throw noSuchDevice();
    if (outcome === 'kept-last') {
      throw lastDeviceRequired();
    }
    const last = outcome === 'removed-last';
    if (last) await Promise.all([ctx.guard.deleteEmailCode(userId), ctx.guard.forgetRememberedBrowsers(userId)]);
    const generation = await ctx.records.bumpGeneration(userId);
    ctx.audit('device.removed', userId, info, 'success', { deviceId, kind: device.passkey ? 'passkey' : 'totp', lastDevice: last });
    return { state: twoFactorState(!last, required), generation };
  });
}

export function renameDevice(ctx: ServiceContext, userId: string, deviceIdInput: unknown, nameInput: unknown, info: RequestInfo): Promise<void> {
  const deviceId = readStringField(deviceIdInput, 'id', 64, true)!;
  const name = readStringField(nameInput, 'name', MAX_NAME_LENGTH, true)!;
  return ctx.guarded(async () => {
    if (!(await ctx.records.renameDevice(userId, deviceId, name))) {
      throw noSuchDevice();
    }
    ctx.audit('device.renamed', userId, info, 'success', { deviceId });
  });
}

/** Turns 2FA off after a fresh code: devices and backup codes go. Refused while required. */
export function disable(ctx: ServiceContext, userId: string, codeInput: unknown, info: RequestInfo): Promise<{ state: TwoFactorState; generation: number }> {
  readProofField(codeInput);
  return ctx.guarded(async () => {
    const [, required] = await ctx.recordAndRequirement(userId);
    if (required) {
      throw new TwoFactorError('forbidden', {}, 'Two-factor authentication is required for your account and cannot be turned off.');
    }
    await checkSecondFactor(ctx, userId, codeInput, info);
    await ctx.records.clearFactors(userId);
    // A code emailed before, or a remembered browser, must not outlive the 2FA it was for.
    await Promise.all([ctx.guard.deleteEmailCode(userId), ctx.guard.forgetRememberedBrowsers(userId)]);
    const generation = await ctx.records.bumpGeneration(userId);
    ctx.audit('disabled', userId, info, 'success', {});
    return { state: 'none', generation };
  });
}
