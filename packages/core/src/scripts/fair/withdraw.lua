-- Leave the queue of a fair lock (a waiter gave up); if it was the head of a free lock, wake the next.
-- KEYS[1]  lock hash
-- KEYS[2]  queue zset (token -> arrival order)
-- KEYS[3]  heartbeat zset (token -> deadline ms)
-- ARGV[1]  waiter token
-- ARGV[2]  the lock's wake-up channel (a message "to:<token>" wakes only that waiter)
-- Returns  1 when the token was queued, 0 when it was not.
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if head == ARGV[1] and redis.call('EXISTS', KEYS[1]) == 0 then
  local next = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if next then
    redis.call('PUBLISH', ARGV[2], 'to:' .. next)
  end
end
return removed
