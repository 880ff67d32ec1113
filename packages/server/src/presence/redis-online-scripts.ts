/**
 * The Lua scripts of the Redis online store. Each touches one user's hash (one slot), or the node
 * liveness set alone: atomic on a cluster too. Hash fields: `n:<nodeId>` (1 while the node holds a
 * connection of the user), `e` (epoch: bumped when the user goes from no connection to one), `s` (Redis
 * time in ms when the last connection anywhere closed), `c` (the last epoch claimed).
 */
import { RedisScript } from '../redis/redis-scripts.js';

const NOW = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
`;

/** Whether any node still holds a connection of the user. */
const HELD = `
local function held()
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, 2) == 'n:' then return true end
  end
  return false
end
`;

/** This node holds the user: KEYS user hash; ARGV node id. A first connection anywhere starts an epoch. */
export const ONLINE = new RedisScript(
  'online',
  `${HELD}
local others = held()
local added = redis.call('HSET', KEYS[1], 'n:' .. ARGV[1], 1)
redis.call('PERSIST', KEYS[1])
if added == 1 and not others then
  redis.call('HINCRBY', KEYS[1], 'e', 1)
  redis.call('HDEL', KEYS[1], 's')
end
return 0
`,
);

/**
 * This node no longer holds the user: KEYS user hash; ARGV node id. Returns the epoch when no node holds
 * it any more (and records since when), else -1.
 */
export const OFFLINE = new RedisScript(
  'offline',
  `${NOW}${HELD}
redis.call('HDEL', KEYS[1], 'n:' .. ARGV[1])
if held() then return -1 end
redis.call('HSET', KEYS[1], 's', now)
return tonumber(redis.call('HGET', KEYS[1], 'e')) or 0
`,
);

/**
 * Claim a transition: KEYS user hash; ARGV epoch, grace (ms), how long the hash outlives a claim (ms).
 * Returns { 1 } fire, { 0 } none, { 2, ms } wait.
 */
export const CLAIM = new RedisScript(
  'offline claim',
  `${NOW}${HELD}
if held() then return { 0 } end
local epoch = tonumber(redis.call('HGET', KEYS[1], 'e')) or 0
if epoch ~= tonumber(ARGV[1]) then return { 0 } end
if tonumber(redis.call('HGET', KEYS[1], 'c')) == epoch then return { 0 } end
local since = tonumber(redis.call('HGET', KEYS[1], 's'))
if since == nil then return { 0 } end
local wait = since + tonumber(ARGV[2]) - now
if wait > 0 then return { 2, wait } end
redis.call('HSET', KEYS[1], 'c', epoch)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return { 1 }
`,
);

/**
 * A dead node no longer holds the user: KEYS user hash; ARGV the dead node's id. When no node holds the
 * user and its transition is unclaimed, returns { 1, epoch, offline for (ms) }; else { 0 }.
 */
export const ORPHAN = new RedisScript(
  'offline orphan',
  `${NOW}${HELD}
if redis.call('EXISTS', KEYS[1]) == 0 then return { 0 } end
redis.call('HDEL', KEYS[1], 'n:' .. ARGV[1])
if held() then return { 0 } end
local epoch = tonumber(redis.call('HGET', KEYS[1], 'e')) or 0
if tonumber(redis.call('HGET', KEYS[1], 'c')) == epoch then return { 0 } end
local since = tonumber(redis.call('HGET', KEYS[1], 's'))
if since == nil then
  since = now
  redis.call('HSET', KEYS[1], 's', now)
end
return { 1, epoch, now - since }
`,
);

/**
 * This node is alive: KEYS node liveness set; ARGV node id, window (ms), how long the set outlives this
 * refresh (ms). Returns { was this node absent or expired (1/0), the ids of the other nodes past their
 * expiry... }.
 */
export const ALIVE = new RedisScript(
  'online alive',
  `${NOW}
local was = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
local out = { (was == nil or was <= now) and 1 or 0 }
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  if id ~= ARGV[1] then out[#out + 1] = id end
end
return out
`,
);
