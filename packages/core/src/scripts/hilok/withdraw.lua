-- Withdraw the intent of a writer that stopped waiting (timeout, abort) and wake the readers it held back.
-- KEYS     the same layout as hilok/acquire.lua (meta, meta expiry, then E, EW, S, SW per level)
-- ARGV[1]  intent member
-- Returns  1 when an intent was removed, else 0.
-- @include tree-prelude
local removed = redis.call('ZREM', key(d, 2), ARGV[1])
for i = 1, d - 1 do redis.call('ZREM', key(i, 4), ARGV[1]) end
if removed == 0 then return 0 end
for i = 1, d do redis.call('PUBLISH', key(i, 1), 'all') end
return 1
