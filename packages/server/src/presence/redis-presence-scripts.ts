/**
 * The Lua scripts of {@link RedisPresenceStore}. Every script works on one channel's three keys, which
 * share the channel's hash tag (one slot on a cluster):
 *
 * - KEYS[1] members: member key -> member JSON (`{ userId, connectionId?, info? }`);
 * - KEYS[2] counts: `<nodeId>|<member key>` -> connections of the member on that node;
 * - KEYS[3] nodes: a sorted set, node id -> the time (ms) its entries expire unless it refreshes them.
 *
 * ARGV[1] is the calling node's id, ARGV[2] the presence TTL (ms), ARGV[3] the keys' own TTL (ms).
 *
 * Each script first forgets the nodes past their expiry and reports the members left with no connection
 * on any live node (`{ key, json, key, json, ... }`), so the caller can announce their departure. Time
 * is Redis's (`TIME`), one clock for every node of the deployment; scripts replicate by effects (the
 * default since Redis 5, the only mode since 7), so reading it before writing is allowed.
 */
import { RedisScript } from '../redis/redis-scripts.js';

const PRELUDE = `
local members, counts, nodes = KEYS[1], KEYS[2], KEYS[3]
local node, ttl, keyTtl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function append(list, more)
  for i = 1, #more do list[#list + 1] = more[i] end
  return list
end

-- Delete the count fields of the nodes in the set gone; members left with no connection on any other
-- node lose their member entry too and are returned as {key, json, ...}.
local function drop(gone)
  local fields = redis.call('HGETALL', counts)
  local touched, kept = {}, {}
  for i = 1, #fields, 2 do
    local field = fields[i]
    local bar = string.find(field, '|', 1, true)
    if bar then
      local key = string.sub(field, bar + 1)
      if gone[string.sub(field, 1, bar - 1)] then
        redis.call('HDEL', counts, field)
        touched[key] = true
      else
        kept[key] = true
      end
    end
  end
  local left = {}
  for key in pairs(touched) do
    if not kept[key] then
      local member = redis.call('HGET', members, key)
      redis.call('HDEL', members, key)
      if member then
        left[#left + 1] = key
        left[#left + 1] = member
      end
    end
  end
  return left
end

-- Forget the nodes whose entries expired (crashed, or cut off from Redis for longer than the TTL).
local function expire()
  local dead = redis.call('ZRANGEBYSCORE', nodes, '-inf', now)
  if #dead == 0 then return {} end
  local gone = {}
  for _, id in ipairs(dead) do
    gone[id] = true
    redis.call('ZREM', nodes, id)
  end
  return drop(gone)
end

-- The member's connections across the live nodes.
local function total(key)
  local live = redis.call('ZRANGE', nodes, 0, -1)
  if #live == 0 then return 0 end
  local fields = {}
  for i, id in ipairs(live) do fields[i] = id .. '|' .. key end
  local sum = 0
  for _, n in ipairs(redis.call('HMGET', counts, unpack(fields))) do sum = sum + (tonumber(n) or 0) end
  return sum
end

-- Per member key, its connections across the live nodes, and the keys in first-seen order.
local function tally()
  local live = {}
  for _, id in ipairs(redis.call('ZRANGE', nodes, 0, -1)) do live[id] = true end
  local fields = redis.call('HGETALL', counts)
  local totals, order = {}, {}
  for i = 1, #fields, 2 do
    local field = fields[i]
    local bar = string.find(field, '|', 1, true)
    if bar and live[string.sub(field, 1, bar - 1)] then
      local key = string.sub(field, bar + 1)
      if not totals[key] then
        totals[key] = 0
        order[#order + 1] = key
      end
      totals[key] = totals[key] + (tonumber(fields[i + 1]) or 0)
    end
  end
  return totals, order
end

-- Push this node's expiry forward; 1 when the node was not there (its entries had expired or Redis lost
-- them), so the caller knows to restore them.
local function refresh()
  return redis.call('ZADD', nodes, now + ttl, node)
end

-- Keys outlive their last refresh by keyTtl, so a channel whose every node died vanishes too.
local function keep()
  redis.call('PEXPIRE', members, keyTtl)
  redis.call('PEXPIRE', counts, keyTtl)
  redis.call('PEXPIRE', nodes, keyTtl)
end
`;

