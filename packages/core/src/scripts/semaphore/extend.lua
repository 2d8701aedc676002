-- Reset the ttl of the caller's hold (server clock).
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV[1]   holder token
-- ARGV[2]   ttl in ms
-- Returns   1 when extended, 0 when the caller does not hold (expired or released).
-- @include semaphore-prelude
purge()
local out = 0
if redis.call('ZSCORE', Z, ARGV[1]) then
  redis.call('ZADD', Z, 'XX', string.format('%.0f', nowMs + tonumber(ARGV[2])), ARGV[1])
  held = true
  out = 1
end
settle()
return out
