/**
 * The Lua scripts of the Redis inbox store. Each touches the keys of one user only, all under the user's
 * hash tag `{i:<user>}`, so each is atomic on Redis Cluster too. Every script gets the same KEYS:
 *
 *   1 `:m` the messages, a stream with entry ids `<seq>-0` and fields r (the id's random part), d (JSON),
 *     s (size), t (time stored), e (expiry), a (max attempts); the message id is `<seq>.<r>`
 *   2 `:h` counters: q (last seq), b (payload bytes held), and `r:<r>` -> seq of each message held
 *     (the sweep indexes name messages by user and random part: known before the seq is)
 *   3 `:d` devices: device -> last seen (ms)
 *   4 `:l` dead letters, oldest first: a list of JSON arrays (see {@link parseDeadLetter})
 *   5 `:k:` the prefix of each message's state hash `:k:<seq>`: `n:<device>` attempts, `a:<device>` acked,
 *     c (devices that acked), u (reported undelivered). Built in the script from this declared prefix: it
 *     shares the user's slot, so Cluster serves it.
 *   6 (deliver only, optional) the idempotency key
 *
 * and ARGV 1-3: now (ms), deviceTtlMs, maxDeadLetters; each script's own arguments follow.
 * Times are the caller's `now`, never Redis's clock, so every node and the tests agree on them.
 */
import { RedisScript } from '../redis/redis-scripts.js';
import type { DeadLetter, DeadLetterReason } from './inbox-store.js';

/*
 * Shared helpers, in pieces: each script takes only the ones it calls, since Redis runs the definitions of
 * every helper a script holds on each call (a measurable part of a small script's cost).
 */
/** Arguments, dead-letter bookkeeping and entry parsing: every script. */
const HEAD = `local now = tonumber(ARGV[1])
local deviceTtl = tonumber(ARGV[2])
local maxDead = tonumber(ARGV[3])
local letters = {}
local dropped = 0

local function fields(raw)
  local t = {}
  for i = 1, #raw, 2 do t[raw[i]] = raw[i + 1] end
  return t
end

local function seqOf(eid) return string.sub(eid, 1, string.find(eid, '-', 1, true) - 1) end

local function state(seq) return KEYS[5] .. seq end
`;

/** `find(id)`: the message with that id. */
const FIND = `
-- The message with id '<seq>.<r>', or nil (never stored, another user's, gone).
local function find(id)
  local seq, r = string.match(id, '^(%d+)%.(.+)$')
  if not seq then return nil end
  local found = redis.call('XRANGE', KEYS[1], seq .. '-0', seq .. '-0')
  if #found == 0 then return nil end
  local f = fields(found[1][2])
  if f.r ~= r then return nil end
  return seq, f
end

-- The message whose id ends in '.<r>' (what the sweep indexes hold), or nil.
local function byRandom(r)
  local seq = redis.call('HGET', KEYS[2], 'r:' .. r)
  if not seq then return nil end
  return find(seq .. '.' .. r)
end
`;

/** `attempts(seq)`: the most attempts any device made. */
const ATTEMPTS = `
-- The most attempts any device made.
local function attempts(seq)
  local most = 0
  local all = redis.call('HGETALL', state(seq))
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 2) == 'n:' then most = math.max(most, tonumber(all[i + 1])) end
  end
  return most
end
`;

/** `remove`, `bury` (to the dead letters), `trim` (to maxDeadLetters). */
const BURY = `
local function remove(seq, f)
  redis.call('XDEL', KEYS[1], seq .. '-0')
  redis.call('DEL', state(seq))
  redis.call('HDEL', KEYS[2], 'r:' .. f.r)
  redis.call('HINCRBY', KEYS[2], 'b', -tonumber(f.s))
end

-- Move a message to the dead letters: {id, json, time, deadAt, reason, attempts, device, maxAttempts, size}.
local function bury(seq, f, reason, tries, device)
  local letter = cjson.encode({seq .. '.' .. f.r, f.d, f.t, tostring(now), reason, tostring(tries), device or '', f.a, f.s})
  redis.call('RPUSH', KEYS[4], letter)
  letters[#letters + 1] = letter
  remove(seq, f)
end

-- Drop the oldest dead letters past maxDeadLetters, counting them.
local function trim()
  local len = redis.call('LLEN', KEYS[4])
  if len > maxDead then
    redis.call('LTRIM', KEYS[4], len - maxDead, -1)
    dropped = dropped + len - maxDead
  end
end
`;

