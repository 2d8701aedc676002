-- Release a hold of a hierarchical lock tree by id and wake the waiters it may have blocked.
-- KEYS     the same as hilok/acquire.lua (tree state hash, tree expiry set)
-- ARGV[1]  hold id
-- ARGV[2]  path the caller believes the hold is on
-- ARGV[3]  path separator (to read the path's nodes with the same HMGET as the hold)
-- Returns  1 when a live hold was released; 0 when it was not ours (expired, unknown, other path).
-- Waiters listen on the channel of the node where they met a blocker: this node or one of its
-- ancestors. Only those nodes with a live waiter mark get a PUBLISH.
-- @include tree-prelude
local hold = 'h:' .. ARGV[1]
want(hold)
wantNodes(nodes(ARGV[2], ARGV[3]))
start()
local current = decodeItem(val[hold])
if not current or current.path ~= ARGV[2] then return flush(0) end
drop(hold)
return flush(1)
