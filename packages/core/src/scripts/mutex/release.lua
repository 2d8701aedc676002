-- Release one hold of each mutex the caller owns; wake a waiter if one asked to be woken.
-- @batch 1
-- KEYS[i]  mutex i (layout in mutex/acquire.lua)
-- ARGV[i]  owner token for mutex i
-- Returns  per mutex: holds left (0 = the mutex is free now), or -1 when the caller does not own it.
-- The wake-up channel is the key followed by ":wake" (a channel is not a key: it needs no slot).
local out = {}
for i = 1, #KEYS do
  local key, owner = KEYS[i], ARGV[i]
  local value = redis.pcall('GET', key)
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
return out
