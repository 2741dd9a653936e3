/**
 * The guard store's Lua scripts, each atomic on one Redis (Cluster) slot, and a runner
 * that uses EVALSHA and falls back to EVAL when the script cache is empty.
 * `attempt` runs the same rules as src/core/failure-budget.ts.
 */
import { createHash } from 'node:crypto';
import { EMAIL_CODE_DEVICE } from '../core/store-types.ts';

type Arg = string | number;

/**
 * The Redis commands the stores send. An ioredis `Redis` or `Cluster` (any
 * version from 5) fits, the app's own client included: the package itself
 * needs ioredis only for `koa-two-factor/redis` (`createRedisClient`).
 */
export interface RedisClient {
  evalsha(sha: string, numkeys: number, ...args: Arg[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: Arg[]): Promise<unknown>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, expiryMode: 'PX', ms: number): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  exists(...keys: string[]): Promise<number>;
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  hset(key: string, ...fieldsAndValues: Arg[]): Promise<number>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hincrby(key: string, field: string, increment: number): Promise<number>;
}

export interface Script { lua: string; sha: string }

export function script(lua: string): Script {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') };
}

export async function runScript(client: RedisClient, s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
  try {
    return await client.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      return client.eval(s.lua, keys.length, ...keys, ...args);
    }
    throw err;
  }
}

/**
 * What a compare-and-set re-seal did: `resealed` (the stored sealed secret was
 * the one expected and is now the new one), `changed` (something else is
 * stored now: nothing written), `missing` (nothing is stored any more).
 */
export type ResealOutcome = 'resealed' | 'changed' | 'missing';

/** A sealed secret (`SecretBox` box): the only text the re-seal scripts splice into stored JSON. */
export const SEALED_SECRET_SHAPE = /^[A-Za-z0-9._-]+$/;

/**
 * Lua setting local `resealed` to the JSON text `raw` with its
 * `"sealedSecret":"<expected>"` replaced by `next`, or to nil when the stored
 * sealed secret is not `expected` (compare-and-set). Only that string changes;
 * the rest stays byte for byte (re-encoding with cjson would rewrite numbers
 * and empty arrays). A quote inside a JSON string is escaped, so the pattern
 * can only match the field itself.
 */
export function resealJson(raw: string, expected: string, next: string): string {
  return `local resealed = nil
do
  local ok, v = pcall(cjson.decode, ${raw})
  if ok and type(v) == 'table' and ${expected} ~= '' and v.sealedSecret == ${expected} then
    local s, e = string.find(${raw}, '"sealedSecret":"' .. ${expected} .. '"', 1, true)
    if s then resealed = string.sub(${raw}, 1, s - 1) .. '"sealedSecret":"' .. ${next} .. '"' .. string.sub(${raw}, e + 1) end
  end
end`;
}

/**
 * KEYS: a pending enrolment. ARGV: the sealed secret read, its re-sealed
 * form. Key rotation (`koa-two-factor rotate-keys`) while the app serves: the
 * new box is written only if the enrolment still holds the one read, keeping
 * its TTL (the 10 minutes it had left). Returns a `ResealOutcome`.
 */
export const RESEAL_ENROLMENT = script(`
local raw = redis.call('GET', KEYS[1])
if not raw then return 'missing' end
${resealJson('raw', 'ARGV[1]', 'ARGV[2]')}
if not resealed then return 'changed' end
redis.call('SET', KEYS[1], resealed, 'KEEPTTL')
return 'resealed'
`);

/**
 * Lua for `afterSuccess` (src/core/failure-budget.ts): the budget starts
 * over, only the lockout count `k` is kept (for `memory` ms).
 */
function startOver(key: string, k: string, memory: string): string {
  return `if ${k} > 0 then redis.call('HSET', ${key}, 'ws', 0, 'n', 0, 'c', 0, 'lu', 0); redis.call('PEXPIRE', ${key}, ${memory}) else redis.call('DEL', ${key}) end`;
}

/**
 * KEYS: steps, failures, emailed code, and optionally the user's record.
 * ARGV: now, stepTtlMs, maxFailures, windowMs, lockoutMs, maxLockoutMs,
 * hardCap, memoryMs, countFailure (1/0), isTotp (1/0), emailed code hash (''
 * for none), then device id / step pairs. The emailed code is tried after the
 * devices, and deleted when it matches. With the record key, an accepted
 * device that is still in the record gets its last use `u:<id>` = now there
 * (the record is on the same slot): the verification's last write, without a
 * command of its own. Returns {'locked', ms} | {'capped', 0} |
 * {'accepted', device, step, lastUseRecorded (1/0)} | {'rejected', lockMs}.
 */