/** `known()` devices and `done(seq, devices)`. */
const KNOWN = `
-- The devices seen within deviceTtlMs.
local function known()
  local out = {}
  local all = redis.call('HGETALL', KEYS[3])
  for i = 1, #all, 2 do
    if tonumber(all[i + 1]) > now - deviceTtl then out[#out + 1] = all[i] end
  end
  return out
end

-- Acked by some device, and by every known one: the message leaves.
local function done(seq, devices)
  local st = state(seq)
  if tonumber(redis.call('HGET', st, 'c') or '0') == 0 then return false end
  for _, d in ipairs(devices) do
    if redis.call('HEXISTS', st, 'a:' .. d) == 0 then return false end
  end
  return true
end
`;

/** `room(size, evict)` and `append` (needs BURY and ATTEMPTS). */
const ROOM = `
-- Whether a message of 'size' bytes fits (ARGV[4] maxMessages, ARGV[5] maxBytes), evicting the oldest
-- to dead letters when 'evict' allows; nothing is evicted for a message that could never fit.
local function room(size, evict)
  local maxMessages, maxBytes = tonumber(ARGV[4]), tonumber(ARGV[5])
  if size > maxBytes or maxMessages < 1 then return false end
  local count = redis.call('XLEN', KEYS[1])
  local bytes = tonumber(redis.call('HGET', KEYS[2], 'b') or '0')
  while count + 1 > maxMessages or bytes + size > maxBytes do
    if not evict then return false end
    local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
    if not first then return false end
    local seq, f = seqOf(first[1]), fields(first[2])
    bury(seq, f, 'evicted', attempts(seq))
    count = count - 1
    bytes = bytes - tonumber(f.s)
  end
  return true
end

local function append(r, json, size, time, expiresAt, maxAttempts)
  local seq = redis.call('HINCRBY', KEYS[2], 'q', 1)
  redis.call('XADD', KEYS[1], seq .. '-0', 'r', r, 'd', json, 's', size, 't', time, 'e', expiresAt, 'a', maxAttempts)
  redis.call('HINCRBY', KEYS[2], 'b', size)
  redis.call('HSET', KEYS[2], 'r:' .. r, seq)
  return seq
end
`;

/** `letterPrefix(id)`. */
const LETTER = `
-- '["<id>",': how a dead letter's JSON starts.
local function letterPrefix(id)
  local encoded = cjson.encode({id})
  return string.sub(encoded, 1, -2) .. ','
end
`;

/**
 * Store a message, unless the idempotency key (KEYS[6]) names one stored within the window.
 * ARGV 4.. maxMessages, maxBytes, '1' to evict the oldest when full, r, json, size, expiresAt,
 * maxAttempts, idempotency window (ms).
 * Returns `{0, seq, letters, dropped}`, `{1, prior, json?}` for a duplicate (prior: JSON
 * `[id, seq, time, expiresAt, maxAttempts, until]`, json while the message is still held), or `{2}` (full).
 */
export const DELIVER = new RedisScript('inbox deliver', deliverSource(false));

/**
 * DELIVER on a standalone Redis (every key on one server): it also adds the message to the sweep indexes,
 * KEYS 6 (by expiry) and 7 (by time stored); the idempotency key is KEYS 8. ARGV 13: the index member.
 */
export const DELIVER_INDEXED = new RedisScript('inbox deliver', deliverSource(true));

function deliverSource(indexed: boolean): string {
  const idem = indexed ? 'KEYS[8]' : 'KEYS[6]';
  const index = indexed
    ? `redis.call('ZADD', KEYS[6], ARGV[10], ARGV[13])
redis.call('ZADD', KEYS[7], ARGV[1], ARGV[13])
`
    : '';
  return `${HEAD}${FIND}${ATTEMPTS}${BURY}${ROOM}
if ${idem} then
  local seen = redis.call('GET', ${idem})
  if seen then
    local prior = cjson.decode(seen)
    if tonumber(prior[6]) > now then
      local seq, f = find(prior[1])
      return {1, seen, f and f.d or false}
    end
  end
end
if not room(tonumber(ARGV[9]), ARGV[6] == '1') then trim() return {2} end
local seq = append(ARGV[7], ARGV[8], ARGV[9], ARGV[1], ARGV[10], ARGV[11])
${index}if ${idem} then
  local window = tonumber(ARGV[12])
  local prior = {seq .. '.' .. ARGV[7], tostring(seq), ARGV[1], ARGV[10], ARGV[11], tostring(now + window)}
  redis.call('SET', ${idem}, cjson.encode(prior), 'PX', math.max(1, window))
end
trim()
return {0, seq, letters, dropped}
`;
}

/**
 * The device is in use now; devices unseen for deviceTtlMs are forgotten, and then the messages every
 * remaining device acked leave. ARGV 4: device. Returns the ids of the messages that left.
 */
