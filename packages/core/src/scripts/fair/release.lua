-- Release fair locks the caller owns, and wake only the waiter now at the head of each queue.
-- The locks are independent; several travel in one call when callers release in the same tick.
-- @batch 2 keys 3
-- KEYS[3i-2]  lock i's hash
-- KEYS[3i-1]  lock i's queue zset (token -> arrival order)
-- KEYS[3i]    lock i's heartbeat zset (token -> deadline ms)
-- ARGV[2i-1]  owner token
-- ARGV[2i]    the lock's wake-up channel (a message "to:<token>" wakes only that waiter)
-- Returns     per lock: 0 when released, -1 when the caller does not own it.
-- @include fence
-- @include fair-sweep
local now

local function release(lock, queue, heartbeats, token, channel)
  if redis.call('HGET', lock, 'o') ~= token then
    return -1
  end
  redis.call('DEL', lock)
  -- No queue, no waiter to sweep or wake (queue and heartbeats live and expire together).
  if redis.call('EXISTS', queue) == 0 then
    return 0
  end
  -- The clock is read only here: a release with nobody queued makes no TIME call.
  now = now or serverClock()
  sweepDead(queue, heartbeats, now)
  local head = redis.call('ZRANGE', queue, 0, 0)[1]
  if head then
    redis.call('PUBLISH', channel, 'to:' .. head)
  end
  return 0
end

local out = {}
for i = 1, #KEYS / 3 do
  out[i] = release(KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i], ARGV[2 * i - 1], ARGV[2 * i])
end
return out
