/**
 * The Lua scripts, each atomic on one Redis (Cluster) slot, and a runner
 * that uses EVALSHA and falls back to EVAL when the script cache is empty.
 * `attempt` runs the same rules as src/core/failure-budget.ts.
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export type RedisClient = Redis | Cluster;

export interface Script { lua: string; sha: string }

function script(lua: string): Script {
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
 * Lua for `afterSuccess` (src/core/failure-budget.ts): the budget starts
 * over, only the lockout count `k` is kept (for `memory` ms).
 */
function startOver(key: string, k: string, memory: string): string {
  return `if ${k} > 0 then redis.call('HSET', ${key}, 'ws', 0, 'n', 0, 'c', 0, 'lu', 0); redis.call('PEXPIRE', ${key}, ${memory}) else redis.call('DEL', ${key}) end`;
}

/**
 * KEYS: steps, failures. ARGV: now, stepTtlMs, maxFailures, windowMs,
 * lockoutMs, maxLockoutMs, hardCap, memoryMs, countFailure (1/0),
 * isTotp (1/0), then device id / step pairs.
 * Returns {'locked', ms} | {'capped', 0} | {'accepted', device, step} | {'rejected', lockMs}.
 */
export const ATTEMPT = script(`
local now = tonumber(ARGV[1])
local f = redis.call('HMGET', KEYS[2], 'ws', 'n', 'c', 'k', 'lu')
local ws, n, c, k, lu = tonumber(f[1]) or 0, tonumber(f[2]) or 0, tonumber(f[3]) or 0, tonumber(f[4]) or 0, tonumber(f[5]) or 0
if lu > now then return {'locked', lu - now} end
if ARGV[10] == '1' and c >= tonumber(ARGV[7]) then return {'capped', 0} end
for i = 11, #ARGV, 2 do
  local step = tonumber(ARGV[i + 1])
  local last = tonumber(redis.call('HGET', KEYS[1], ARGV[i]))
  if last == nil or step > last then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    ${startOver('KEYS[2]', 'k', 'ARGV[8]')}
    return {'accepted', ARGV[i], step}
  end
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

/** Lua counting the `d:` (device) fields of the record hash `key` into `devices`. */
function countDevices(key: string): string {
  return `local devices = 0
for _, f in ipairs(redis.call('HKEYS', ${key})) do
  if string.sub(f, 1, 2) == 'd:' then devices = devices + 1 end
end`;
}

/**
 * KEYS: record. ARGV: device id, maxDevices, stored device (JSON), name,
 * last use ('' for none). Counts and adds in one step, so parallel
 * confirmations cannot link more than maxDevices; re-adding an id replaces
 * it. Returns added | added-first | full.
 */
export const ADD_DEVICE = script(`
local id = ARGV[1]
${countDevices('KEYS[1]')}
local exists = redis.call('HEXISTS', KEYS[1], 'd:' .. id) == 1
if not exists and devices >= tonumber(ARGV[2]) then return 'full' end
redis.call('HSET', KEYS[1], 'd:' .. id, ARGV[3], 'n:' .. id, ARGV[4])
-- A re-added id must not inherit the old device's last use.
if ARGV[5] == '' then redis.call('HDEL', KEYS[1], 'u:' .. id) else redis.call('HSET', KEYS[1], 'u:' .. id, ARGV[5]) end
if devices == 0 then return 'added-first' end
return 'added'
`);

/**
 * KEYS: record. ARGV: device id, keepLast (1/0). Removes the device unless it
 * is the only one and keepLast is set; the last one takes the backup codes
 * with it. Returns removed | removed-last | missing | kept-last.
 */
export const REMOVE_DEVICE = script(`
local id = ARGV[1]
if redis.call('HEXISTS', KEYS[1], 'd:' .. id) == 0 then return 'missing' end
local fields = redis.call('HKEYS', KEYS[1])
local devices = 0
for _, f in ipairs(fields) do
  if string.sub(f, 1, 2) == 'd:' then devices = devices + 1 end
end
if devices == 1 and ARGV[2] == '1' then return 'kept-last' end
redis.call('HDEL', KEYS[1], 'd:' .. id, 'n:' .. id, 'u:' .. id)
if devices > 1 then return 'removed' end
for _, f in ipairs(fields) do
  if string.sub(f, 1, 2) == 'b:' then redis.call('HDEL', KEYS[1], f) end
end
return 'removed-last'
`);

/** KEYS: record. ARGV: device id, field prefix (n: or u:), value. Sets it only while the device exists. */
export const SET_DEVICE_FIELD = script(`
if redis.call('HEXISTS', KEYS[1], 'd:' .. ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2] .. ARGV[1], ARGV[3])
return 1
`);

/**
 * KEYS: record. ARGV: field prefixes to delete (e.g. 'b:'), then '--', then
 * fields to set as name/value pairs. Replaces a whole set in one step.
 */
export const REPLACE_FIELDS = script(`
local prefixes, i = {}, 1
while ARGV[i] ~= '--' do prefixes[#prefixes + 1] = ARGV[i]; i = i + 1 end
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  for _, p in ipairs(prefixes) do
    if string.sub(field, 1, #p) == p then redis.call('HDEL', KEYS[1], field) end
  end
end
for j = i + 1, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[j], ARGV[j + 1]) end
return 1
`);
