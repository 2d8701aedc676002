-- Read a mutex without changing it.
-- KEYS[1]  mutex (layout in mutex/acquire.lua)
-- KEYS[2]  its queue (zset waiter token -> arrival µs)
-- ARGV     none
-- Returns  {} when nobody holds or waits (or when the key holds something that is no mutex);
--          {owner, fence, count, pttl, waiters} otherwise: owner "" and count 0 when not held
--          but waiters are queued; waiters = the queued tokens, first in line first.
-- @include mutex-handoff
local value = redis.pcall('GET', KEYS[1])
if type(value) ~= 'string' then return {} end
local f, n, _, o = string.match(value, PARSE)
if not f then return {} end
if n == '0' then o = ''; f = '0' end
return {o, f, n, redis.call('PTTL', KEYS[1]), redis.call('ZRANGE', KEYS[2], 0, -1)}
