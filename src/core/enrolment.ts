/** Linking a new authenticator: a pending secret shown, then proved with a code. */
import { randomBytes } from 'node:crypto';
import { TwoFactorError } from './errors.ts';
import { buildOtpauthUri } from './otpauth-uri.ts';
import { qrSvg } from './qr-code.ts';
import { generateSecret, isTotpShape, matchTimeStep } from './totp.ts';
import { readCodeField, readStringField } from './code-input.ts';
import { failed } from './factor-check.ts';
import { withIpLimit } from './ip-limit.ts';
import { lockedError, type ServiceContext } from './service-context.ts';
import { DEFAULT_DEVICE_NAME, MAX_NAME_LENGTH, type RequestInfo } from './service-options.ts';
import type { PendingEnrolment } from './store-types.ts';

export interface EnrolmentStarted {
  enrolmentId: string;
  secret: string;
  otpauthUri: string;
  qrSvg: string;
  expiresAt: string;
  deviceName: string;
}

export interface EnrolmentConfirmed {
  state: 'active';
  deviceId: string;
  deviceName: string;
  /** Only when this was the first device: shown once, never again. */
  backupCodes?: string[];
  generation: number;
}

/** Creates a pending secret; nothing is active until `confirmEnrolment`. */
export function startEnrolment(ctx: ServiceContext, userId: string, accountName: string, deviceNameInput: unknown, info: RequestInfo): Promise<EnrolmentStarted> {
  const deviceName = readStringField(deviceNameInput, 'name', MAX_NAME_LENGTH) ?? DEFAULT_DEVICE_NAME;
  return ctx.guarded(async () => {
    const record = await ctx.records.get(userId);
    // An early answer only: parallel setups all pass it, so the store enforces the limit again at confirmation.
    if (record.devices.length >= ctx.maxDevices) throw tooManyDevices(ctx);
    const secret = generateSecret();
    const now = ctx.now();
    const id = randomBytes(12).toString('base64url');
    await ctx.guard.saveEnrolment({
      id, userId, name: deviceName, sealedSecret: ctx.box.sealSecret(secret, userId), createdAt: now, expiresAt: now + ctx.enrolmentTtlMs,
    });
    ctx.audit('enrolment.started', userId, info, 'success', { enrolmentId: id });
    return describeEnrolment(ctx, id, secret, accountName, now + ctx.enrolmentTtlMs, deviceName);
  });
}

/** A still-pending enrolment shown again (after a mistyped code), or null. */
export function resumeEnrolment(ctx: ServiceContext, userId: string, enrolmentIdInput: unknown, accountName: string): Promise<EnrolmentStarted | null> {
  const enrolmentId = readStringField(enrolmentIdInput, 'enrolmentId', 64);
  if (!enrolmentId) return Promise.resolve(null);
  return ctx.guarded(async () => {
    const pending = await ctx.guard.getEnrolment(userId, enrolmentId);
    if (!pending) return null;
    return describeEnrolment(ctx, pending.id, ctx.box.open(pending.sealedSecret, userId), accountName, pending.expiresAt, pending.name);
  });
}

async function describeEnrolment(ctx: ServiceContext, id: string, secret: string, accountName: string, expiresAt: number, deviceName: string): Promise<EnrolmentStarted> {
  const otpauthUri = buildOtpauthUri({ issuer: ctx.issuer, accountName, secret, totp: ctx.totp });
  return { enrolmentId: id, secret, otpauthUri, qrSvg: await qrSvg(otpauthUri), expiresAt: new Date(expiresAt).toISOString(), deviceName };
}

/** Proves a pending secret with a code and makes it an active device. */
export function confirmEnrolment(ctx: ServiceContext, userId: string, enrolmentIdInput: unknown, codeInput: unknown, info: RequestInfo): Promise<EnrolmentConfirmed> {
  const enrolmentId = readStringField(enrolmentIdInput, 'enrolmentId', 64, true)!;
  const code = readCodeField(codeInput);
  return ctx.guarded(async () => {
    const [pending, record] = await Promise.all([ctx.guard.getEnrolment(userId, enrolmentId), ctx.records.get(userId)]);
    if (!pending) {
      throw new TwoFactorError('invalid_input', { field: 'enrolmentId' }, 'This setup has expired or does not exist. Start again.');
    }
    return withIpLimit(ctx, userId, info, () => activate(ctx, userId, pending, record.generation, code, info));
  });
}

/** Judges the code of a pending secret (one attempt of the IP's budget) and links it as a device. */
async function activate(ctx: ServiceContext, userId: string, pending: PendingEnrolment, knownGeneration: number, code: string, info: RequestInfo): Promise<EnrolmentConfirmed> {
  const now = ctx.now();
  const step = isTotpShape(code, ctx.totp.digits) ? matchTimeStep(ctx.box.open(pending.sealedSecret, userId), code, now, ctx.totp) : null;
  if (step === null) return failed(ctx, userId, await ctx.guard.recordFailure(userId, ctx.limits, now), info);
  // Claims the step for the new device id so this code cannot pass the gate again.
  const outcome = await ctx.guard.attemptTotp(userId, [{ deviceId: pending.id, step }], ctx.limits, now, ctx.stepTtlMs, false);
  if (outcome.kind === 'locked') throw lockedError(outcome.retryAfterMs);
  if (outcome.kind !== 'accepted') throw new TwoFactorError('invalid_code');
  // Counted and added in one store step: parallel confirmations of setups
  // started while there was room cannot link more than maxDevices. The
  // pending setup is kept, so it can still be confirmed once one is removed.
  const added = await ctx.records.addDevice(userId, {
    id: pending.id, name: pending.name, sealedSecret: pending.sealedSecret, createdAt: now, lastUsedAt: now,
  }, ctx.maxDevices);
  if (added === 'full') throw tooManyDevices(ctx);
  // The store says whether this was the first device: two parallel first
  // confirmations must not both issue backup codes.
  const first = added === 'added-first';
  await ctx.guard.deleteEnrolment(userId, pending.id);
  const backupCodes = first ? await ctx.issueBackupCodes(userId) : undefined;
  // Enabling 2FA ends the verified status of the user's other sessions.
  const generation = first ? await ctx.records.bumpGeneration(userId) : knownGeneration;
  ctx.audit('enrolment.confirmed', userId, info, 'success', { deviceId: pending.id, firstDevice: first });
  return { state: 'active', deviceId: pending.id, deviceName: pending.name, ...(backupCodes ? { backupCodes } : {}), generation };
}

function tooManyDevices(ctx: ServiceContext): TwoFactorError {
  return new TwoFactorError('conflict', {}, `At most ${ctx.maxDevices} authenticators can be linked.`);
}
