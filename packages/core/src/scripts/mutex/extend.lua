-- Reset the ttl of each mutex the caller owns.
-- @batch 2
-- KEYS[i]      mutex i (layout in mutex/acquire.lua)
-- ARGV[2i-1]   owner token for mutex i
-- ARGV[2i]     ttl in ms
-- Returns      per mutex: 1 when extended, 0 when the caller does not own it.
local out = {}
for i = 1, #KEYS do
  local value = redis.pcall('GET', KEYS[i])
  local o
  if type(value) == 'string' then o = string.match(value, '^%d+:%d+:%d:(.*)$') end
  if o == ARGV[2 * i - 1] then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
