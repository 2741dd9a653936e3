/**
 * In-process guard state for development and single-process apps. Atomic
 * because each method runs to completion on the event loop without awaiting.
 * Not shared between processes: use the Redis guard store for more than one.
 * Expiries run on the store's own clock (like Redis TTLs); the `now` passed
 * in is the clock of the budget rules.
 */
import { addFailure, afterSuccess, emptyFailureState, refund, refusal, type FailureState } from '../core/failure-budget.ts';
import type { ResolvedLimits } from '../core/limits.ts';
import { EMAIL_CODE_DEVICE } from '../core/store-types.ts';
import type { AttemptOutcome, EmailSendScope, GuardStore, RememberedBrowser, IpAttemptOutcome, PasskeyChallenge, PendingEnrolment, StartedLock, StepCandidate } from '../core/store-types.ts';

interface Expiring<T> { value: T; expiresAt: number }

function sendsKey(scope: EmailSendScope): string {
  return 'userId' in scope ? `user\n${scope.userId}` : `ip\n${scope.ip}`;
}

export class MemoryGuardStore implements GuardStore {
  private readonly enrolments = new Map<string, Expiring<PendingEnrolment>>();
  private readonly steps = new Map<string, Expiring<Map<string, number>>>();
  private readonly failures = new Map<string, Expiring<FailureState>>();
  private readonly ips = new Map<string, Expiring<number>>();
  private readonly logins = new Map<string, Expiring<true>>();
  private readonly challenges = new Map<string, Expiring<PasskeyChallenge>>();
  private readonly emailCodes = new Map<string, Expiring<string>>();
  private readonly browsers = new Map<string, Map<string, RememberedBrowser>>();
  private readonly emailSends = new Map<string, Expiring<number>>();
  /** Clock for expiries; tests may replace it. */
  now: () => number = Date.now;

