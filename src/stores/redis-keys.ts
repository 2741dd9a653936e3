/**
 * Every Redis key this package writes, with its lifetime and the reason.
 *
 * All of one user's keys carry the hash tag `{<user id>}` so that every
 * script touching them runs on one Redis Cluster slot. The user id is
 * URI-encoded first so a `{` or `}` inside it cannot break the tag.
 */

/** Default key prefix; set `keyPrefix` to share one Redis between apps. */
export const DEFAULT_KEY_PREFIX = '2fa';

export interface RedisKeys {
  /**
   * Hash, durable (no TTL). Per device: `t:<id>` (created at; marks the
   * device), `s:<id>` (an authenticator app's sealed secret, the compact box
   * of `SecretBox.sealSecret`) or `k:<id>` (a passkey's credential id, public
   * key and transports, JSON), `n:<id>` (name), `u:<id>` (last use), `c:<id>`
   * (a passkey's signature counter). Then `b:<hash>` per unused backup code
   * (96-bit HMAC, base64url), `req` (required by an admin), `gen` (session
   * generation) and `v` (layout version, 2; records before 0.2 held each
   * device as JSON in `d:<id>`, converted by the first script that writes).
   * Every field and value stays under 64 bytes for an authenticator app, so
   * Redis keeps the hash in its compact listpack encoding: about 480 bytes
   * for one app and 10 backup codes, against 1,900 before. Durable because
   * losing it loses the user's second factor.
   */
  record(userId: string): string;
  /**
   * String (JSON), TTL = the enrolment lifetime (10 min): a secret shown but
   * not yet proven. Expiring it makes an abandoned QR code useless.
   */
  enrolment(userId: string, enrolmentId: string): string;
  /**
   * String (JSON), TTL = the challenge lifetime (`PASSKEY_CHALLENGE_TTL_MS`,
   * 5 min): the one live WebAuthn challenge of the session with `binding`
   * for `purpose` (register, authenticate); a newer one replaces it. Taken
   * (GET, compare and DEL in one script) by the first answer that signed it,
   * so it works once; the TTL ends challenges nobody answered.
   */
  challenge(userId: string, binding: string, purpose: string): string;
  /**
   * Hash device id → last accepted time step, TTL = the span of steps the
   * verifier accepts ((2 × window + 1) × period) plus a margin for clock
   * skew between app servers. Any step still inside the window is remembered,
   * so it cannot be replayed; older steps fail the window check anyway.
   */
  steps(userId: string): string;
  /**
   * Hash of the failure budget (window start, count, consecutive failures,
   * lockouts, locked-until), TTL = `failureMemoryMs` (90 days) after the last
   * failure, refreshed by each one. A success zeroes it but keeps the
   * lockout count (the backoff level). It must outlive lockouts, or an expiry
   * would reset the hard cap and the backoff.
   */
  failures(userId: string): string;
  /**
   * String, TTL = `verifiedLoginTtlMs` (30 days by default): one login that
   * passed the second factor. Deleted at logout, so a copy of the session
   * kept or written back afterwards is no longer verified; the TTL bounds how
   * long one verification lasts and cleans up logins that never log out.
   */
  login(userId: string, loginId: string): string;
  /**
   * String counter of attempts from one IP, TTL = `ipWindowMs` (a fixed
   * window from the first counted attempt). Each attempt is checked and
   * counted in one script before its code or password is judged, so a
   * parallel burst cannot pass the limit; a right (or unjudged) attempt is
   * taken back, and the key is deleted when that brings it to zero. Its
   * scripts touch this one key only, so they are Cluster-safe on any slot.
   */
  ip(ip: string): string;
  /**
   * String, TTL = the emailed code's lifetime (`email.codeTtlMs`, 10 min):
   * the HMAC of the one code last emailed to the user. A new send overwrites
   * it (the older code dies); the attempt script deletes it when it matches,
   * so it works once. On the user's slot, beside `steps` and `fail`, so that
   * one script decides lock, replay and the emailed code together.
   */
  emailCode(userId: string): string;
  /**
   * String counter, TTL = `email.sendWindowMs` (15 min, a fixed window from
   * the first send): emails sent for one user. Caps what a stolen password
   * can make the app send, and what a user's inbox receives.
   */
  emailSendsOfUser(userId: string): string;
  /** The same counter per client address: one address cannot mail many users. */
  emailSendsOfIp(ip: string): string;
  /**
   * Hash id → remembered browser (JSON with the token's hash), TTL = the
   * latest `expiresAt` of its entries (`rememberBrowser.days`): a browser is
   * remembered that long at most, and the hash goes with its last entry.
   * At most `maxPerUser` entries (the oldest is dropped when one is added).
   */
  browsers(userId: string): string;
  /** Hash with `requireAll`, durable: the admin's global policy. */
  policy(): string;
}

