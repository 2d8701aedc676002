-- Release one hold of each mutex the caller owns; wake a waiter if one asked to be woken.
-- @batch 2
-- KEYS[i]      mutex i (layout in mutex/acquire.lua)
-- ARGV[2i-1]   owner token for mutex i
-- ARGV[2i]     the value the caller expects mutex i to hold when it took it alone: one hold, no
--              waiter mark ("fence:1:0:owner"); "" when it does not know. A match is released
--              with one string comparison (the common, uncontended release); anything else takes
--              the general path, so a wrong guess costs only that comparison ("" never matches:
--              a foreign empty string must not be deleted).
-- Returns      per mutex: holds left (0 = the mutex is free now), or -1 when the caller does not own it.
-- The wake-up channel is the key followed by ":wake" (a channel is not a key: it needs no slot).
local out = {}
for i = 1, #KEYS do
  local key, owner, expected = KEYS[i], ARGV[2 * i - 1], ARGV[2 * i]
  local value = redis.pcall('GET', key)
  if value == expected and expected ~= '' then
    -- Exactly one hold, ours, that no waiter marked: free it, nobody to wake.
    redis.call('DEL', key)
    out[i] = 0
  else
    local f, n, waited, o
    if type(value) == 'string' then f, n, waited, o = string.match(value, '^(%d+):(%d+):(%d):(.*)$') end
    if o ~= owner then
      out[i] = -1
    elseif n ~= '1' then
      redis.call('SET', key, f .. ':' .. (n - 1) .. ':' .. waited .. ':' .. o, 'KEEPTTL')
      out[i] = n - 1
    else
      redis.call('DEL', key)
      -- Only a hold a waiter asked about publishes: an uncontended release costs no PUBLISH.
      if waited == '1' then redis.call('PUBLISH', key .. ':wake', '1') end
      out[i] = 0
    end
  end
end
return out
