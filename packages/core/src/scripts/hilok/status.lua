-- Read the live holds at a node and below, and the writers waiting there. Changes nothing.
-- KEYS[1]  tree meta hash
-- KEYS[2]  tree meta expiry set (unused here; keeps the key layout of the other scripts)
-- KEYS[3]  E  of the node
-- KEYS[4]  EW of the node
-- KEYS[5]  S  of the node
-- KEYS[6]  SW of the node
-- ARGV     none
-- Returns  {now ms, holds, intents}: holds = flat {id, meta, ...} of live holds at the node and
--          below; intents = flat {member, expiry ms, ...} of waiting writers at the node and below.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local holds, intents = {}, {}
for _, k in ipairs({KEYS[3], KEYS[5]}) do
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', k, '(' .. now, '+inf')) do
    local info = redis.call('HGET', KEYS[1], id)
    if info then
      holds[#holds + 1] = id
      holds[#holds + 1] = info
    end
  end
end
for _, k in ipairs({KEYS[4], KEYS[6]}) do
  local live = redis.call('ZRANGEBYSCORE', k, '(' .. now, '+inf', 'WITHSCORES')
  for i = 1, #live, 2 do
    if redis.call('HEXISTS', KEYS[1], live[i]) == 0 then
      intents[#intents + 1] = live[i]
      intents[#intents + 1] = live[i + 1]
    end
  end
end
return {now, holds, intents}
