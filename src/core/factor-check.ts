/**
 * Checking a second factor: a TOTP or backup code against the user's
 * devices, the replay state and the shared failure budget.
 */
import { normalizeBackupCode } from './backup-codes.ts';
import { ERRORS, TwoFactorError } from './errors.ts';
import { isTotpShape, matchTimeStep } from './totp.ts';
import { readCodeField } from './code-input.ts';
import { withIpLimit } from './ip-limit.ts';
import { checkPasskey, PasskeyProof } from './passkeys.ts';
import { lockedError, type ServiceContext } from './service-context.ts';
import type { RequestInfo } from './service-options.ts';
import { EMAIL_CODE_DEVICE, type AttemptOutcome, type StepCandidate, type UserRecord } from './store-types.ts';
import { emailCodeHash, isEmailCodeShape } from './email.ts';

export interface FactorChecked {
  method: 'totp' | 'backup' | 'passkey' | 'email';
  deviceId?: string;
  backupCodesRemaining: number;
  generation: number;
}

/**
 * Checks a TOTP or backup code against the user's devices, the replay state,
 * the shared failure budget and the per-IP limit. Every wrong, replayed or
 * foreign code gets the same `invalid_code`.
 */
export function checkSecondFactor(ctx: ServiceContext, userId: string, codeInput: unknown, info: RequestInfo): Promise<FactorChecked> {
  if (codeInput instanceof PasskeyProof) return checkPasskey(ctx, userId, codeInput, info);
  const code = readCodeField(codeInput);
  return ctx.guarded(() => {
    // Read while the address's attempt is being counted: one round trip, not two.
    const reading = ctx.records.get(userId);
    reading.catch(() => {});
    return withIpLimit(ctx, userId, info, () => judge(ctx, reading, code, info));
  });
}

async function judge(ctx: ServiceContext, reading: Promise<UserRecord>, code: string, info: RequestInfo): Promise<FactorChecked> {
  const record = await reading;
  const userId = record.userId;
  if (record.devices.length === 0) {
    // Nothing to check against: a code cannot be right. Still counted.
    return failed(ctx, userId, await ctx.guard.recordFailure(userId, ctx.limits, ctx.now()), info);
  }
  const emailHash = ctx.email && info.emailCode && isEmailCodeShape(code, ctx.email.codeDigits) ? emailCodeHash(ctx, userId, code) : undefined;
  if (isTotpShape(code, ctx.totp.digits) || emailHash) return checkTotp(ctx, record, code, info, emailHash);
  const normalized = normalizeBackupCode(code);
  if (normalized) return checkBackupCode(ctx, record, normalized, info);
  return failed(ctx, userId, await ctx.guard.recordFailure(userId, ctx.limits, ctx.now()), info);
}

/** A TOTP code of the user's devices, or the code last emailed to them (`emailHash`), in one atomic attempt. */
async function checkTotp(ctx: ServiceContext, record: UserRecord, code: string, info: RequestInfo, emailHash?: string): Promise<FactorChecked> {
  const now = ctx.now();
  const candidates: StepCandidate[] = [];
  for (const d of record.devices) {
    if (d.passkey || !isTotpShape(code, ctx.totp.digits)) continue;
    const step = matchTimeStep(ctx.box.open(d.sealedSecret, record.userId), code, now, ctx.totp);
    if (step !== null) candidates.push({ deviceId: d.id, step });
  }
  const outcome = await ctx.guard.attemptTotp(record.userId, candidates, ctx.limits, now, ctx.stepTtlMs, true, emailHash);
  if (outcome.kind !== 'accepted') return failed(ctx, record.userId, outcome, info);
  if (outcome.deviceId === EMAIL_CODE_DEVICE) {
    ctx.audit('verification.succeeded', record.userId, info, 'success', { method: 'email' });
    return { method: 'email', backupCodesRemaining: record.backupCodesRemaining, generation: record.generation };
  }
  // Last-used time is informational: do not make the login wait for it.
  if (!outcome.lastUseRecorded) {
    ctx.records.touchDevice(record.userId, outcome.deviceId, now).catch((err: unknown) => ctx.log(`koa-two-factor: could not record device use: ${String(err)}`));
  }
  ctx.audit('verification.succeeded', record.userId, info, 'success', { method: 'totp', deviceId: outcome.deviceId });
  return { method: 'totp', deviceId: outcome.deviceId, backupCodesRemaining: record.backupCodesRemaining, generation: record.generation };
}

async function checkBackupCode(ctx: ServiceContext, record: UserRecord, normalized: string, info: RequestInfo): Promise<FactorChecked> {
  const userId = record.userId;
  const now = ctx.now();
  // Counted before it is judged, in one atomic step with the lock check, so
  // parallel guesses cannot all slip past the lock; a success starts over.
  const counted = await ctx.guard.recordFailure(userId, ctx.limits, now);
  if (counted.kind !== 'rejected') return failed(ctx, userId, counted, info);
  // One atomic removal of whichever form is stored: one round trip, whatever the keys.
  if (!(await ctx.records.consumeBackupCode(userId, ctx.backupHashes(userId, normalized)))) return failed(ctx, userId, counted, info);
  await ctx.guard.recordSuccess(userId, ctx.limits, now);
  const remaining = Math.max(0, record.backupCodesRemaining - 1);
  ctx.audit('backup_code.used', userId, info, 'success', { remaining });
  ctx.audit('verification.succeeded', userId, info, 'success', { method: 'backup' });
  return { method: 'backup', backupCodesRemaining: remaining, generation: record.generation };
}

/**
 * The fresh proof an account change asks for: a code (`invalid_input` when it
 * is no string), or a passkey answer the HTTP layer wrapped.
 */
export function readProofField(value: unknown): void {
  if (!(value instanceof PasskeyProof)) readCodeField(value);
}

/** Turns a refused or failed attempt into the right error, with its audit events. */
export async function failed(ctx: ServiceContext, userId: string, outcome: AttemptOutcome, info: RequestInfo, detail: Record<string, string> = {}): Promise<never> {
  if (outcome.kind === 'locked') {
    ctx.audit('verification.failed', userId, info, 'failure', { ...detail, reason: 'locked' });
    throw lockedError(outcome.retryAfterMs);
  }
  if (outcome.kind === 'capped') {
    ctx.audit('verification.failed', userId, info, 'failure', { ...detail, reason: 'hard_cap' });
    throw new TwoFactorError('too_many_attempts', {}, 'Too many failed attempts: authenticator codes are blocked. Use a backup code or ask an administrator to reset your two-factor authentication.');
  }
  ctx.audit('verification.failed', userId, info, 'failure', detail);
  if (outcome.kind === 'rejected' && outcome.lockedForMs > 0) {
    ctx.audit('lockout', userId, info, 'failure', { lockedForMs: outcome.lockedForMs });
    // Still the answer for a wrong code, but it says the wait that starts now.
    const retryAfter = Math.ceil(outcome.lockedForMs / 1000);
    throw new TwoFactorError('invalid_code', { retryAfter }, `${ERRORS.invalid_code.message} Too many failed attempts: wait before trying again.`);
  }
  // Same code and status for every refusal; only the words fit what the person used.
  if (detail.method === 'passkey') throw new TwoFactorError('invalid_code', {}, PASSKEY_REFUSED_MESSAGE);
  throw new TwoFactorError('invalid_code');
}

/** What a refused passkey answer says: the code message would send the person to an app they may not have. */
export const PASSKEY_REFUSED_MESSAGE = 'That passkey could not be used. Try again, or use a code from your authenticator app or a backup code.';