export function redisKeys(prefix: string = DEFAULT_KEY_PREFIX): RedisKeys {
  // `{}` is no hash tag to Redis Cluster; `%` alone never comes out of encodeURIComponent.
  const user = (id: string) => `${prefix}:{${encodeURIComponent(id) || '%'}}`;
  return {
    record: (id) => `${user(id)}:record`,
    enrolment: (id, e) => `${user(id)}:enrol:${e}`,
    challenge: (id, b, p) => `${user(id)}:wac:${b}:${p}`,
    steps: (id) => `${user(id)}:steps`,
    failures: (id) => `${user(id)}:fail`,
    login: (id, l) => `${user(id)}:login:${l}`,
    ip: (ip) => `${prefix}:ip:{${ip}}`,
    emailCode: (id) => `${user(id)}:mailcode`,
    browsers: (id) => `${user(id)}:browsers`,
    emailSendsOfUser: (id) => `${user(id)}:mailsends`,
    emailSendsOfIp: (ip) => `${prefix}:mailsends:{${ip}}`,
    policy: () => `${prefix}:policy`,
  };
}

/** What a key of this package holds, as its name says (see `RedisKeys`). */
export type RedisKeyKind =
  | 'record' | 'policy'
  | 'enrolment' | 'challenge' | 'steps' | 'failures' | 'login' | 'mailcode' | 'browsers' | 'mailsends'
  | 'ip' | 'mailsends-ip';

/** The kinds that are durable (no TTL by design); every other kind is guard state and always has a TTL. */
export const DURABLE_KEY_KINDS: ReadonlySet<RedisKeyKind> = new Set(['record', 'policy']);

/** The name after a user's hash tag → its kind (`enrol:<id>` and the like by their first part). */
const USER_KEY_KINDS: Readonly<Record<string, RedisKeyKind>> = {
  record: 'record', enrol: 'enrolment', wac: 'challenge', steps: 'steps', fail: 'failures',
  login: 'login', mailcode: 'mailcode', browsers: 'browsers', mailsends: 'mailsends',
};

/** A key of this package read back from its name: kind, and the user and the rest for per-user keys. */
export interface ParsedRedisKey {
  kind: RedisKeyKind;
  /** The user id (decoded), for per-user keys. */
  userId?: string;
  /** What follows the kind, e.g. the enrolment id of `enrol:<id>`. */
  rest?: string;
}

/** `key` read back as one of this package's keys under `prefix`, or null when it is none. */
export function parseRedisKey(prefix: string, key: string): ParsedRedisKey | null {
  if (!key.startsWith(`${prefix}:`)) return null;
  const name = key.slice(prefix.length + 1);
  if (name === 'policy') return { kind: 'policy' };
  if (name.startsWith('ip:{')) return { kind: 'ip' };
  if (name.startsWith('mailsends:{')) return { kind: 'mailsends-ip' };
  const close = name.indexOf('}');
  if (!name.startsWith('{') || close < 0 || name[close + 1] !== ':') return null;
  const tag = name.slice(1, close);
  const after = name.slice(close + 2);
  const colon = after.indexOf(':');
  const kind = USER_KEY_KINDS[colon < 0 ? after : after.slice(0, colon)];
  if (!kind) return null;
  let userId: string;
  try {
    userId = tag === '%' ? '' : decodeURIComponent(tag);
  } catch {
    return null;
  }
  return colon < 0 ? { kind, userId } : { kind, userId, rest: after.slice(colon + 1) };
}

/** `s` with Redis glob's special characters escaped, for a SCAN MATCH pattern. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/**
 * SCAN MATCH patterns over this package's keys (the operators' command line
 * walks them): every user's record, pending enrolment and failure budget, and
 * everything under the prefix. `{` and `}` are plain characters to Redis' glob.
 */
export function redisKeyPatterns(prefix: string = DEFAULT_KEY_PREFIX): { records: string; enrolments: string; failures: string; all: string } {
  const p = escapeGlob(prefix);
  return { records: `${p}:{*}:record`, enrolments: `${p}:{*}:enrol:*`, failures: `${p}:{*}:fail`, all: `${p}:*` };
}

/**
 * Every per-user key name of `userId` (ids of enrolments, challenges and
 * logins made up): on a Cluster they must all hash to one slot, since one
 * script touches several of them.
 */
export function everyUserKey(keys: RedisKeys, userId: string): string[] {
  return [
    keys.record(userId), keys.enrolment(userId, 'e'), keys.challenge(userId, 'b', 'authenticate'), keys.steps(userId),
    keys.failures(userId), keys.login(userId, 'l'), keys.emailCode(userId), keys.browsers(userId), keys.emailSendsOfUser(userId),
  ];
}
