/**
 * The Lua scripts of the Redis engine and how they run. Each script touches the keys of one Switchboard
 * channel only (one hash tag, so one Redis Cluster slot), which is what makes it atomic on a cluster too.
 *
 * Scripts run with EVALSHA and fall back to EVAL on NOSCRIPT (a restarted or failed-over Redis has an empty
 * script cache), which also caches the script again for the next call.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient } from './redis-connection.js';

/** A Lua script, run by its SHA1 digest. */
export class RedisScript {
  /** The SHA1 digest Redis caches the script under. */
  readonly sha: string;

  constructor(
    /** For error messages. */
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Run with `keys` (all in one slot) and `args`: EVALSHA, then EVAL when Redis does not know the script. */
  async run(
    client: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * A random epoch, offered to a script that creates a stream (used only when the stream has none yet), in
 * the memory store's format. Every publish and history read offers one and nearly all are thrown away, so
 * they come from a pool filled 512 at a time: one `getrandom` call instead of one per command (the call
 * was 3% of a busy node's CPU during a reconnect storm).
 */
export function candidateEpoch(): string {
  if (poolOffset + EPOCH_BYTES > pool.length) {
    pool = randomBytes(EPOCH_BYTES * 512);
    poolOffset = 0;
  }
  const epoch = pool.toString('base64url', poolOffset, poolOffset + EPOCH_BYTES);
  poolOffset += EPOCH_BYTES;
  return epoch;
}

const EPOCH_BYTES = 6;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/**
 * Create the stream's epoch when the meta hash has none (a new stream, or one forgotten after its TTL).
 * The stream itself is deleted then: entry ids restart at `1-0`, and XADD refuses ids below the last one.
 * Shared by both scripts, so that the epoch a subscriber reads before the first publish is the epoch of
 * that publish.
 */
const ENSURE_EPOCH = `
local epoch = redis.call('HGET', KEYS[1], 'e')
local created = false
if not epoch then
  epoch = ARGV[1]
  created = true
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 'o', 0)
end
`;

/**
 * `keep(ms)`: make the meta hash live at least `ms` more, never less than it already does, so that a
 * publish with a short history TTL cannot cut short the expiry a node holding members has set. PTTL is
 * -1 for a key without an expiry, which this gives one.
 */
const KEEP = `
local function keep(ms)
  if redis.call('PTTL', KEYS[1]) < ms then redis.call('PEXPIRE', KEYS[1], ms) end
end
`;

/**
 * Publish a durable message: assign the next offset, append it to the stream (trimmed to the history
 * size, expiring with the history TTL), and deliver it on the channel's pub/sub topic from inside the
 * script, so that offset order, history order and delivery order are the same everywhere.
 *
 * KEYS: meta hash, stream, [idempotency key]
 * ARGV: candidate epoch, json, time (ms), history size, history TTL (ms), stream TTL (ms),
 *       idempotency window (ms), topic, header tail (exclusion, traceparent), PUBLISH or SPUBLISH
 * Returns `{0, offset, epoch}`, or `{1, "<offset> <epoch> <time>"}` for a retry of an idempotency key.
 */
export const publishScript = new RedisScript(
  'publish',
  `
${KEEP}
if KEYS[3] then
  local seen = redis.call('GET', KEYS[3])
  if seen then return {1, seen} end
end
${ENSURE_EPOCH}
local offset = redis.call('HINCRBY', KEYS[1], 'o', 1)
local size = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
if size > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', size, offset .. '-0', 'd', ARGV[2], 't', ARGV[3])
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  redis.call('DEL', KEYS[2])
end
redis.call('HSET', KEYS[1], 't', ttl)
keep(math.max(tonumber(ARGV[6]), ttl))
if KEYS[3] then
  redis.call('SET', KEYS[3], offset .. ' ' .. epoch .. ' ' .. ARGV[3], 'PX', ARGV[7])
end
redis.call(ARGV[10], ARGV[8], 'p ' .. offset .. ' ' .. epoch .. ' ' .. ARGV[3] .. ARGV[9] .. '\\n' .. ARGV[2])
return {0, offset, epoch}
`,
);

/**
 * Read a stream: its position (creating the epoch of a stream never published to, expiring with the
 * stream TTL) and up to `limit` retained messages after `since`, skipping the expired ones at the start
 * (older than the history TTL the last publish stored). Nothing is read when the epoch differs from the
 * required one, nothing follows `since`, or (for a recovery) more than `limit` messages do. A read for a
 * node that holds members of the channel also pushes the expiry forward (see keepScript).
 *
 * KEYS: meta hash, stream
 * ARGV: candidate epoch, stream TTL (ms), since, limit (0: position only), now (ms), required epoch or '',
 *       '1' to read nothing when more than `limit` messages follow `since` (a recovery is all or nothing),
 *       '1' when this node holds members of the channel
 * Returns `{epoch, offset, {offset, time, json, offset, time, json, ...}}`.
 */
export const readScript = new RedisScript(
  'read',
  `
${KEEP}
${ENSURE_EPOCH}
if created then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {epoch, 0, {}}
end
if ARGV[8] == '1' then keep(tonumber(ARGV[2])) end
local last = tonumber(redis.call('HGET', KEYS[1], 'o') or '0')
local since = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local out = {}
if limit <= 0 or since >= last or (ARGV[6] ~= '' and ARGV[6] ~= epoch) or (ARGV[7] == '1' and last - since > limit) then
  return {epoch, last, out}
end
local oldest = tonumber(ARGV[5]) - tonumber(redis.call('HGET', KEYS[1], 't') or '0')
local n = 0
local start = since + 1
while n < limit do
  local want = limit - n
  local batch = redis.call('XRANGE', KEYS[2], start .. '-0', '+', 'COUNT', want)
  for i = 1, #batch do
    local id = batch[i][1]
    local offset = string.sub(id, 1, string.find(id, '-', 1, true) - 1)
    local fields = batch[i][2]
    local data, time = '', '0'
    for f = 1, #fields, 2 do
      if fields[f] == 'd' then data = fields[f + 1] elseif fields[f] == 't' then time = fields[f + 1] end
    end
    if n > 0 or tonumber(time) >= oldest then
      n = n + 1
      out[#out + 1] = offset
      out[#out + 1] = time
      out[#out + 1] = data
    end
    start = tonumber(offset) + 1
  end
  if #batch < want then break end
end
return {epoch, last, out}
`,
);

/**
 * Keep a stream's position alive: the meta hash lives at least the stream TTL from now (longer if a
 * publish asked for longer, so that its messages expire first). Sent for every channel with local members
 * every third of the stream TTL, and once when the last one leaves, so that a stream is forgotten only
 * the stream TTL after its last member on any node left. A stream that does not exist is left alone (the
 * next read or publish creates it).
 *
 * KEYS: meta hash
 * ARGV: stream TTL (ms)
 * Returns 1 when the stream exists, else 0.
 */
export const keepScript = new RedisScript(
  'keep',
  `
${KEEP}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
keep(tonumber(ARGV[1]))
return 1
`,
);