export const TOUCH = new RedisScript(
  'inbox touch',
  `${HEAD}${BURY}${KNOWN}
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
local forgot = false
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now - deviceTtl then
    redis.call('HDEL', KEYS[3], all[i])
    forgot = true
  end
end
local gone = {}
if forgot then
  local devices = known()
  local start = '-'
  repeat
    local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 100)
    for i = 1, #batch do
      local seq = seqOf(batch[i][1])
      if done(seq, devices) then
        local f = fields(batch[i][2])
        remove(seq, f)
        gone[#gone + 1] = seq .. '.' .. f.r
      end
      start = '(' .. batch[i][1]
    end
  until #batch < 100
end
return gone
`,
);

/**
 * The device's next messages after a seq: not expired, not acked by the device.
 * ARGV 4.. device, afterSeq, limit. Returns `{{seq, r, json, time, expiresAt, maxAttempts, attempts}...}`.
 */
export const PENDING = new RedisScript(
  'inbox pending',
  `${HEAD}
local device, limit = ARGV[4], tonumber(ARGV[6])
local out = {}
local start = (tonumber(ARGV[5]) + 1) .. '-0'
while #out < limit do
  local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', limit)
  for i = 1, #batch do
    local seq, f = seqOf(batch[i][1]), fields(batch[i][2])
    if #out < limit and tonumber(f.e) > now then
      local s = redis.call('HMGET', state(seq), 'a:' .. device, 'n:' .. device)
      if not s[1] then out[#out + 1] = {seq, f.r, f.d, f.t, f.e, f.a, s[2] or '0'} end
    end
    start = '(' .. batch[i][1]
  end
  if #batch < limit then break end
end
return out
`,
);

/**
 * PENDING and ATTEMPT in one call: the device's next messages, each attempt counted (not for a message
 * whose attempts are spent: it comes back with attempts + 1, past its maximum). ARGV 4.. device, afterSeq,
 * limit. Returns `{{seq, r, json, time, expiresAt, maxAttempts, attempts}...}`, attempts including this one.
 */
export const TAKE = new RedisScript(
  'inbox take',
  `${HEAD}
local device, limit = ARGV[4], tonumber(ARGV[6])
local out = {}
local start = (tonumber(ARGV[5]) + 1) .. '-0'
while #out < limit do
  local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', limit)
  for i = 1, #batch do
    local seq, f = seqOf(batch[i][1]), fields(batch[i][2])
    if #out < limit and tonumber(f.e) > now then
      local st = state(seq)
      local s = redis.call('HMGET', st, 'a:' .. device, 'n:' .. device)
      if not s[1] then
        local n = tonumber(s[2] or '0')
        if n < tonumber(f.a) then n = redis.call('HINCRBY', st, 'n:' .. device, 1) else n = n + 1 end
        out[#out + 1] = {seq, f.r, f.d, f.t, f.e, f.a, tostring(n)}
      end
    end
    start = '(' .. batch[i][1]
  end
  if #batch < limit then break end
end
return out
`,
);

/** Count one attempt. ARGV 4.. device, id. Returns the attempts so far, or 0 when the message is gone. */
export const ATTEMPT = new RedisScript(
  'inbox attempt',
  `${HEAD}${FIND}
local seq = find(ARGV[5])
if not seq then return 0 end
return redis.call('HINCRBY', state(seq), 'n:' .. ARGV[4], 1)
`,
);

/**
 * The device acked a message (and is seen now); it leaves once every known device acked it.
 * ARGV 4.. device, id. Returns `{0}` (unknown) or `{1, left, firstAck}`.
 */
export const ACK = new RedisScript('inbox ack', ackSource(false));

/**
 * ACK on a standalone Redis: it also removes the message from the sweep indexes (KEYS 6 and 7) as it
 * leaves, or from the undelivered one (KEYS 7) on its first ack. ARGV 6: the index member.
 */
export const ACK_INDEXED = new RedisScript('inbox ack', ackSource(true));

function ackSource(indexed: boolean): string {
  const left = indexed ? `redis.call('ZREM', KEYS[6], ARGV[6]) redis.call('ZREM', KEYS[7], ARGV[6])\n  ` : '';
  const first = indexed ? `if first == 1 then redis.call('ZREM', KEYS[7], ARGV[6]) end\n` : '';
  return `${HEAD}${FIND}${BURY}${KNOWN}
local seq, f = find(ARGV[5])
if not seq then return {0} end
local st = state(seq)
local first = 0
if redis.call('HSETNX', st, 'a:' .. ARGV[4], 1) == 1 and redis.call('HINCRBY', st, 'c', 1) == 1 then first = 1 end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[1])
if done(seq, known()) then
  remove(seq, f)
  ${left}return {1, 1, first}
end
${first}return {1, 0, first}
`;
}