function script(name: string, body: string): RedisScript {
  return new RedisScript(`presence ${name}`, `${PRELUDE}\n${body}`);
}

/**
 * One more connection: ARGV[4] member key, ARGV[5] member JSON (kept from the member's first connection,
 * as the memory store does). Returns `{ total, fresh, left }`: the member's connections across nodes,
 * whether this node had to be re-registered, the members that expired.
 */
export const ADD = script(
  'add',
  `
local left = expire()
local key = ARGV[4]
local fresh = refresh()
redis.call('HINCRBY', counts, node .. '|' .. key, 1)
redis.call('HSETNX', members, key, ARGV[5])
keep()
return { total(key), fresh, left }
`,
);

/**
 * One connection fewer: ARGV[4] member key; ARGV[5] `1` when it was this node's last member in the
 * channel, which withdraws the node from it (with any entry of it the node no longer knows about).
 * Returns `{ total, fresh, left }` as {@link ADD} does.
 */
export const REMOVE = script(
  'remove',
  `
local left = expire()
local key = ARGV[4]
local field = node .. '|' .. key
local n = tonumber(redis.call('HGET', counts, field)) or 0
if n > 1 then
  redis.call('HINCRBY', counts, field, -1)
elseif n == 1 then
  redis.call('HDEL', counts, field)
end
local fresh = 0
if ARGV[5] == '1' then
  local stray = drop({ [node] = true })
  for i = 1, #stray, 2 do
    if stray[i] ~= key then append(left, { stray[i], stray[i + 1] }) end
  end
  redis.call('ZREM', nodes, node)
else
  fresh = refresh()
end
local sum = total(key)
if sum == 0 then redis.call('HDEL', members, key) end
keep()
return { sum, fresh, left }
`,
);

/** Push this node's expiry forward. Returns `{ fresh, left }` (see {@link ADD}). */
export const REFRESH = script(
  'refresh',
  `
local left = expire()
local fresh = refresh()
keep()
return { fresh, left }
`,
);

/**
 * Make this node's entries exactly ARGV[4..] (triples: member key, member JSON, connections); none
 * withdraws the node from the channel. Repairs what an outage left unknown (a command that timed out, a
 * Redis that restarted empty, entries expired while this node was cut off). Returns `{ left }`.
 */
export const RESTORE = script(
  'restore',
  `
local left = expire()
local wanted = {}
for i = 4, #ARGV, 3 do wanted[ARGV[i]] = true end
local prefix = node .. '|'
local fields = redis.call('HGETALL', counts)
local stale = {}
for i = 1, #fields, 2 do
  local field = fields[i]
  if string.sub(field, 1, #prefix) == prefix then
    local key = string.sub(field, #prefix + 1)
    if not wanted[key] then
      redis.call('HDEL', counts, field)
      stale[#stale + 1] = key
    end
  end
end
if #ARGV >= 4 then
  refresh()
  for i = 4, #ARGV, 3 do
    redis.call('HSET', counts, prefix .. ARGV[i], ARGV[i + 2])
    redis.call('HSETNX', members, ARGV[i], ARGV[i + 1])
  end
else
  redis.call('ZREM', nodes, node)
end
for _, key in ipairs(stale) do
  if total(key) == 0 then
    local member = redis.call('HGET', members, key)
    redis.call('HDEL', members, key)
    if member then append(left, { key, member }) end
  end
end
keep()
return { left }
`,
);

/** The members with their connections across nodes. Returns `{ left, { json, connections, ... } }`. */
export const LIST = script(
  'list',
  `
local left = expire()
local totals, order = tally()
local entries = {}
for _, key in ipairs(order) do
  if totals[key] > 0 then
    local member = redis.call('HGET', members, key)
    if member then append(entries, { member, totals[key] }) end
  end
end
return { left, entries }
`,
);

/** Members and connections across nodes. Returns `{ left, users, connections }`. */
export const STATS = script(
  'stats',
  `
local left = expire()
local totals, order = tally()
local users, connections = 0, 0
for _, key in ipairs(order) do
  if totals[key] > 0 then
    users = users + 1
    connections = connections + totals[key]
  end
end
return { left, users, connections }
`,
);
