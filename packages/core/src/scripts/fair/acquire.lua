-- Take fair (FIFO) locks: each is granted only when it is free and the caller heads its queue (or
-- the queue is empty). A blocking caller that cannot have it joins the queue (or, already queued,
-- renews its heartbeat deadline). Waiters whose deadline passed are dropped first: a crashed
-- waiter must not block the queue for longer than one heartbeat bound. The locks are
-- independent; several travel in one call when callers acquire in the same tick.
-- @batch 5 keys 3
-- KEYS[3i-2]  lock i's hash {o = owner token, f = fencing token, n = 1}
-- KEYS[3i-1]  lock i's queue zset: waiter token -> arrival order (server clock in µs, strictly increasing)
-- KEYS[3i]    lock i's heartbeat zset: waiter token -> deadline in ms (server clock)
-- ARGV[5i-4]  owner token of the caller
-- ARGV[5i-3]  ttl of the hold in ms
-- ARGV[5i-2]  queue ttl in ms: a waiter not heard from for this long is skipped
-- ARGV[5i-1]  "1" = blocking: join/stay in the queue when busy; "0" = try once, never queue
-- ARGV[5i]    the lock's wake-up channel; a message "to:<token>" wakes only that waiter
-- Returns     per lock: {1, fence} when held by the caller now; {0, ms until it is worth retrying} when not.
-- @include fence
-- @include fair-sweep
local now, nowUs, fence = serverClock()

local function acquire(lock, queue, heartbeats, token, ttl, queueTtl, blocking, channel)
  -- The queue and heartbeat zsets gain and lose members together and share one ttl, so without a
  -- queue there are no heartbeats either: the uncontended lock skips the sweep and the head lookup.
  local queued = redis.call('EXISTS', queue) == 1
  local dead = queued and sweepDead(queue, heartbeats, now) or {}
  local owner = redis.call('HGET', lock, 'o')
  if owner == token then
    redis.call('PEXPIRE', lock, ttl)
    return {1, redis.call('HGET', lock, 'f')}
  end
  local head = queued and redis.call('ZRANGE', queue, 0, 0)[1] or nil
  if not owner and (not head or head == token) then
    redis.call('HSET', lock, 'o', token, 'f', fence, 'n', 1)
    redis.call('PEXPIRE', lock, ttl)
    if head then
      redis.call('ZREM', queue, token)
      redis.call('ZREM', heartbeats, token)
    end
    return {1, fence}
  end
  if not owner and #dead > 0 and head then
    -- Skipping dead waiters made someone else the head of a free lock: wake exactly that one.
    redis.call('PUBLISH', channel, 'to:' .. head)
  end
  local retry = 0
  if owner then
    retry = redis.call('PTTL', lock)
  elseif head then
    retry = (tonumber(redis.call('ZSCORE', heartbeats, head)) or now) - now + 1
  end
  if blocking ~= '1' then
    return {0, retry}
  end
  if not redis.call('ZSCORE', queue, token) then
    -- Arrival order: the server clock in µs, bumped past the last waiter so order is strict.
    local score = nowUs
    local last = redis.call('ZRANGE', queue, -1, -1, 'WITHSCORES')
    if last[2] and tonumber(last[2]) >= score then
      score = tonumber(last[2]) + 1
    end
    -- '%.0f': redis.call would format a Lua number with 14 digits and reorder close arrivals.
    redis.call('ZADD', queue, string.format('%.0f', score), token)
  end
  local ttlQueue = tonumber(queueTtl)
  redis.call('ZADD', heartbeats, string.format('%.0f', now + ttlQueue), token)
  redis.call('PEXPIRE', queue, 2 * ttlQueue)
  redis.call('PEXPIRE', heartbeats, 2 * ttlQueue)
  return {0, retry}
end

local out = {}
for i = 1, #KEYS / 3 do
  out[i] = acquire(KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[5 * i - 4], ARGV[5 * i - 3], ARGV[5 * i - 2], ARGV[5 * i - 1], ARGV[5 * i])
end
return out
