/**
 * Lua scripts of the per-user inbox. Each runs atomically in Redis, so a store, a trim and an
 * acknowledgement (with its receipt) never interleave half-done. Key names arrive in KEYS so that
 * ioredis applies the configured key prefix to them.
 *
 * Keys of user <u>:
 *   inbox:<u>          ZSET  score = sequence number, member = event id (delivery order)
 *   inbox:<u>:events   HASH  event id → event JSON (the `downstream` payload)
 *   inbox:<u>:times    ZSET  score = creation time (ms), member = event id (retention)
 *   inbox:<u>:next     STRING the last sequence number handed out
 *   event-id:<u>:<id>  STRING idempotency record of a posted id (lives as long as the retention)
 */

/** Removes events created before the cutoff; returns how many. Shared by store and read. */
const TRIM_EXPIRED = `
local function remove(id)
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
end
local function trim_expired(cutoff)
  local old = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. cutoff, 'LIMIT', 0, 1000)
  for _, id in ipairs(old) do remove(id) end
  return #old
end
`;

/**
 * Stores an event, announces it and records the answer of its POST, in one round trip.
 * KEYS: zset, events, times, next, idempotency, the user's socket set in the registry
 * ARGV: id, event JSON, now (ms), retention (s), max events, announcement channel (prefixed), userid
 * Returns {1, seq, expired, delivered} when stored, {0, idempotency record, 0, 0} for a duplicate id.
 *
 * The announcement `{"seq":…,"event":…}` is published from the script, so announcements of one user
 * leave in sequence order. `delivered` is the number of the user's sockets (every replica) now. The
 * idempotency record holds the answer itself (the answer a retry of the same id gets); a record `{}`
 * (left by an earlier version between its store and its answer) still means "stored, not answered".
 */
export const STORE_SCRIPT = `${TRIM_EXPIRED}
local existing = redis.call('GET', KEYS[5])
if existing then return {0, existing, 0, 0} end
local retention = tonumber(ARGV[4])
local seq = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[1], seq, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local expired = trim_expired(tonumber(ARGV[3]) - retention * 1000)
local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, over - 1)
  for _, id in ipairs(oldest) do remove(id) end
  expired = expired + #oldest
end
-- The keys outlive the retention (twice over) so that expired events are trimmed, and counted,
-- by this script rather than vanishing with the key; an idle user's inbox still disappears.
redis.call('EXPIRE', KEYS[1], retention * 2)
redis.call('EXPIRE', KEYS[2], retention * 2)
redis.call('EXPIRE', KEYS[3], retention * 2)
redis.call('PUBLISH', ARGV[6], '{"seq":' .. seq .. ',"event":' .. ARGV[2] .. '}')
local delivered = redis.call('SCARD', KEYS[6])
redis.call('SET', KEYS[5], '{"id":' .. cjson.encode(ARGV[1]) .. ',"userid":' .. cjson.encode(ARGV[7]) ..
  ',"delivered":' .. delivered .. ',"stored":true}', 'EX', retention)
return {1, tostring(seq), expired, delivered}
`;

/**
 * KEYS: zset, events, times, next
 * ARGV: after sequence, limit, now (ms), retention (s)
 * Returns {expired, last sequence handed out, seq1, json1, seq2, json2, …} in sequence order. As
 * stores are atomic, every sequence number up to `last` is either in the inbox or gone for good.
 */
export const READ_SCRIPT = `${TRIM_EXPIRED}
local expired = trim_expired(tonumber(ARGV[3]) - tonumber(ARGV[4]) * 1000)
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local result = {expired, redis.call('GET', KEYS[4]) or '0'}
for i = 1, #entries, 2 do
  local body = redis.call('HGET', KEYS[2], entries[i])
  if body then
    table.insert(result, entries[i + 1])
    table.insert(result, body)
  end
end
return result
`;

/**
 * Records a batch of acknowledgements (those that arrived in one turn of the event loop).
 * KEYS: receipts stream, then per event: zset, events, times (of its user)
 * ARGV: stream max length, then per event: id, userid, type, ackedAt (ISO)
 * For each event in order, removes it and appends its receipt, once: returns a list with 1 where
 * this call removed the event, 0 where it was already gone (acknowledged on another socket, or
 * expired). The batch is atomic as a whole, so every event's removal and receipt still are.
 */
export const ACK_SCRIPT = `
local removed = {}
for i = 0, (#KEYS - 1) / 3 - 1 do
  local zset, events, times = KEYS[2 + i * 3], KEYS[3 + i * 3], KEYS[4 + i * 3]
  local id = ARGV[2 + i * 4]
  if redis.call('ZREM', zset, id) == 0 then
    removed[i + 1] = 0
  else
    redis.call('HDEL', events, id)
    redis.call('ZREM', times, id)
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'eventId', id, 'userid', ARGV[3 + i * 4],
      'type', ARGV[4 + i * 4], 'ackedAt', ARGV[5 + i * 4])
    removed[i + 1] = 1
  end
end
return removed
`;