  private live<T>(map: Map<string, Expiring<T>>, key: string): T | undefined {
    const e = map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      map.delete(key);
      return undefined;
    }
    return e.value;
  }

  async saveEnrolment(e: PendingEnrolment): Promise<void> {
    this.enrolments.set(`${e.userId}\n${e.id}`, { value: { ...e }, expiresAt: e.expiresAt });
  }

  async getEnrolment(userId: string, id: string): Promise<PendingEnrolment | null> {
    const e = this.live(this.enrolments, `${userId}\n${id}`);
    return e ? { ...e } : null;
  }

  async deleteEnrolment(userId: string, id: string): Promise<void> {
    this.enrolments.delete(`${userId}\n${id}`);
  }

  async saveChallenge(c: PasskeyChallenge): Promise<void> {
    this.challenges.set(`${c.userId}\n${c.binding}\n${c.purpose}`, { value: { ...c }, expiresAt: c.expiresAt });
  }

  async takeChallenge(userId: string, binding: string, purpose: PasskeyChallenge['purpose'], challenge: string): Promise<PasskeyChallenge | null> {
    const key = `${userId}\n${binding}\n${purpose}`;
    const c = this.live(this.challenges, key);
    if (!c || c.challenge !== challenge) return null;
    this.challenges.delete(key);
    return { ...c };
  }

  /** The user's remembered browsers, expired ones dropped. */
  private liveBrowsers(userId: string): Map<string, RememberedBrowser> {
    const all = this.browsers.get(userId) ?? new Map<string, RememberedBrowser>();
    for (const [id, b] of all) if (b.expiresAt <= this.now()) all.delete(id);
    if (all.size === 0) this.browsers.delete(userId);
    return all;
  }

  async rememberBrowser(userId: string, browser: RememberedBrowser, maxPerUser: number): Promise<void> {
    const all = this.liveBrowsers(userId);
    const oldestFirst = [...all.values()].sort((a, b) => a.createdAt - b.createdAt);
    // Counted once: deleting shrinks `all`, and a lowered cap may drop more than one.
    const extra = all.size + 1 - maxPerUser;
    for (let i = 0; i < extra; i++) all.delete(oldestFirst[i]!.id);
    all.set(browser.id, { ...browser });
    this.browsers.set(userId, all);
  }

  async listRememberedBrowsers(userId: string): Promise<RememberedBrowser[]> {
    return [...this.liveBrowsers(userId).values()].map((b) => ({ ...b })).sort((a, b) => a.createdAt - b.createdAt);
  }

  async touchRememberedBrowser(userId: string, id: string, tokenHash: string, lastUsedAt: number, newTokenHash?: string): Promise<boolean> {
    const b = this.liveBrowsers(userId).get(id);
    if (!b || b.tokenHash !== tokenHash) return false;
    b.lastUsedAt = lastUsedAt;
    if (newTokenHash) {
      b.tokenHash = newTokenHash;
      b.rotatedAt = lastUsedAt;
    }
    return true;
  }

  async forgetRememberedBrowser(userId: string, id: string): Promise<boolean> {
    return this.liveBrowsers(userId).delete(id);
  }

  async forgetRememberedBrowsers(userId: string): Promise<void> {
    this.browsers.delete(userId);
  }

  async saveEmailCode(userId: string, hash: string, expiresAt: number): Promise<void> {
    this.emailCodes.set(userId, { value: hash, expiresAt });
  }

  async deleteEmailCode(userId: string): Promise<void> {
    this.emailCodes.delete(userId);
  }

  async countEmailSend(scope: EmailSendScope, max: number, windowMs: number): Promise<IpAttemptOutcome> {
    return this.countInWindow(this.emailSends, sendsKey(scope), max, windowMs);
  }

  async refundEmailSend(scope: EmailSendScope): Promise<void> {
    this.refundInWindow(this.emailSends, sendsKey(scope));
  }

  async attemptTotp(userId: string, candidates: StepCandidate[], l: ResolvedLimits, now: number, stepTtlMs: number, countFailure: boolean, emailCodeHash?: string): Promise<AttemptOutcome> {
    const fail = this.live(this.failures, userId) ?? emptyFailureState();
    const refused = refusal(fail, l, now, true);
    if (refused) return refused;
    const steps = this.live(this.steps, userId) ?? new Map<string, number>();
    for (const c of candidates) {
      const last = steps.get(c.deviceId);
      if (last === undefined || c.step > last) {
        steps.set(c.deviceId, c.step);
        this.steps.set(userId, { value: steps, expiresAt: this.now() + stepTtlMs });
        this.succeed(userId, fail, l);
        return { kind: 'accepted', deviceId: c.deviceId, step: c.step };
      }
    }
    if (emailCodeHash && this.live(this.emailCodes, userId) === emailCodeHash) {
      this.emailCodes.delete(userId);
      this.succeed(userId, fail, l);
      return { kind: 'accepted', deviceId: EMAIL_CODE_DEVICE, step: 0 };
    }
    if (!countFailure) return { kind: 'rejected', lockedForMs: 0 };
    return this.fail(userId, fail, l, now);
  }

  async lockRemaining(userId: string, now: number): Promise<number> {
    const fail = this.live(this.failures, userId);
    return fail && fail.lockedUntil > now ? fail.lockedUntil - now : 0;
  }

  async recordFailure(userId: string, l: ResolvedLimits, now: number): Promise<AttemptOutcome> {
    const fail = this.live(this.failures, userId) ?? emptyFailureState();
    const refused = refusal(fail, l, now, false);
    if (refused) return refused;
    return this.fail(userId, fail, l, now);
  }

  private fail(userId: string, fail: FailureState, l: ResolvedLimits, now: number): AttemptOutcome {
    const lockedForMs = addFailure(fail, l, now);
    this.failures.set(userId, { value: fail, expiresAt: this.now() + l.failureMemoryMs });
    return { kind: 'rejected', lockedForMs };
  }

  async refundFailure(userId: string, startedLock?: StartedLock): Promise<void> {
    const fail = this.live(this.failures, userId);
    if (fail) refund(fail, startedLock);
  }

  async recordSuccess(userId: string, l: ResolvedLimits): Promise<void> {
    this.succeed(userId, this.live(this.failures, userId) ?? emptyFailureState(), l);
  }

  private succeed(userId: string, fail: FailureState, l: ResolvedLimits): void {
    const kept = afterSuccess(fail);
    if (kept) this.failures.set(userId, { value: kept, expiresAt: this.now() + l.failureMemoryMs });
    else this.failures.delete(userId);
  }

  async beginLogin(userId: string, loginId: string, ttlMs: number): Promise<void> {
    this.logins.set(`${userId}\n${loginId}`, { value: true, expiresAt: this.now() + ttlMs });
  }

  async endLogin(userId: string, loginId: string): Promise<void> {
    this.logins.delete(`${userId}\n${loginId}`);
  }

  async loginAlive(userId: string, loginId: string): Promise<boolean> {
    return this.live(this.logins, `${userId}\n${loginId}`) === true;
  }

  async resetUser(userId: string): Promise<void> {
    this.failures.delete(userId);
    this.steps.delete(userId);
    this.emailCodes.delete(userId);
  }

  async countIpAttempt(ip: string, l: ResolvedLimits): Promise<IpAttemptOutcome> {
    return this.countInWindow(this.ips, ip, l.ipMaxFailures, l.ipWindowMs);
  }

  async refundIpAttempt(ip: string): Promise<void> {
    this.refundInWindow(this.ips, ip);
  }

  /** A fixed-window counter: refused at `max`, the window starting with the first count. */
  private countInWindow(map: Map<string, Expiring<number>>, key: string, max: number, windowMs: number): IpAttemptOutcome {
    const n = this.live(map, key) ?? 0;
    const e = map.get(key) ?? { value: 0, expiresAt: this.now() + windowMs };
    if (n >= max) return { kind: 'refused', retryAfterMs: e.expiresAt - this.now() };
    e.value = n + 1;
    map.set(key, e);
    return { kind: 'counted' };
  }

  private refundInWindow(map: Map<string, Expiring<number>>, key: string): void {
    const n = this.live(map, key);
    // Like the Redis script: at zero the window is forgotten.
    if (n !== undefined && n <= 1) map.delete(key);
    else if (n !== undefined) map.get(key)!.value = n - 1;
  }
}
