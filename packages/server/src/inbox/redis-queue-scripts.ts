/**
 * The Lua scripts of the Redis queue store. Each touches the keys of one queue only, all under the queue's
 * hash tag `{q:<queue>}`, so each is atomic on Redis Cluster too. Every script gets the same KEYS:
 *
 *   1 `:s` the jobs, a stream (XADD `*`) with fields r (the id's random part), d (JSON), t (time), a (max
 *     attempts), x (expiry, 0 for none), read through consumer group `g`; the job id is `<entry id>.<r>`
 *   2 `:t` lock tokens: entry id -> token of the claim holding it (absent: not held)
 *   3 `:n` attempts: entry id -> claims so far
 *   4 `:z` when each delivered entry is available again (a sorted set: lock expiry, nack delay, or now
 *     for a released job); entries never delivered are not in it, XREADGROUP `>` finds them
 *   5 `:l` dead letters, oldest first (the inbox's format: redis-inbox-scripts.ts)
 *   6 (enqueue only, optional) the idempotency key
 *
 * and ARGV 1-2: now (ms), maxDeadLetters; each script's own arguments follow.
 *
 * Why own lock times rather than XAUTOCLAIM's idle times: a lock's length is the claimer's (`lockMs`), a
 * nacked job comes back after its own delay, and every time is the caller's `now`; one sorted set says
 * when each delivered entry is available again, and XCLAIM moves it to its new consumer. The group's
 * pending entries list still says who holds what (release reads it), and the attempt count is kept in
 * `:n` because a redelivered dead letter is a new entry.
 */
import { RedisScript } from '../redis/redis-scripts.js';

const LIB = `
local now = tonumber(ARGV[1])
local maxDead = tonumber(ARGV[2])
local letters = {}
local dropped = 0

local function fields(raw)
  local t = {}
  for i = 1, #raw, 2 do t[raw[i]] = raw[i + 1] end
  return t
end

local function drop(eid)
  redis.call('XACK', KEYS[1], 'g', eid)
  redis.call('XDEL', KEYS[1], eid)
  redis.call('HDEL', KEYS[2], eid)
  redis.call('HDEL', KEYS[3], eid)
  redis.call('ZREM', KEYS[4], eid)
end

-- {id, json, time, deadAt, reason, attempts, device (none), maxAttempts, ttl (0: none)}
local function bury(eid, f, reason, tries)
  local ttl = '0'
  if f.x ~= '0' then ttl = tostring(tonumber(f.x) - tonumber(f.t)) end
  local letter = cjson.encode({eid .. '.' .. f.r, f.d, f.t, tostring(now), reason, tostring(tries), '', f.a, ttl})
  redis.call('RPUSH', KEYS[5], letter)
  letters[#letters + 1] = letter
  drop(eid)
end

local function trim()
  local len = redis.call('LLEN', KEYS[5])
  if len > maxDead then
    redis.call('LTRIM', KEYS[5], len - maxDead, -1)
    dropped = dropped + len - maxDead
  end
end

local function letterPrefix(id)
  local encoded = cjson.encode({id})
  return string.sub(encoded, 1, -2) .. ','
end

local function size()
  if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
  return redis.call('XLEN', KEYS[1])
end

local function add(r, json, maxAttempts, expiresAt)
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('XGROUP', 'CREATE', KEYS[1], 'g', '0', 'MKSTREAM') end
  local eid = redis.call('XADD', KEYS[1], '*', 'r', r, 'd', json, 't', ARGV[1], 'a', maxAttempts, 'x', expiresAt)
  return eid .. '.' .. r
end
`;

/**
 * Append a job unless the idempotency key (KEYS[6]) names one enqueued within the window.
 * ARGV 3.. r, json, maxAttempts, expiresAt (0: none), maxJobs, idempotency window (ms).
 * Returns `{0, id}`, `{1, id}` (duplicate) or `{2}` (full).
 */
export const ENQUEUE = new RedisScript(
  'queue enqueue',
  `${LIB}
if KEYS[6] then
  local seen = redis.call('GET', KEYS[6])
  if seen then
    local id, untilAt = string.match(seen, '^(%S+) (%d+)$')
    if id and tonumber(untilAt) > now then return {1, id} end
  end
end
if size() >= tonumber(ARGV[7]) then return {2} end
local id = add(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
if KEYS[6] then
  local window = tonumber(ARGV[8])
  redis.call('SET', KEYS[6], id .. ' ' .. tostring(now + window), 'PX', math.max(1, window))
end
return {0, id}
`,
);

/**
 * Claim up to `count` jobs for a consumer: first the delivered ones available again (XCLAIM), then new
 * ones (XREADGROUP '>'); each claim counts an attempt, and a job past its TTL or its attempts becomes a
 * dead letter instead. ARGV 3.. consumer, count, lockMs, nonce (the claim's tokens are `<nonce>.<attempt>`).
 * Returns `{{{entry id, r, json, time, attempt, maxAttempts, token}...}, letters, dropped}`.
 */
