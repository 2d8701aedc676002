-- A waiter gives up (timeout, abort, close): leave the queue; room it was owed goes to the next.
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV[1]   the waiter's member ("permits:limit:token")
-- Returns   1 when the waiter was queued, 0 when not.
-- @include semaphore-prelude
purge()
local left = redis.call('ZREM', Q, ARGV[1])
redis.call('ZREM', A, ARGV[1])
if left == 1 then freed, changed = true, true end
settle()
return left
