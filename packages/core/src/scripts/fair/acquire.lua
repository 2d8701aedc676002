-- Take a fair (FIFO) lock: granted only when it is free and the caller heads the queue (or the
-- queue is empty). A blocking caller that cannot have it joins the queue (or, already queued,
-- renews its heartbeat deadline). Waiters whose deadline passed are dropped first: a crashed
-- waiter must not block the queue for longer than one heartbeat bound.
-- KEYS[1]  lock hash {o = owner token, f = fencing token, n = 1}
-- KEYS[2]  queue zset: waiter token -> arrival order (server clock in µs, strictly increasing)
-- KEYS[3]  heartbeat zset: waiter token -> deadline in ms (server clock)
-- ARGV[1]  owner token of the caller
-- ARGV[2]  ttl of the hold in ms
-- ARGV[3]  queue ttl in ms: a waiter not heard from for this long is skipped
-- ARGV[4]  "1" = blocking: join/stay in the queue when busy; "0" = try once, never queue
-- ARGV[5]  wake-up channel prefix; a waiter's channel is this prefix followed by its token
-- Returns  {1, fence} when held by the caller now; {0, ms until it is worth retrying} when not.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local token = ARGV[1]
-- The queue and heartbeat zsets gain and lose members together and share one ttl, so without a
-- queue there are no heartbeats either: the uncontended lock skips the sweep and the head lookup.
local queued = redis.call('EXISTS', KEYS[2]) == 1
local dead = queued and redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now) or {}
for i = 1, #dead do
  redis.call('ZREM', KEYS[2], dead[i])
  redis.call('ZREM', KEYS[3], dead[i])
end
local owner = redis.call('HGET', KEYS[1], 'o')
if owner == token then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, redis.call('HGET', KEYS[1], 'f')}
end
local head = queued and redis.call('ZRANGE', KEYS[2], 0, 0)[1] or nil
if not owner and (not head or head == token) then
  -- Fencing token: the server clock in µs, built as a string (a Lua number loses digits).
  local fence = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'o', token, 'f', fence, 'n', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  if head then
    redis.call('ZREM', KEYS[2], token)
    redis.call('ZREM', KEYS[3], token)
  end
  return {1, fence}
end
if not owner and #dead > 0 and head then
  -- Skipping dead waiters made someone else the head of a free lock: wake exactly that one.
  redis.call('PUBLISH', ARGV[5] .. head, '1')
end
local retry = 0
if owner then
  retry = redis.call('PTTL', KEYS[1])
elseif head then
  retry = (tonumber(redis.call('ZSCORE', KEYS[3], head)) or now) - now + 1
end
if ARGV[4] ~= '1' then
  return {0, retry}
end
if not redis.call('ZSCORE', KEYS[2], token) then
  -- Arrival order: the server clock in µs, bumped past the last waiter so order is strict.
  local score = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if last[2] and tonumber(last[2]) >= score then
    score = tonumber(last[2]) + 1
  end
  -- '%.0f': redis.call would format a Lua number with 14 digits and reorder close arrivals.
  redis.call('ZADD', KEYS[2], string.format('%.0f', score), token)
end
local queueTtl = tonumber(ARGV[3])
redis.call('ZADD', KEYS[3], string.format('%.0f', now + queueTtl), token)
redis.call('PEXPIRE', KEYS[2], 2 * queueTtl)
redis.call('PEXPIRE', KEYS[3], 2 * queueTtl)
return {0, retry}
