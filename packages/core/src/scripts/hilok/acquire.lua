-- Take (or re-take) a read or write hold on a path of a hierarchical lock tree, in one call
-- whatever the depth.
-- KEYS[1]  tree meta hash: hold id -> "mode|fence|expiry ms|path"
-- KEYS[2]  tree meta expiry set: hold id scored by its expiry (lets release purge dead ids and
--          tighten the meta keys' ttl, so no key outlives the last live hold)
-- For each level i = 1..d of the path (level d is the requested node), four sorted sets whose
-- scores are expiry times in ms on the server clock:
-- KEYS[2+4(i-1)+1]  E  - holds exactly at the node (reads and writes); its name is also the node's wake-up channel
-- KEYS[2+4(i-1)+2]  EW - writes and waiting-writer intents exactly at the node
-- KEYS[2+4(i-1)+3]  S  - holds strictly below the node
-- KEYS[2+4(i-1)+4]  SW - writes and waiting-writer intents strictly below the node
-- ARGV[1]  mode: "r" or "w"
-- ARGV[2]  hold id (owner token)
-- ARGV[3]  ttl in ms
-- ARGV[4]  path (stored in the meta hash for status and id checks)
-- ARGV[5]  intent member of a blocking writer ("" for readers and non-blocking writers)
-- ARGV[6]  intent ttl in ms
-- ARGV[7]  "1" when an earlier attempt of this writer may have left an intent to remove on success
-- Returns  {1, fence} held; {0, ms until the blocker's lease ends, blocking level} busy;
--          {-1, meta of the live hold} when the id holds another path or mode.
-- Conflict rule: holds on P and Q conflict iff P = Q or one is an ancestor of the other, and at
-- least one is a write. Readers also wait behind waiting writers (intents): no writer starvation.
-- @include tree-prelude
local mode, id, ttl, path = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local meta = KEYS[1]


-- A re-take may shorten a lease: then keys must be fitted to their members, not just covered.
local retake = false
local function add(k, at, member)
  redis.call('ZADD', k, at, member)
  if retake then fit(k) else cover(k, at) end
end

-- The latest expiry among live members of a set, or nil when it has none.
local function busyUntil(k)
  local top = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  local score = top[2] and tonumber(top[2])
  if score and score > now then return score end
  return nil
end

local function grant(fence)
  local exp = now + ttl
  add(key(d, 1), exp, id)
  if mode == 'w' then add(key(d, 2), exp, id) end
  for i = 1, d - 1 do
    add(key(i, 3), exp, id)
    if mode == 'w' then add(key(i, 4), exp, id) end
  end
  if ARGV[7] == '1' then
    redis.call('ZREM', key(d, 2), ARGV[5])
    for i = 1, d - 1 do redis.call('ZREM', key(i, 4), ARGV[5]) end
  end
  redis.call('HSET', meta, id, mode .. '|' .. fence .. '|' .. exp .. '|' .. path)
  add(KEYS[2], exp, id)
  if not retake then
    cover(meta, exp)
  else
    -- fit() deletes a set whose longest lease already ended (a re-take with a tiny ttl can end
    -- before the script does); the meta hash then goes with it.
    local last = fit(KEYS[2])
    if last then redis.call('PEXPIREAT', meta, last) else redis.call('DEL', meta) end
  end
  return {1, fence}
end

local function busy(untilMs, level)
  if ARGV[5] ~= '' then
    local exp = now + tonumber(ARGV[6])
    add(key(d, 2), exp, ARGV[5])
    for i = 1, d - 1 do add(key(i, 4), exp, ARGV[5]) end
  end
  return {0, untilMs - now, level}
end

local info = redis.call('HGET', meta, id)
if info then
  local m, fence, exp, p = string.match(info, '^(%a)|(%d+)|(%d+)|(.*)$')
  if tonumber(exp) > now then
    if m ~= mode or p ~= path then return {-1, info} end
    retake = true
    return grant(fence)
  end
end

-- A writer conflicts with any hold at an ancestor, at the node, or below it; a reader with
-- writes (and waiting writers) there.
local exact, below = 1, 3
if mode == 'r' then exact, below = 2, 4 end
for i = 1, d - 1 do
  local u = busyUntil(key(i, exact))
  if u then return busy(u, i) end
end
local u = busyUntil(key(d, exact)) or busyUntil(key(d, below))
if u then return busy(u, d) end
return grant(t[1] .. string.format('%06d', tonumber(t[2])))
