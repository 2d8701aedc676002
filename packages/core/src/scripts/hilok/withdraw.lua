-- Withdraw the intent of a writer that stopped waiting (timeout, abort) and wake the readers it held back.
-- KEYS     the same as hilok/acquire.lua (tree state hash, tree expiry set)
-- ARGV[1]  intent id
-- ARGV[2]  path of the intent
-- ARGV[3]  path separator
-- Returns  1 when an intent was removed, else 0.
-- @include tree-prelude
local mine = 'i:' .. ARGV[1]
want(mine)
wantNodes(nodes(ARGV[2], ARGV[3]))
start()
if not drop(mine) then return flush(0) end
return flush(1)
