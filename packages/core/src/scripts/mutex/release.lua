-- Release one hold of a mutex if the caller owns it, and wake one waiter.
-- KEYS[1]  lock hash
-- ARGV[1]  owner token
-- ARGV[2]  wake-up channel (a channel is not a key; it carries the same hash tag)
-- Returns  holds left (0 = the lock is free now), or -1 when the caller does not own the lock.
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then
  return -1
end
local n = redis.call('HINCRBY', KEYS[1], 'n', -1)
if n > 0 then
  return n
end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], '1')
return 0
