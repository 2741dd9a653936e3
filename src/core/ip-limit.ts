/**
 * The per-IP limit around one judgement of a code or password. Like the
 * per-user budget, the attempt is counted before it is judged, in one atomic
 * store step with the check: a parallel burst from one address cannot all
 * pass a check made before any of them is counted. An attempt that turns out
 * right, or is refused before being judged (user locked out), is taken back,
 * so only wrong answers use up the address's budget.
 */
import { isTwoFactorError, TwoFactorError, type ErrorCode } from './errors.ts';
import type { ServiceContext } from './service-context.ts';
import type { RequestInfo } from './service-options.ts';

/**
 * Errors that mean the code or password was not judged wrong: a lockout or
 * hard cap refused it unjudged, or it was right and a conflict followed.
 * Every other error keeps the count (a wrong answer, or a failing store:
 * fail closed).
 */
const NOT_WRONG: ReadonlySet<ErrorCode> = new Set(['too_many_attempts', 'conflict']);

/**
 * Runs `judge` as one attempt from `info.ip`. Refused without judging, as
 * `too_many_attempts` with `retryAfter`, when the address has used its
 * `limits.ipMaxFailures` for the window. No limit without an IP or with
 * `ipMaxFailures` 0.
 */
export async function withIpLimit<T>(ctx: ServiceContext, userId: string, info: RequestInfo, judge: () => Promise<T>, detail: Record<string, string> = {}): Promise<T> {
  const ip = info.ip;
  if (!ip || ctx.limits.ipMaxFailures === 0) return judge();
  const counted = await ctx.guard.countIpAttempt(ip, ctx.limits);
  if (counted.kind === 'refused') {
    ctx.audit('verification.failed', userId, info, 'failure', { ...detail, reason: 'ip_limit' });
    throw new TwoFactorError('too_many_attempts', { retryAfter: Math.max(1, Math.ceil(counted.retryAfterMs / 1000)) });
  }
  let result: T;
  try {
    result = await judge();
  } catch (err) {
    if (isTwoFactorError(err) && NOT_WRONG.has(err.code)) await refund(ctx, ip);
    throw err;
  }
  // Not awaited: the answer is decided, and the refund is queued on the
  // same connection before any later attempt from this address.
  void refund(ctx, ip);
  return result;
}

async function refund(ctx: ServiceContext, ip: string): Promise<void> {
  // The answer is already decided: a lost refund only costs the address one
  // attempt of its window, and must not turn a right code into a 503.
  await ctx.guard.refundIpAttempt(ip).catch((err: unknown) => ctx.log(`koa-two-factor: could not take back an IP attempt: ${String(err)}`));
}
