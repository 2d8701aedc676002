-- Take a mutex, re-take it with the same owner token, or re-enter it (reentrant mode).
-- KEYS[1]  lock hash {o = owner token, f = fencing token, n = hold count}
-- ARGV[1]  owner token
-- ARGV[2]  ttl in ms (expiry runs on the server's clock)
-- ARGV[3]  "1" = reentrant: the same owner increments the hold count; "0" = re-take refreshes only
-- Returns  {1, fence, count} when held by the caller now; {0, pttl of the holder} when busy.
local owner = redis.call('HGET', KEYS[1], 'o')
if not owner then
  -- The fencing token is the server clock in microseconds, built as a string: a Lua number
  -- would be formatted with 14 significant digits and lose precision.
  local t = redis.call('TIME')
  local fence = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', KEYS[1], 'o', ARGV[1], 'f', fence, 'n', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, fence, 1}
end
if owner == ARGV[1] then
  local n
  if ARGV[3] == '1' then
    n = redis.call('HINCRBY', KEYS[1], 'n', 1)
  else
    n = tonumber(redis.call('HGET', KEYS[1], 'n'))
  end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, redis.call('HGET', KEYS[1], 'f'), n}
end
return {0, redis.call('PTTL', KEYS[1])}
