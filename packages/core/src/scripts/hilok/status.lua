-- Read the live holds at a node and below, and the writers waiting there. Changes nothing (an
-- expired member is skipped, not purged).
-- KEYS     the same as hilok/acquire.lua (tree state hash, expiry set, index)
-- ARGV[1]  path of the node
-- ARGV[2]  path separator
-- Returns  {now ms, holds, intents}: holds = flat {id, mode, fence, expiry ms, path, ...} of live
--          holds at the node and below; intents = flat {id, expiry ms, path, ...} of waiting
--          writers at the node and below.
-- @include tree-prelude
-- @include tree-state
tree(1)
local path, sep = ARGV[1], ARGV[2]
local live = redis.call('ZRANGEBYSCORE', X, '(' .. now, '+inf')
local values = batched('HMGET', H, live, {})
local holds, intents = {}, {}
for i, f in ipairs(live) do
  local it = decodeItem(values[i])
  if it and (it.path == path or string.sub(it.path, 1, #path + #sep) == path .. sep) then
    local id, exp = string.sub(f, 3), string.format('%.0f', it.exp)
    if it.kind == 'q' then
      -- A waiting reader's intent: neither a hold nor a waiting writer.
    elseif it.kind == 'i' then
      intents[#intents + 1] = id
      intents[#intents + 1] = exp
      intents[#intents + 1] = it.path
    else
      holds[#holds + 1] = id
      holds[#holds + 1] = it.kind
      holds[#holds + 1] = it.fence
      holds[#holds + 1] = exp
      holds[#holds + 1] = it.path
    end
  end
end
return {now, holds, intents}
