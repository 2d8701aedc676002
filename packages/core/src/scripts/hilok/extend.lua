-- Reset the ttl of a live hold of a hierarchical lock tree (counters are unchanged).
-- KEYS     the same as hilok/acquire.lua (tree state hash, expiry set, index)
-- ARGV[1]  hold id
-- ARGV[2]  path
-- ARGV[3]  ttl in ms
-- Returns  1 when extended; 0 when the hold is not ours any more (expired, released, other path).
-- @include tree-prelude
local hold = 'h:' .. ARGV[1]
want(hold)
start()
local current = decodeItem(val[hold])
if not current or current.path ~= ARGV[2] then return flush(0) end
local exp = now + tonumber(ARGV[3])
put(hold, exp, encodeItem(current.kind, current.fence, exp, current.sep, current.path))
return flush(1)
