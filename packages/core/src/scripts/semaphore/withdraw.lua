-- A waiter gives up (timeout, abort, close): leave the queue; room it was owed goes to the next.
-- A release may have granted it its permits meanwhile (a hand-off to a waiter of the releasing
-- process): that hold is given back too — the caller never got a lease for it.
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV[1]   the waiter's member ("permits:limit:ttl:token")
-- Returns   1 when the waiter was queued or had been granted by a hand-off, 0 when neither.
-- @include semaphore-prelude
purge()
local left = redis.call('ZREM', Q, ARGV[1])
redis.call('ZREM', A, ARGV[1])
local _, _, tok = parseMember(ARGV[1])
if tok and redis.call('HDEL', P, tok) == 1 then
  redis.call('ZREM', Z, tok)
  held = true
  left = 1
end
if left == 1 then freed, waited = true, true end
settle()
return left
