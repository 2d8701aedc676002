-- The dead-waiter sweep of the fair lock scripts (inlined with `-- @include fair-sweep`).
-- A waiter sits in a lock's queue zset (token -> arrival µs) and its heartbeat zset (token ->
-- deadline ms) together: the two gain and lose members together and share one ttl.
-- sweepDead drops the waiters whose heartbeat deadline is at or before now (ms): a crashed waiter
-- stops renewing and must not block the queue for longer than one heartbeat bound. Returns their
-- tokens.
local function sweepDead(queue, heartbeats, now)
  local dead = redis.call('ZRANGEBYSCORE', heartbeats, '-inf', now)
  for i = 1, #dead do
    redis.call('ZREM', queue, dead[i])
    redis.call('ZREM', heartbeats, dead[i])
  end
  return dead
end
