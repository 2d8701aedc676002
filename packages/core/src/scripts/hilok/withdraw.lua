-- Withdraw the intent of a writer that stopped waiting (timeout, abort) and wake the readers it held back.
-- KEYS     the same as hilok/acquire.lua (tree state hash, expiry set, index)
-- ARGV[1]  intent id
-- ARGV[2]  path of the intent
-- Returns  1 when an intent was removed, else 0.
-- @include tree-prelude
-- @include tree-state
tree(1)
local mine = 'i:' .. ARGV[1]
want(mine)
want('n:' .. ARGV[2])
want('marks')
want('queue')
start()
if not drop(mine, true) then return flush(0) end
return flush(1)
