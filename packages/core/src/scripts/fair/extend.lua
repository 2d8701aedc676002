-- Reset a fair lock's ttl if the caller owns it.
-- KEYS[1]  lock hash {o = owner token, f = fencing token, n = 1}
-- ARGV[1]  owner token
-- ARGV[2]  ttl in ms
-- Returns  1 when extended, 0 when the caller does not own the lock.
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
