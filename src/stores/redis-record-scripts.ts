/**
 * The record store's Lua: each one reads and changes one user's record hash
 * atomically (device count and limit, the last device under a requirement).
 * Run with `runScript` (EVALSHA, then EVAL once per server).
 */
import { resealJson, script } from './redis-scripts.ts';

/** Lua counting the `d:` (device) fields of the record hash `key` into `devices`. */
function countDevices(key: string): string {
  return `local devices = 0
for _, f in ipairs(redis.call('HKEYS', ${key})) do
  if string.sub(f, 1, 2) == 'd:' then devices = devices + 1 end
end`;
}

/**
 * KEYS: record. ARGV: device id, maxDevices, stored device (JSON), name,
 * last use ('' for none), passkey signature counter ('' for an authenticator
 * app). Counts and adds in one step, so parallel confirmations cannot link
 * more than maxDevices; re-adding an id replaces it. Returns added | added-first | full.
 */
export const ADD_DEVICE = script(`
local id = ARGV[1]
${countDevices('KEYS[1]')}
local exists = redis.call('HEXISTS', KEYS[1], 'd:' .. id) == 1
if not exists and devices >= tonumber(ARGV[2]) then return 'full' end
redis.call('HSET', KEYS[1], 'd:' .. id, ARGV[3], 'n:' .. id, ARGV[4])
-- A re-added id must not inherit the old device's last use.
if ARGV[5] == '' then redis.call('HDEL', KEYS[1], 'u:' .. id) else redis.call('HSET', KEYS[1], 'u:' .. id, ARGV[5]) end
if ARGV[6] == '' then redis.call('HDEL', KEYS[1], 'c:' .. id) else redis.call('HSET', KEYS[1], 'c:' .. id, ARGV[6]) end
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
redis.call('HDEL', KEYS[1], 'd:' .. id, 'n:' .. id, 'u:' .. id, 'c:' .. id)
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
 * KEYS: record. ARGV: device id, new signature counter. WebAuthn's rule in
 * one step: when the stored or the new counter is not 0, the new one must be
 * greater. Returns advanced | regressed | missing.
 */
export const ADVANCE_COUNTER = script(`
if redis.call('HEXISTS', KEYS[1], 'd:' .. ARGV[1]) == 0 then return 'missing' end
local stored = tonumber(redis.call('HGET', KEYS[1], 'c:' .. ARGV[1])) or 0
local new = tonumber(ARGV[2])
if (stored ~= 0 or new ~= 0) and new <= stored then return 'regressed' end
redis.call('HSET', KEYS[1], 'c:' .. ARGV[1], ARGV[2])
return 'advanced'
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

/**
 * KEYS: record. ARGV: device id, the sealed secret read, its re-sealed form.
 * Key rotation (`koa-two-factor rotate-keys`) while the app serves: the new
 * box is written only if `d:<id>` still holds the secret read, so a device
 * replaced or removed meanwhile is never overwritten with an old secret.
 * Returns resealed | changed | missing (a `ResealOutcome`).
 */
export const RESEAL_DEVICE = script(`
local raw = redis.call('HGET', KEYS[1], 'd:' .. ARGV[1])
if not raw then return 'missing' end
${resealJson('raw', 'ARGV[2]', 'ARGV[3]')}
if not resealed then return 'changed' end
redis.call('HSET', KEYS[1], 'd:' .. ARGV[1], resealed)
return 'resealed'
`);