/**
 * Move a message to the dead letters. ARGV 4.. id, reason, device or ''. Returns `{letters, dropped}`.
 */
export const DEAD_LETTER = new RedisScript(
  'inbox dead letter',
  `${HEAD}${FIND}${ATTEMPTS}${BURY}
local seq, f = find(ARGV[4])
if not seq then return {{}, 0} end
local device = ARGV[6]
local tries
if device ~= '' then
  tries = tonumber(redis.call('HGET', state(seq), 'n:' .. device) or '0')
else
  tries = attempts(seq)
end
bury(seq, f, ARGV[5], tries, device)
trim()
return {letters, dropped}
`,
);

/**
 * Remove the given messages whose expiry has passed: acked by some device they just leave, else they
 * become dead letters ('expired'). ARGV 4..: the random parts of their ids. Returns `{letters, dropped}`.
 */
export const EXPIRE = new RedisScript(
  'inbox expire',
  `${HEAD}${FIND}${ATTEMPTS}${BURY}
for i = 4, #ARGV do
  local seq, f = byRandom(ARGV[i])
  if seq and tonumber(f.e) <= now then
    if tonumber(redis.call('HGET', state(seq), 'c') or '0') > 0 then remove(seq, f)
    else bury(seq, f, 'expired', attempts(seq)) end
  end
end
trim()
return {letters, dropped}
`,
);

/**
 * Of the given messages, those stored by `before` that no device acked and no caller was given yet: marked
 * reported and returned. ARGV 4..: before, the random parts of their ids. Returns `{{seq, r, json, time, expiresAt, maxAttempts}...}`.
 */
export const UNDELIVERED = new RedisScript(
  'inbox undelivered',
  `${HEAD}${FIND}
local out = {}
for i = 5, #ARGV do
  local seq, f = byRandom(ARGV[i])
  if seq and tonumber(f.t) <= tonumber(ARGV[4]) then
    local st = state(seq)
    local s = redis.call('HMGET', st, 'c', 'u')
    if tonumber(s[1] or '0') == 0 and not s[2] then
      redis.call('HSET', st, 'u', 1)
      out[#out + 1] = {seq, f.r, f.d, f.t, f.e, f.a}
    end
  end
end
return out
`,
);

/**
 * Put a dead letter back as a new message (refused when the inbox is full, whatever whenFull says: the
 * letter stays). ARGV 4.. maxMessages, maxBytes, id, r, ttlMs.
 * Returns `{0, seq, json, maxAttempts, expiresAt}`, `{2}` (full) or `{3}` (no such dead letter).
 */
export const REDELIVER = new RedisScript(
  'inbox redeliver',
  `${HEAD}${ATTEMPTS}${BURY}${ROOM}${LETTER}
local prefix = letterPrefix(ARGV[6])
for _, s in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  if string.sub(s, 1, #prefix) == prefix then
    local l = cjson.decode(s)
    if not room(tonumber(l[9]), false) then return {2} end
    redis.call('LREM', KEYS[4], 1, s)
    local expiresAt = tostring(now + tonumber(ARGV[8]))
    local seq = append(ARGV[7], l[2], l[9], ARGV[1], expiresAt, l[8])
    return {0, seq, l[2], l[8], expiresAt}
  end
end
return {3}
`,
);

/** Delete a dead letter. ARGV 4: id. Returns 1, or 0 when there was none. */
export const DELETE_DEAD_LETTER = new RedisScript(
  'inbox delete dead letter',
  `${HEAD}${LETTER}
local prefix = letterPrefix(ARGV[4])
for _, s in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
  if string.sub(s, 1, #prefix) == prefix then return redis.call('LREM', KEYS[4], 1, s) end
end
return 0
`,
);

/**
 * A dead letter as the scripts store it (inbox and queues alike): a JSON array `[id, json, time, deadAt,
 * reason, attempts, device or '', maxAttempts, size or ttl]`, numbers as strings.
 */
export function parseDeadLetter(stored: string): DeadLetter {
  const [id, json, time, deadAt, reason, attempts, device] = JSON.parse(stored) as string[];
  return {
    id: id ?? '',
    json: json ?? 'null',
    time: Number(time),
    deadAt: Number(deadAt),
    reason: (reason ?? 'expired') as DeadLetterReason,
    attempts: Number(attempts),
    ...(device === undefined || device === '' ? {} : { device }),
  };
}
