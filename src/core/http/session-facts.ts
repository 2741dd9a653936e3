/**
 * The gate's cache of what the stores say about a user and one verified
 * login, kept in process memory (never in the session: a request that only
 * read must not write the session back, or a request in flight at logout
 * would save a verified session again).
 *
 * Within `stateCacheMs` a gated request costs no store call; after it, the
 * requests of one login that are in flight share one read.
 */
import { factsCacheKey, type SecondFactorSession, type SessionFacts } from '../session-policy.ts';
import type { TwoFactorService } from '../two-factor-service.ts';

/** Entries kept at most; the oldest go first. Bounds memory, not correctness. */
export const SESSION_FACTS_CACHE_SIZE = 10_000;

interface Entry { facts: SessionFacts; readAt: number }

export class SessionFactsCache {
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<SessionFacts>>();

  constructor(private readonly service: TwoFactorService, private readonly maxAgeMs: number) {}

  /** Facts about this session's login no older than `stateCacheMs`. */
  async cached(userId: string, s: SecondFactorSession | undefined): Promise<SessionFacts> {
    const key = factsCacheKey(userId, s);
    const hit = this.entries.get(key);
    if (hit && Date.now() - hit.readAt < this.maxAgeMs) return hit.facts;
    return this.read(key, userId, s?.login);
  }

  /** Facts read now: for privileged actions and the 2FA routes, which must not trust a cache. */
  fresh(userId: string, s: SecondFactorSession | undefined): Promise<SessionFacts> {
    return this.read(factsCacheKey(userId, s), userId, s?.login);
  }

  /**
   * What a verification just learned, as if read now: the gate's first
   * request after it then costs no store call. The facts are as fresh as
   * the verification's own read; like any cached read they may miss a change
   * made elsewhere for up to `stateCacheMs`.
   */
  prime(userId: string, s: SecondFactorSession, facts: SessionFacts): void {
    const key = factsCacheKey(userId, s);
    this.inFlight.delete(key);
    this.remember(key, { facts, readAt: Date.now() });
  }

  /** Drops what this process knows about a session's login (it ended or changed here). */
  forget(userId: string, s: SecondFactorSession | undefined): void {
    const key = factsCacheKey(userId, s);
    this.entries.delete(key);
    // A read already under way may predate the change: it must not be cached.
    this.inFlight.delete(key);
  }

  private read(key: string, userId: string, loginId: string | undefined): Promise<SessionFacts> {
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const readAt = Date.now();
    const pending: Promise<SessionFacts> = this.service.sessionFacts(userId, loginId).then(
      (facts) => {
        if (this.inFlight.get(key) === pending) this.remember(key, { facts, readAt });
        return facts;
      },
    ).finally(() => {
      if (this.inFlight.get(key) === pending) this.inFlight.delete(key);
    });
    this.inFlight.set(key, pending);
    return pending;
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > SESSION_FACTS_CACHE_SIZE) this.entries.delete(this.entries.keys().next().value!);
  }
}
