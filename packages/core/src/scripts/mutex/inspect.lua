-- Read a mutex without changing it.
-- KEYS[1]  mutex (layout in mutex/acquire.lua)
-- ARGV     none
-- Returns  {} when free (or when the key holds something that is no mutex);
--          {owner, fence, count, pttl} when held.
local value = redis.pcall('GET', KEYS[1])
if type(value) ~= 'string' then return {} end
local f, n, _, o = string.match(value, '^(%d+):(%d+):(%d):(.*)$')
if not f then return {} end
return {o, f, n, redis.call('PTTL', KEYS[1])}
