-- Reset the ttl of each mutex the caller holds.
-- @batch 2
-- KEYS[i]      mutex i (layout in mutex/acquire.lua)
-- ARGV[2i-1]   owner token for mutex i
-- ARGV[2i]     ttl in ms
-- Returns      per mutex: 1 when extended, 0 when the caller does not hold it.
local out = {}
for i = 1, #KEYS do
  local value = redis.pcall('GET', KEYS[i])
  local n, o
  if type(value) == 'string' then n, o = string.match(value, '^%d+:(%d+):%d:(.*)$') end
  -- Count 0 is a reservation for a waiter, not a hold: never extended.
  if o == ARGV[2 * i - 1] and n ~= '0' then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
