/**
 * The record store's Lua: each one reads and changes one user's record hash
 * atomically (device count and limit, the last device under a requirement).
 * Run with `runScript` (EVALSHA, then EVAL once per server).
 *
 * The record's layout (see `RedisKeys.record`): each device is a few short
 * fields (`t:<id>` marks it and holds its creation time), so the hash stays
 * in Redis' compact listpack encoding. Records written before 0.2 kept a
 * device as one JSON field `d:<id>`; every script first converts such a
 * record (`MIGRATE`), and the layout field `v` = 2 says it is done.
 */
import { script } from './redis-scripts.ts';

/** The record's layout version, in field `v`. */
export const RECORD_LAYOUT = '2';

/**
 * Lua converting KEYS[1] from the layout before 0.2 (`d:<id>` JSON), once:
 * `d:<id>` → `s:<id>` (an authenticator app's sealed secret) or `k:<id>` (a
 * passkey's credential, JSON), plus `t:<id>` (created at). An absent record
 * stays absent.
 */
const MIGRATE = `if redis.call('HGET', KEYS[1], 'v') ~= '${RECORD_LAYOUT}' and redis.call('EXISTS', KEYS[1]) == 1 then
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(f, 1, 2) == 'd:' then
      local id = string.sub(f, 3)
      local d = cjson.decode(redis.call('HGET', KEYS[1], f))
      if type(d.passkey) == 'table' then
        redis.call('HSET', KEYS[1], 'k:' .. id, cjson.encode(d.passkey))
      else
        redis.call('HSET', KEYS[1], 's:' .. id, d.sealedSecret)
      end
      redis.call('HSET', KEYS[1], 't:' .. id, string.format('%d', d.createdAt))
      redis.call('HDEL', KEYS[1], f)
    end
  end
  redis.call('HSET', KEYS[1], 'v', '${RECORD_LAYOUT}')
end`;

/** Lua counting the devices (`t:` fields) of KEYS[1] into `devices`. */
const COUNT_DEVICES = `local devices = 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 2) == 't:' then devices = devices + 1 end
end`;

/** Lua: return `missing` unless device ARGV[1] exists. */
const REQUIRE_DEVICE = `if redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[1]) == 0 then return 'missing' end`;

/**
 * KEYS: record. ARGV: device id, maxDevices, kind (`s`: an authenticator
 * app, `k`: a passkey), its sealed secret or credential JSON, created at,
 * name, last use ('' for none), passkey signature counter ('' for an
 * authenticator app). Counts and adds in one step, so parallel confirmations
 * cannot link more than maxDevices; re-adding an id replaces it. Returns
 * added | added-first | full.
 */
export const ADD_DEVICE = script(`
${MIGRATE}
local id = ARGV[1]
${COUNT_DEVICES}
local exists = redis.call('HEXISTS', KEYS[1], 't:' .. id) == 1
if not exists and devices >= tonumber(ARGV[2]) then return 'full' end
redis.call('HDEL', KEYS[1], 's:' .. id, 'k:' .. id)
redis.call('HSET', KEYS[1], 'v', '${RECORD_LAYOUT}', ARGV[3] .. ':' .. id, ARGV[4], 't:' .. id, ARGV[5], 'n:' .. id, ARGV[6])
-- A re-added id must not inherit the old device's last use.
if ARGV[7] == '' then redis.call('HDEL', KEYS[1], 'u:' .. id) else redis.call('HSET', KEYS[1], 'u:' .. id, ARGV[7]) end
if ARGV[8] == '' then redis.call('HDEL', KEYS[1], 'c:' .. id) else redis.call('HSET', KEYS[1], 'c:' .. id, ARGV[8]) end
if devices == 0 then return 'added-first' end
return 'added'
`);

/**
 * KEYS: record. ARGV: device id, keepLast (1/0). Removes the device unless it
 * is the only one and keepLast is set; the last one takes the backup codes
 * with it. Returns removed | removed-last | missing | kept-last.
 */
export const REMOVE_DEVICE = script(`
${MIGRATE}
local id = ARGV[1]
${REQUIRE_DEVICE}
${COUNT_DEVICES}
if devices == 1 and ARGV[2] == '1' then return 'kept-last' end
redis.call('HDEL', KEYS[1], 's:' .. id, 'k:' .. id, 't:' .. id, 'n:' .. id, 'u:' .. id, 'c:' .. id)
if devices > 1 then return 'removed' end
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(f, 1, 2) == 'b:' then redis.call('HDEL', KEYS[1], f) end
end
return 'removed-last'
`);

/** KEYS: record. ARGV: device id, field prefix (n: or u:), value. Sets it only while the device exists: 1, else 0. */
export const SET_DEVICE_FIELD = script(`
${MIGRATE}
if redis.call('HEXISTS', KEYS[1], 't:' .. ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2] .. ARGV[1], ARGV[3])
return 1
`);

/**
 * KEYS: record. ARGV: device id, new signature counter. WebAuthn's rule in
 * one step: when the stored or the new counter is not 0, the new one must be
 * greater. Returns advanced | regressed | missing.
 */
export const ADVANCE_COUNTER = script(`
${MIGRATE}
${REQUIRE_DEVICE}
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
${MIGRATE}
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
 * box is written only if `s:<id>` still holds the secret read, so a device
 * replaced or removed meanwhile is never overwritten with an old secret.
 * Returns resealed | changed | missing (a `ResealOutcome`).
 */
export const RESEAL_DEVICE = script(`
${MIGRATE}
local stored = redis.call('HGET', KEYS[1], 's:' .. ARGV[1])
if not stored then return 'missing' end
if ARGV[2] == '' or stored ~= ARGV[2] then return 'changed' end
redis.call('HSET', KEYS[1], 's:' .. ARGV[1], ARGV[3])
return 'resealed'
`);