export const CLAIM = new RedisScript(
  'queue claim',
  `${LIB}
local consumer, count, nonce = ARGV[3], tonumber(ARGV[4]), ARGV[6]
local untilAt = now + math.max(1, tonumber(ARGV[5]))
local jobs = {}
if count < 1 or redis.call('EXISTS', KEYS[1]) == 0 then return {jobs, letters, dropped} end
local function take(eid, f)
  local n = redis.call('HINCRBY', KEYS[3], eid, 1)
  if f.x ~= '0' and tonumber(f.x) <= now then bury(eid, f, 'expired', n - 1) return end
  if n > tonumber(f.a) then bury(eid, f, 'max_attempts', n - 1) return end
  local token = nonce .. '.' .. n
  redis.call('HSET', KEYS[2], eid, token)
  redis.call('ZADD', KEYS[4], untilAt, eid)
  jobs[#jobs + 1] = {eid, f.r, f.d, f.t, tostring(n), f.a, token}
end
while #jobs < count do
  local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, count - #jobs)
  if #due == 0 then break end
  for _, eid in ipairs(due) do
    local claimed = redis.call('XCLAIM', KEYS[1], 'g', consumer, 0, eid)
    if claimed[1] and type(claimed[1][2]) == 'table' then take(eid, fields(claimed[1][2])) else drop(eid) end
  end
end
while #jobs < count do
  local read = redis.call('XREADGROUP', 'GROUP', 'g', consumer, 'COUNT', count - #jobs, 'STREAMS', KEYS[1], '>')
  if not read or not read[1] or #read[1][2] == 0 then break end
  for _, e in ipairs(read[1][2]) do take(e[1], fields(e[2])) end
end
trim()
return {jobs, letters, dropped}
`,
);

/** Done: remove the job if `token` holds it. ARGV 3.. entry id, token. Returns 1, or 0 (lock lost). */
export const ACK = new RedisScript(
  'queue ack',
  `${LIB}
if redis.call('HGET', KEYS[2], ARGV[3]) ~= ARGV[4] then return 0 end
drop(ARGV[3])
return 1
`,
);

/**
 * Give the job back if `token` holds it: available again at `availableAt` (it stays in the consumer's
 * pending entries until the next claim moves it). ARGV 3.. entry id, token, availableAt. Returns 1 or 0.
 */
export const NACK = new RedisScript(
  'queue nack',
  `${LIB}
if redis.call('HGET', KEYS[2], ARGV[3]) ~= ARGV[4] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[4], ARGV[5], ARGV[3])
return 1
`,
);

/**
 * The consumer left: every job it holds is available now; its pending entries (held or waiting for a
 * nack delay) move to the idle consumer '_', and the consumer is deleted from the group (so consumers do
 * not pile up, one per connection). ARGV 3: consumer. Returns how many jobs it held.
 */
export const RELEASE = new RedisScript(
  'queue release',
  `${LIB}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local released = 0
local owned = {}
local start = '-'
repeat
  local batch = redis.call('XPENDING', KEYS[1], 'g', start, '+', 100, ARGV[3])
  for _, p in ipairs(batch) do
    local eid = p[1]
    if redis.call('HEXISTS', KEYS[2], eid) == 1 then
      redis.call('HDEL', KEYS[2], eid)
      redis.call('ZADD', KEYS[4], now, eid)
      released = released + 1
    end
    owned[#owned + 1] = eid
    start = '(' .. eid
  end
until #batch < 100
for i = 1, #owned, 100 do
  redis.call('XCLAIM', KEYS[1], 'g', '_', 0, unpack(owned, i, math.min(i + 99, #owned)))
end
redis.call('XGROUP', 'DELCONSUMER', KEYS[1], 'g', ARGV[3])
return released
`,
);

/** Jobs in the queue and jobs held by a claim. Returns `{total, claimed}`. */
export const DEPTH = new RedisScript(
  'queue depth',
  `${LIB}
return {size(), redis.call('HLEN', KEYS[2])}
`,
);

/**
 * Put a dead letter back at the end with no attempts (its TTL, if it had one, counted from now); refused
 * when the queue is full (the letter stays). ARGV 3.. id, r, maxJobs. Returns `{0, id}`, `{2}` or `{3}`.
 */
export const REDELIVER = new RedisScript(
  'queue redeliver',
  `${LIB}
local prefix = letterPrefix(ARGV[3])
for _, s in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  if string.sub(s, 1, #prefix) == prefix then
    if size() >= tonumber(ARGV[5]) then return {2} end
    local l = cjson.decode(s)
    redis.call('LREM', KEYS[5], 1, s)
    local expiresAt = '0'
    if l[9] ~= '0' then expiresAt = tostring(now + tonumber(l[9])) end
    return {0, add(ARGV[4], l[2], l[8], expiresAt)}
  end
end
return {3}
`,
);

/** Delete a dead letter. ARGV 3: id. Returns 1, or 0 when there was none. */
export const DELETE_DEAD_LETTER = new RedisScript(
  'queue delete dead letter',
  `${LIB}
local prefix = letterPrefix(ARGV[3])
for _, s in ipairs(redis.call('LRANGE', KEYS[5], 0, -1)) do
  if string.sub(s, 1, #prefix) == prefix then return redis.call('LREM', KEYS[5], 1, s) end
end
return 0
`,
);
