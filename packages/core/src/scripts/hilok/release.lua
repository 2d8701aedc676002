-- Release a hold of a hierarchical lock tree by id and wake the waiters it may have blocked.
-- KEYS     the same as hilok/acquire.lua (tree state hash, expiry set, index)
-- ARGV[1]  hold id
-- ARGV[2]  path the caller believes the hold is on
-- Returns  1 when a live hold was released; 0 when it was not ours (expired, unknown, other path).
-- Waiters listen on the channel of the node where they met a blocker: this node or one of its
-- ancestors. Only those with a live waiter mark get a PUBLISH. Reads and writes one node field
-- (this node's) whatever the depth.
-- @include tree-prelude
local hold = 'h:' .. ARGV[1]
want(hold)
want('n:' .. ARGV[2])
want('marks')
want('queue')
start()
local current = decodeItem(val[hold])
if not current or current.path ~= ARGV[2] then return flush(0) end
drop(hold, true)
return flush(1)