export const ATTEMPT = script(`
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[2], 'ws', 'n', 'c', 'k', 'lu')
local ws, n, c, k, lu = tonumber(f[1]) or 0, tonumber(f[2]) or 0, tonumber(f[3]) or 0, tonumber(f[4]) or 0, tonumber(f[5]) or 0
if lu > now then return {'locked', lu - now} end
if ARGV[10] == '1' and c >= tonumber(ARGV[7]) then return {'capped', 0} end
for i = 12, #ARGV, 2 do
  local step = tonumber(ARGV[i + 1])
  local last = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if last == nil or step > last then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ${startOver('KEYS[2]', 'k', 'ARGV[8]')}
    local recorded = 0
    if KEYS[4] and (redis.call('HEXISTS', KEYS[4], 't:' .. ARGV[i]) == 1 or redis.call('HEXISTS', KEYS[4], 'd:' .. ARGV[i]) == 1) then
      redis.call('HSET', KEYS[4], 'u:' .. ARGV[i], ARGV[1])
      recorded = 1
    end
    return {'accepted', ARGV[i], step, recorded}
  end
end
if ARGV[11] ~= '' and redis.call('GET', KEYS[3]) == ARGV[11] then
  redis.call('DEL', KEYS[3])
  ${startOver('KEYS[2]', 'k', 'ARGV[8]')}
  return {'accepted', '${EMAIL_CODE_DEVICE}', 0}
end
if ARGV[9] ~= '1' then return {'rejected', 0} end
if now - ws >= tonumber(ARGV[4]) then ws = now; n = 0 end
n = n + 1
c = c + 1
local lock = 0
if n >= tonumber(ARGV[3]) then
  k = k + 1
  lock = math.min(tonumber(ARGV[5]) * 2 ^ (k - 1), tonumber(ARGV[6]))
  lu = now + lock
  ws = lu
  n = 0
end
redis.call('HSET', KEYS[2], 'ws', string.format('%d', ws), 'n', n, 'c', c, 'k', k, 'lu', string.format('%d', lu))
redis.call('PEXPIRE', KEYS[2], ARGV[8])
return {'rejected', lock}
`);

/** KEYS: failures. ARGV: memoryMs. `afterSuccess` of src/core/failure-budget.ts. */
export const SUCCESS = script(`
local k = tonumber(redis.call('HGET', KEYS[1], 'k')) or 0
${startOver('KEYS[1]', 'k', 'ARGV[1]')}
return 1
`);

/**
 * KEYS: failures. ARGV: none, or the lockout this failure started: its
 * locked-until, now, maxFailures. Takes back one counted failure, never below
 * zero; `refund` of src/core/failure-budget.ts. The lockout is undone only
 * while it is still the one this failure set (same locked-until).
 */
export const REFUND = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if (tonumber(redis.call('HGET', KEYS[1], 'c')) or 0) > 0 then redis.call('HINCRBY', KEYS[1], 'c', -1) end
if #ARGV == 3 and tonumber(redis.call('HGET', KEYS[1], 'lu')) == tonumber(ARGV[1]) then
  local k = tonumber(redis.call('HGET', KEYS[1], 'k')) or 0
  redis.call('HSET', KEYS[1], 'k', math.max(0, k - 1), 'lu', 0, 'ws', ARGV[2], 'n', tonumber(ARGV[3]) - 1)
  return 2
end
if (tonumber(redis.call('HGET', KEYS[1], 'n')) or 0) > 0 then redis.call('HINCRBY', KEYS[1], 'n', -1) end
return 1
`);

/**
 * KEYS: ip counter. ARGV: ipMaxFailures, windowMs. Check and count in one
 * step, so a parallel burst cannot all pass the check before any is counted.
 * Returns 0 when counted, else the ms (>= 1) until the window ends. A fixed
 * window from the first counted attempt; a counter without TTL gets one.
 */
export const IP_ATTEMPT = script(`
local n = tonumber(redis.call('GET', KEYS[1])) or 0
if n >= tonumber(ARGV[1]) then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
  if ttl < 0 then ttl = tonumber(ARGV[2]) end
  return math.max(ttl, 1)
end
redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** KEYS: ip counter. Takes back one attempt (DECR keeps the TTL); at zero the key goes. */
export const IP_REFUND = script(`
local n = tonumber(redis.call('GET', KEYS[1])) or 0
if n > 1 then redis.call('DECR', KEYS[1]) elseif n == 1 then redis.call('DEL', KEYS[1]) end
return 1
`);

/**
 * KEYS: a session's challenge. ARGV: the challenge answered. Returns the
 * stored JSON and deletes it, in one step, only if it holds that challenge.
 */
export const TAKE_CHALLENGE = script(`
local v = redis.call('GET', KEYS[1])
if not v or cjson.decode(v).challenge ~= ARGV[1] then return false end
redis.call('DEL', KEYS[1])
return v
`);

/**
 * KEYS: browsers. ARGV: now, maxPerUser, id, browser JSON, its expiresAt.
 * Drops expired entries, then the oldest until there is room, adds the new
 * one, and sets the key's expiry to the latest of its entries.
 */
export const REMEMBER_BROWSER = script(`
local now = tonumber(ARGV[1])
local entries = redis.call('HGETALL', KEYS[1])
local live = {}
local latest = tonumber(ARGV[5])
for i = 1, #entries, 2 do
  local b = cjson.decode(entries[i + 1])
  if b.expiresAt <= now then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    live[#live + 1] = { id = entries[i], createdAt = b.createdAt }
    if b.expiresAt > latest then latest = b.expiresAt end
  end
end
table.sort(live, function(a, b) return a.createdAt < b.createdAt end)
local extra = #live + 1 - tonumber(ARGV[2])
for i = 1, extra do redis.call('HDEL', KEYS[1], live[i].id) end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], math.max(1, latest - now))
return 1
`);

/**
 * KEYS: browsers. ARGV: id, token hash, lastUsedAt, new token hash ('' to
 * keep it), now. Updates the entry only while it holds that token and has
 * not expired (the key outlives an entry older than the latest): of two
 * requests rotating one token, one wins. Returns 1, or 0 when not found.
 */
export const TOUCH_BROWSER = script(`
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local b = cjson.decode(raw)
if b.expiresAt <= tonumber(ARGV[5]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 0
end
if b.tokenHash ~= ARGV[2] then return 0 end
b.lastUsedAt = tonumber(ARGV[3])
if ARGV[4] ~= '' then
  b.tokenHash = ARGV[4]
  b.rotatedAt = tonumber(ARGV[3])
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(b))
return 1
`);
