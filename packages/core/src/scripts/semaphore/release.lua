-- Give back the caller's permits and hand them on to the waiters that can go now
-- (semaphore-prelude): granted at once to a waiter named in ARGV[2..], woken otherwise.
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV[1]   holder token
-- ARGV[2..] tokens of waiters in the caller's process (may be granted in this script)
-- Returns   {1 when the caller's hold was removed, 0 when it was not held (expired, released),
--           {tokens of the waiters this release woke}, {token, fence, … of the waiters it granted}}
-- @include semaphore-prelude
local token = ARGV[1]
for i = 2, #ARGV do present[ARGV[i]] = true end
purge()
local out = 0
if redis.call('HDEL', P, token) == 1 then
  redis.call('ZREM', Z, token)
  freed, held = true, true
  out = 1
end
settle()
return { out, woken, granted }
