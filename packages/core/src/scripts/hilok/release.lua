-- Release holds of hierarchical lock trees by id, one per entry, and wake the waiters each may
-- have blocked. The entries are independent; several travel in one call when callers release in
-- the same tick, and each is checked and changed on its own, in order.
-- @batch 2 keys 3
-- KEYS[3i-2..3i]  entry i's tree: the same three keys as hilok/acquire.lua
-- ARGV[2i-1]      hold id
-- ARGV[2i]        path the caller believes the hold is on
-- Returns  per entry: 1 when a live hold was released; 0 when it was not ours (expired, unknown,
--          other path).
-- Waiters listen on the channel of the node where they met a blocker: this node or one of its
-- ancestors. Only those with a live waiter mark get a PUBLISH. Reads and writes one node field
-- (this node's) whatever the depth.
-- @include tree-prelude

-- The hold is its tree's only item (no other hold, no waiting writer's intent) and no waiting
-- reader marked a node (field "marks"): releasing it empties the tree and wakes nobody, so the
-- three keys go — what the general path would leave — with two reads and no per-tree machinery.
-- nil when that is not the case.
local function releaseSoleHold(i, id, path)
  local H, X, IX = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local hold = 'h:' .. id
  local first = redis.call('ZRANGE', X, 0, 1, 'WITHSCORES')
  if first[1] ~= hold or first[3] or tonumber(first[2]) <= now then return nil end
  local v = redis.call('HMGET', H, hold, 'marks')
  local current = decodeItem(v[1])
  if v[2] or not current or current.path ~= path then return nil end
  redis.call('DEL', H, X, IX)
  return 1
end

local out, rest = {}, {}
for i = 1, #KEYS / 3 do
  out[i] = releaseSoleHold(i, ARGV[2 * i - 1], ARGV[2 * i])
  if not out[i] then rest[#rest + 1] = i end
end
if #rest == 0 then return out end

-- The general path, for the other entries, in order.
-- @include tree-state
local function release(id, path)
  local hold = 'h:' .. id
  want(hold)
  want('n:' .. path)
  want('marks')
  want('queue')
  start()
  local current = decodeItem(val[hold])
  if not current or current.path ~= path then return flush(0) end
  drop(hold, true)
  return flush(1)
end

for _, i in ipairs(rest) do
  tree(i)
  out[i] = release(ARGV[2 * i - 1], ARGV[2 * i])
end
return out
