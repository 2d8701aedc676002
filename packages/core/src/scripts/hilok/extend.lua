-- Reset the ttl of a live hold of a hierarchical lock tree.
-- KEYS     the same layout as hilok/acquire.lua (meta, meta expiry, then E, EW, S, SW per level)
-- ARGV[1]  hold id
-- ARGV[2]  path
-- ARGV[3]  ttl in ms
-- Returns  1 when extended; 0 when the hold is not ours any more (expired, released, other path).
-- @include tree-prelude
local meta, id = KEYS[1], ARGV[1]

local info = redis.call('HGET', meta, id)
if not info then return 0 end
local mode, fence, exp, p = string.match(info, '^(%a)|(%d+)|(%d+)|(.*)$')
if p ~= ARGV[2] or tonumber(exp) <= now then return 0 end

-- The new ttl may be shorter than the old one: fit every key to its longest-lived member.
local function set(k, at)
  redis.call('ZADD', k, 'XX', at, id)
  fit(k)
end

local at = now + tonumber(ARGV[3])
set(key(d, 1), at)
if mode == 'w' then set(key(d, 2), at) end
for i = 1, d - 1 do
  set(key(i, 3), at)
  if mode == 'w' then set(key(i, 4), at) end
end
redis.call('HSET', meta, id, mode .. '|' .. fence .. '|' .. at .. '|' .. p)
set(KEYS[2], at)
local last = fit(KEYS[2])
if last then redis.call('PEXPIREAT', meta, last) else redis.call('DEL', meta) end
return 1
