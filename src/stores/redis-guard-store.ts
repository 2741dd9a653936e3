/**
 * Guard state on Redis (single server or Cluster). Every decision is one Lua
 * script on one slot, so concurrent requests on any number of app servers
 * see one order of events.
 */
import type { ResolvedLimits } from '../core/limits.ts';
import { redisKeys, DEFAULT_KEY_PREFIX, type RedisKeys } from './redis-keys.ts';
import { ATTEMPT, IP_ATTEMPT, IP_REFUND, REFUND, REMEMBER_BROWSER, RESEAL_ENROLMENT, SEALED_SECRET_SHAPE, SUCCESS, TAKE_CHALLENGE, TOUCH_BROWSER, runScript, type RedisClient, type ResealOutcome } from './redis-scripts.ts';
import type { AttemptOutcome, EmailSendScope, GuardStore, RememberedBrowser, IpAttemptOutcome, PasskeyChallenge, PendingEnrolment, StartedLock, StepCandidate } from '../core/store-types.ts';

export interface RedisStoreOptions {
  /** Prefix of every key; see src/stores/redis-keys.ts. */
  keyPrefix?: string | undefined;
  /**
   * Guard store only: an accepted code's device gets its last use written
   * into the user's record by the attempt script itself (the record hash of
   * the same prefix is on the same slot), one command less per verification.
   * Only when the records are a `RedisRecordStore` on the same client and
   * prefix: `twoFactor({ redis })` sets it. Default: `DEFAULT_RECORD_LAST_USE`.
   */
  recordLastUse?: boolean | undefined;
}

/** Off: a guard store given alone cannot know where the records live. */
export const DEFAULT_RECORD_LAST_USE = false;

export class RedisGuardStore implements GuardStore {
  private readonly keys: RedisKeys;

  private readonly recordLastUse: boolean;

  constructor(private readonly redis: RedisClient, options: RedisStoreOptions = {}) {
    this.keys = redisKeys(options.keyPrefix ?? DEFAULT_KEY_PREFIX);
    this.recordLastUse = options.recordLastUse ?? DEFAULT_RECORD_LAST_USE;
  }

  async saveEnrolment(e: PendingEnrolment): Promise<void> {
    const ttl = Math.max(1, e.expiresAt - Date.now());
    await this.redis.set(this.keys.enrolment(e.userId, e.id), JSON.stringify(e), 'PX', ttl);
  }

  async getEnrolment(userId: string, id: string): Promise<PendingEnrolment | null> {
    const raw = await this.redis.get(this.keys.enrolment(userId, id));
    return raw ? (JSON.parse(raw) as PendingEnrolment) : null;
  }

  async deleteEnrolment(userId: string, id: string): Promise<void> {
    await this.redis.del(this.keys.enrolment(userId, id));
  }

  /**
   * Replaces a pending enrolment's sealed secret `expected` (as read) with
   * `next`, in one atomic compare-and-set that keeps the key's TTL; see
   * `RedisRecordStore.resealDevice`. For key rotation.
   */
  async resealEnrolment(userId: string, id: string, expected: string, next: string): Promise<ResealOutcome> {
    if (!SEALED_SECRET_SHAPE.test(next)) throw new RangeError('resealEnrolment: not a sealed secret');
    return (await runScript(this.redis, RESEAL_ENROLMENT, [this.keys.enrolment(userId, id)], [expected, next])) as ResealOutcome;
  }

  async saveChallenge(c: PasskeyChallenge): Promise<void> {
    const ttl = Math.max(1, c.expiresAt - Date.now());
    await this.redis.set(this.keys.challenge(c.userId, c.binding, c.purpose), JSON.stringify(c), 'PX', ttl);
  }

  async takeChallenge(userId: string, binding: string, purpose: PasskeyChallenge['purpose'], challenge: string): Promise<PasskeyChallenge | null> {
    const raw = await runScript(this.redis, TAKE_CHALLENGE, [this.keys.challenge(userId, binding, purpose)], [challenge]);
    return typeof raw === 'string' ? (JSON.parse(raw) as PasskeyChallenge) : null;
  }

  attemptTotp(userId: string, candidates: StepCandidate[], l: ResolvedLimits, now: number, stepTtlMs: number, countFailure: boolean, emailCodeHash?: string): Promise<AttemptOutcome> {
    return this.attempt(userId, candidates, l, now, stepTtlMs, countFailure, true, emailCodeHash);
  }

  async rememberBrowser(userId: string, browser: RememberedBrowser, maxPerUser: number): Promise<void> {
    await runScript(this.redis, REMEMBER_BROWSER, [this.keys.browsers(userId)], [Date.now(), maxPerUser, browser.id, JSON.stringify(browser), browser.expiresAt]);
  }

  async listRememberedBrowsers(userId: string): Promise<RememberedBrowser[]> {
    const now = Date.now();
    const entries = Object.values(await this.redis.hgetall(this.keys.browsers(userId))).map((raw) => JSON.parse(raw) as RememberedBrowser);
    return entries.filter((b) => b.expiresAt > now).sort((a, b) => a.createdAt - b.createdAt);
  }

