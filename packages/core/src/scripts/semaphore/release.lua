-- Give back the caller's permits and wake the waiters that can go now (semaphore-prelude).
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV[1]   holder token
-- Returns   {1 when the caller's hold was removed, 0 when it was not held (expired, released),
--           then the tokens of the waiters this release woke}
-- @include semaphore-prelude
local token = ARGV[1]
purge()
local out = 0
if redis.call('HDEL', P, token) == 1 then
  redis.call('ZREM', Z, token)
  freed, changed = true, true
  out = 1
end
settle()
return { out, unpack(woken) }
