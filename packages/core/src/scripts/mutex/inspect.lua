-- Read a mutex without changing it.
-- KEYS[1]  lock hash
-- ARGV     none
-- Returns  {} when free; {owner, fence, count, pttl} when held.
local h = redis.call('HMGET', KEYS[1], 'o', 'f', 'n')
if not h[1] then
  return {}
end
return {h[1], h[2], h[3], redis.call('PTTL', KEYS[1])}
