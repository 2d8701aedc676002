-- Reset the ttl of live holds of hierarchical lock trees, one per entry (counters are unchanged).
-- The entries are independent; several travel in one call when callers extend in the same tick.
-- @batch 3 keys 3
-- KEYS[3i-2..3i]  entry i's tree: the same three keys as hilok/acquire.lua
-- ARGV[3i-2]      hold id
-- ARGV[3i-1]      path
-- ARGV[3i]        ttl in ms
-- Returns  per entry: 1 when extended; 0 when the hold is not ours any more (expired, released,
--          other path).
-- @include tree-prelude
-- @include tree-state
local function extend(id, path, ttl)
  local hold = 'h:' .. id
  want(hold)
  start()
  local current = decodeItem(val[hold])
  if not current or current.path ~= path then return flush(0) end
  local exp = now + ttl
  put(hold, exp, encodeItem(current.kind, current.fence, exp, current.sep, current.path))
  return flush(1)
end

local out = {}
for i = 1, #KEYS / 3 do
  tree(i)
  out[i] = extend(ARGV[3 * i - 2], ARGV[3 * i - 1], tonumber(ARGV[3 * i]))
end
return out
