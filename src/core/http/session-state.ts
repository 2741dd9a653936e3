/**
 * The 2FA namespace inside the app's session, read and written through the
 * adapter; what it means is decided in ../session-policy.ts.
 *
 * Reading never writes: only passing the second factor, an account change
 * that keeps this session verified, and the end of a login touch the session.
 */
import {
  namespaceFor, newLoginId, taggedNamespace, verifiedNamespace, type SecondFactorSession, type SessionFacts, type VerifiedMethod,
} from '../session-policy.ts';
import { newChallengeBinding } from '../passkeys.ts';
import { sessionOf } from './session-store.ts';
import type { HttpRequest, HttpSettings } from './types.ts';

const NO_REGENERATE = 'koa-two-factor: the session middleware has no regenerate(), so the session id is not rotated when the second factor is passed (session fixation stays possible). Use koa-session 6 or later, or express-session.';

/** This user's namespace, or undefined; never writes. */
export function readState(req: HttpRequest, r: HttpSettings, uid: string): SecondFactorSession | undefined {
  return namespaceFor(sessionOf(req)[r.sessionKey], uid);
}

/**
 * This user's namespace, created (with a fresh tag) the first time the gate
 * sees this login: the one write a read-only request makes, once per login.
 */
export async function tagLogin(req: HttpRequest, r: HttpSettings, uid: string): Promise<SecondFactorSession> {
  const existing = readState(req, r, uid);
  if (existing) return existing;
  // Another user's namespace: that login ended without the gate seeing it.
  await endSecondFactor(req, r);
  const tagged = taggedNamespace(uid);
  sessionOf(req)[r.sessionKey] = tagged;
  return tagged;
}

/**
 * The random value this session's WebAuthn challenges are kept with,
 * created (one session write) the first time a challenge is handed out.
 */
export async function challengeBinding(req: HttpRequest, r: HttpSettings, uid: string): Promise<string> {
  const ns = await tagLogin(req, r, uid);
  if (ns.binding) return ns.binding;
  const next: SecondFactorSession = { ...ns, binding: newChallengeBinding() };
  sessionOf(req)[r.sessionKey] = next;
  return next.binding!;
}

/** The stores' view of this session: cached for the gate, fresh for routes and privileged actions. */
export function factsOf(r: HttpSettings, uid: string, s: SecondFactorSession | undefined, fresh: boolean): Promise<SessionFacts> {
  return fresh ? r.facts.fresh(uid, s) : r.facts.cached(uid, s);
}

/**
 * Marks the session as having passed the second factor: a new login id,
 * live server-side, and the session id rotated (session fixation).
 */
export async function markVerified(req: HttpRequest, r: HttpSettings, uid: string, method: VerifiedMethod, generation: number, now: number): Promise<void> {
  const login = newLoginId();
  await r.service.beginLogin(uid, login);
  await adoptLogin(req, r, uid, login, method, generation, now);
}

/**
 * Checks a second factor and, on success, marks the session verified. The
 * new login is recorded server-side while the code is being checked, so a
 * verification costs no extra round trip; a login begun for a wrong code is
 * ended again (its id was never given to anyone).
 */
export async function verifyLogin<T extends { method: VerifiedMethod; generation: number }>(req: HttpRequest, r: HttpSettings, uid: string, check: () => Promise<T>): Promise<T> {
  const login = newLoginId();
  const [checked, began] = await Promise.allSettled([check(), r.service.beginLogin(uid, login)]);
  if (checked.status === 'rejected') {
    if (began.status === 'fulfilled') r.service.endLogin(uid, login).catch(() => {});
    throw checked.reason;
  }
  if (began.status === 'rejected') throw began.reason;
  await adoptLogin(req, r, uid, login, checked.value.method, checked.value.generation, Date.now());
  return checked.value;
}

async function adoptLogin(req: HttpRequest, r: HttpSettings, uid: string, login: string, method: VerifiedMethod, generation: number, now: number): Promise<void> {
  const previous = readState(req, r, uid);
  r.facts.forget(uid, previous);
  if (previous?.login !== undefined) {
    // The session moves to the new login; the old one must not count for a copy of it.
    r.service.endLogin(uid, previous.login).catch((err: unknown) => r.log(`koa-two-factor: could not end the replaced login: ${String(err)}`));
  }
  if (!(await req.regenerateSession())) r.warnOnce('no-regenerate', NO_REGENERATE);
  const verified = verifiedNamespace(uid, login, method, generation, now);
  sessionOf(req)[r.sessionKey] = verified;
  // Just passed: the user has a factor, the login was begun, the generation was read by the check.
  r.facts.prime(uid, verified, { state: 'active', generation, loginAlive: true });
}

/** After an action that bumped the generation or proved a fresh code: this session stays verified. */
export function keepVerified(req: HttpRequest, r: HttpSettings, s: SecondFactorSession, change: { generation?: number; verifiedAt?: number }): void {
  const next: SecondFactorSession = { ...s, ...change };
  sessionOf(req)[r.sessionKey] = next;
  r.facts.forget(next.uid, next);
}

/** The namespace as it is now, whoever it belongs to (to end it after the request). */
export function currentNamespace(req: HttpRequest, r: HttpSettings): Partial<SecondFactorSession> | undefined {
  const raw = req.session()?.[r.sessionKey];
  return raw && typeof raw === 'object' ? (raw as Partial<SecondFactorSession>) : undefined;
}

/**
 * Ends a session's second factor: the namespace goes from the session (if
 * the app has not dropped the session already), and its login is ended
 * server-side, so a copy of the session (kept, restored, or written back by
 * a request that was in flight) is no longer verified. A store that cannot
 * answer is logged: the session itself is cleared either way.
 */
export async function endSecondFactor(req: HttpRequest, r: HttpSettings, ended = currentNamespace(req, r)): Promise<void> {
  const session = req.session();
  if (session && session[r.sessionKey] !== undefined) delete session[r.sessionKey];
  if (!ended || typeof ended.uid !== 'string') return;
  r.facts.forget(ended.uid, ended as SecondFactorSession);
  if (typeof ended.login !== 'string') return;
  try {
    await r.service.endLogin(ended.uid, ended.login);
  } catch (err) {
    r.log(`koa-two-factor: could not end a verified login server-side (${err instanceof Error ? err.message : String(err)}); the session was cleared`);
  }
}
