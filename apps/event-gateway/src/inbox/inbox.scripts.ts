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
local function remove(zset, events, times, id)
  redis.call('ZREM', zset, id)
  redis.call('HDEL', events, id)
  redis.call('ZREM', times, id)
end
local function trim_expired(zset, events, times, cutoff)
  local old = redis.call('ZRANGEBYSCORE', times, '-inf', '(' .. cutoff, 'LIMIT', 0, 1000)
  for _, id in ipairs(old) do remove(zset, events, times, id) end
  return #old
end
`;

/**
 * Runs `one(i)` for each of `count` items of a batch, in order, each in `pcall`: an item that fails
 * (a key of the wrong type, say) gets the error's text as its result instead of failing the others.
 * As in any script, what a failed item wrote before the error stays written.
 */
const EACH_ITEM = `
local function each_item(count, width, one)
  local results = {}
  for i = 0, count - 1 do
    local ok, result = pcall(one, i)
    if not ok then
      local message = type(result) == 'table' and result.err or tostring(result)
      result = {}
      for w = 1, width do result[w] = message end
    end
    for w = 1, width do table.insert(results, result[w]) end
  end
  return results
end
`;

/**
 * Stores a batch of events (those posted in one turn of the event loop), in order. For each: stores
 * it, announces it and records the answer of its POST.
 * KEYS: per event, 6 keys: zset, events, times, next, idempotency, the user's socket set in the registry
 * ARGV: retention (s), max events per user, then per event 5: id, event JSON, now (ms), announcement
 *   channel (prefixed), userid
 * Returns 4 values per event: {1, seq, expired, delivered} when stored, {0, idempotency record, 0, 0}
 * for a duplicate id (also one posted earlier in the same batch), or the error's text 4 times.
 *
 * The announcement `{"seq":…,"event":…}` is published from the script, so announcements of one user
 * leave in sequence order. `delivered` is the number of the user's sockets (every replica) now. The
 * idempotency record holds the answer itself (the answer a retry of the same id gets); a record `{}`
 * (left by an earlier version between its store and its answer) still means "stored, not answered".
 */
export const STORE_SCRIPT = `${TRIM_EXPIRED}${EACH_ITEM}
local retention = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local function store(i)
  local zset, events, times = KEYS[i * 6 + 1], KEYS[i * 6 + 2], KEYS[i * 6 + 3]
  local next, idempotency, sockets = KEYS[i * 6 + 4], KEYS[i * 6 + 5], KEYS[i * 6 + 6]
  local id, body, now = ARGV[i * 5 + 3], ARGV[i * 5 + 4], tonumber(ARGV[i * 5 + 5])
  local channel, userid = ARGV[i * 5 + 6], ARGV[i * 5 + 7]
  local existing = redis.call('GET', idempotency)
  if existing then return {0, existing, 0, 0} end
  local seq = redis.call('INCR', next)
  redis.call('ZADD', zset, seq, id)
  redis.call('HSET', events, id, body)
  redis.call('ZADD', times, now, id)
  local expired = trim_expired(zset, events, times, now - retention * 1000)
  local over = redis.call('ZCARD', zset) - max
  if over > 0 then
    local oldest = redis.call('ZRANGE', zset, 0, over - 1)
    for _, old in ipairs(oldest) do remove(zset, events, times, old) end
    expired = expired + #oldest
  end
  -- The keys outlive the retention (twice over) so that expired events are trimmed, and counted,
  -- by this script rather than vanishing with the key; an idle user's inbox still disappears.
  redis.call('EXPIRE', zset, retention * 2)
  redis.call('EXPIRE', events, retention * 2)
  redis.call('EXPIRE', times, retention * 2)
  redis.call('PUBLISH', channel, '{"seq":' .. seq .. ',"event":' .. body .. '}')
  local delivered = redis.call('SCARD', sockets)
  redis.call('SET', idempotency, '{"id":' .. cjson.encode(id) .. ',"userid":' .. cjson.encode(userid) ..
    ',"delivered":' .. delivered .. ',"stored":true}', 'EX', retention)
  return {1, tostring(seq), expired, delivered}
end
return each_item(#KEYS / 6, 4, store)
`;

/**
 * KEYS: zset, events, times, next
 * ARGV: after sequence, limit, now (ms), retention (s)
 * Returns {expired, last sequence handed out, seq1, json1, seq2, json2, …} in sequence order. As
 * stores are atomic, every sequence number up to `last` is either in the inbox or gone for good.
 */
export const READ_SCRIPT = `${TRIM_EXPIRED}
local expired = trim_expired(KEYS[1], KEYS[2], KEYS[3], tonumber(ARGV[3]) - tonumber(ARGV[4]) * 1000)
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
 * Records a batch of acknowledgements (those that arrived in one turn of the event loop), in order.
 * KEYS: receipts stream, then per event 3 keys: zset, events, times (of its user)
 * ARGV: stream max length, then per event 4: id, userid, type, ackedAt (ISO)
 * For each event removes it and appends its receipt, once: returns per event 1 where this call
 * removed it, 0 where it was already gone (acknowledged on another socket, or expired), or the
 * error's text.
 */
export const ACK_SCRIPT = `${EACH_ITEM}
local function ack(i)
  local zset, events, times = KEYS[i * 3 + 2], KEYS[i * 3 + 3], KEYS[i * 3 + 4]
  local id = ARGV[i * 4 + 2]
  if redis.call('ZREM', zset, id) == 0 then return {0} end
  redis.call('HDEL', events, id)
  redis.call('ZREM', times, id)
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'eventId', id, 'userid', ARGV[i * 4 + 3],
    'type', ARGV[i * 4 + 4], 'ackedAt', ARGV[i * 4 + 5])
  return {1}
end
return each_item((#KEYS - 1) / 3, 1, ack)
`;