  async touchRememberedBrowser(userId: string, id: string, tokenHash: string, lastUsedAt: number, newTokenHash?: string): Promise<boolean> {
    return (await runScript(this.redis, TOUCH_BROWSER, [this.keys.browsers(userId)], [id, tokenHash, lastUsedAt, newTokenHash ?? '', Date.now()])) === 1;
  }

  async forgetRememberedBrowser(userId: string, id: string): Promise<boolean> {
    return (await this.redis.hdel(this.keys.browsers(userId), id)) === 1;
  }

  async forgetRememberedBrowsers(userId: string): Promise<void> {
    await this.redis.del(this.keys.browsers(userId));
  }

  async saveEmailCode(userId: string, hash: string, expiresAt: number): Promise<void> {
    await this.redis.set(this.keys.emailCode(userId), hash, 'PX', Math.max(1, expiresAt - Date.now()));
  }

  async deleteEmailCode(userId: string): Promise<void> {
    await this.redis.del(this.keys.emailCode(userId));
  }

  async countEmailSend(scope: EmailSendScope, max: number, windowMs: number): Promise<IpAttemptOutcome> {
    const wait = Number(await runScript(this.redis, IP_ATTEMPT, [this.sendsKey(scope)], [max, windowMs]));
    return wait > 0 ? { kind: 'refused', retryAfterMs: wait } : { kind: 'counted' };
  }

  async refundEmailSend(scope: EmailSendScope): Promise<void> {
    await runScript(this.redis, IP_REFUND, [this.sendsKey(scope)], []);
  }

  private sendsKey(scope: EmailSendScope): string {
    return 'userId' in scope ? this.keys.emailSendsOfUser(scope.userId) : this.keys.emailSendsOfIp(scope.ip);
  }

  async lockRemaining(userId: string, now: number): Promise<number> {
    const until = Number(await this.redis.hget(this.keys.failures(userId), 'lu')) || 0;
    return Math.max(0, until - now);
  }

  recordFailure(userId: string, l: ResolvedLimits, now: number): Promise<AttemptOutcome> {
    return this.attempt(userId, [], l, now, 1, true, false);
  }

  async refundFailure(userId: string, startedLock?: StartedLock): Promise<void> {
    const undo = startedLock && startedLock.lockedForMs > 0
      ? [startedLock.now + startedLock.lockedForMs, startedLock.now, startedLock.limits.maxFailures]
      : [];
    await runScript(this.redis, REFUND, [this.keys.failures(userId)], undo);
  }

  async recordSuccess(userId: string, l: ResolvedLimits): Promise<void> {
    await runScript(this.redis, SUCCESS, [this.keys.failures(userId)], [l.failureMemoryMs]);
  }

  async resetUser(userId: string): Promise<void> {
    // Keys of one slot: a single DEL works on a Cluster too.
    await this.redis.del(this.keys.failures(userId), this.keys.steps(userId), this.keys.emailCode(userId));
  }

  async countIpAttempt(ip: string, l: ResolvedLimits): Promise<IpAttemptOutcome> {
    const wait = Number(await runScript(this.redis, IP_ATTEMPT, [this.keys.ip(ip)], [l.ipMaxFailures, l.ipWindowMs]));
    return wait > 0 ? { kind: 'refused', retryAfterMs: wait } : { kind: 'counted' };
  }

  async refundIpAttempt(ip: string): Promise<void> {
    await runScript(this.redis, IP_REFUND, [this.keys.ip(ip)], []);
  }

  async beginLogin(userId: string, loginId: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.login(userId, loginId), '1', 'PX', Math.max(1, ttlMs));
  }

  async endLogin(userId: string, loginId: string): Promise<void> {
    await this.redis.del(this.keys.login(userId, loginId));
  }

  async loginAlive(userId: string, loginId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.login(userId, loginId))) === 1;
  }

  private async attempt(userId: string, candidates: StepCandidate[], l: ResolvedLimits, now: number, stepTtlMs: number, countFailure: boolean, totp: boolean, emailCodeHash = ''): Promise<AttemptOutcome> {
    const args: (string | number)[] = [
      now, stepTtlMs, l.maxFailures, l.failureWindowMs, l.lockoutMs, l.maxLockoutMs, l.hardCap, l.failureMemoryMs,
      countFailure ? 1 : 0, totp ? 1 : 0, emailCodeHash,
    ];
    for (const c of candidates) args.push(c.deviceId, c.step);
    const keys = [this.keys.steps(userId), this.keys.failures(userId), this.keys.emailCode(userId)];
    if (this.recordLastUse && totp) keys.push(this.keys.record(userId));
    const reply = (await runScript(this.redis, ATTEMPT, keys, args)) as [string, string | number, number?, number?];
    switch (reply[0]) {
      case 'accepted': return { kind: 'accepted', deviceId: String(reply[1]), step: Number(reply[2]), ...(reply[3] === 1 ? { lastUseRecorded: true } : {}) };
      case 'locked': return { kind: 'locked', retryAfterMs: Number(reply[1]) };
      case 'capped': return { kind: 'capped' };
      case 'rejected': return { kind: 'rejected', lockedForMs: Number(reply[1]) };
      default: throw new Error(`Unexpected reply from the attempt script: ${JSON.stringify(reply)}`);
    }
  }
}
