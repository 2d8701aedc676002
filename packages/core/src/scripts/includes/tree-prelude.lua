-- Shared prelude of the hilok tree scripts (inlined by scripts/build-lua.mjs at `-- @include`).
-- A tree (all paths under one root segment) is two keys, whatever its depth or size:
--   KEYS[1] "<base>state", a hash; KEYS[2] "<base>expiry", a sorted set (base: "<prefix><kind>:{<root>}:").
-- Hash fields are told apart by the text before their first ':', so no id or node name can
-- clash with another field (a node named "h:x" is field "n:h:x"):
--   h:<id>    a hold:   "<r|w>|<fence>|<expiry ms>|<separator length>|<separator><path>"
--   i:<id>    a waiting writer's intent, same format with kind "i" and fence 0
--   n:<node>  a node's counters "<E> <EW> <S> <SW> <mark>": E holds exactly at the node, EW
--             writes + intents exactly at it, S holds strictly below, SW writes + intents
--             strictly below; mark = until when (ms) a waiter listens on the node's channel.
--             The field exists only while a counter is > 0.
-- The expiry set scores every h:/i: field by its expiry on the server clock; both keys expire
-- with its longest-lived member. Wake-up channel of a node: "<base>wake:<node>".
-- Each script makes a fixed number of redis.calls whatever the depth: node fields are read with
-- one HMGET and written with one HSET and one HDEL (long lists go in slices, see batched()).
local H, X = KEYS[1], KEYS[2]
local channelBase = string.sub(H, 1, -6) .. 'wake:'
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local E, EW, S, SW, MARK = 1, 2, 3, 4, 5
-- A waiter's mark outlives its next attempt by this much (event-loop lag, network): a mark that
-- lives too long costs one PUBLISH nobody hears, one that lapses early costs a missed wake-up.
local MARK_SLACK = 1000

-- Server clock in µs: the fencing token of a grant.
local function fenceNow() return t[1] .. string.format('%06d', tonumber(t[2])) end

-- Run cmd on key with args in slices (Lua's unpack is limited to a few thousand values);
-- the replies (tables) are appended to out if given.
local function batched(cmd, key, args, out)
  for i = 1, #args, 4000 do
    local r = redis.call(cmd, key, unpack(args, i, math.min(i + 3999, #args)))
    if out then for j = 1, #r do out[#out + 1] = r[j] end end
  end
  return out
end

-- The nodes of a path, root first: each ancestor, then the node itself (segments are non-empty).
local function nodes(path, sep)
  local out, from = {}, 1
  while true do
    local at = string.find(path, sep, from, true)
    if not at then
      out[#out + 1] = path
      return out
    end
    out[#out + 1] = string.sub(path, 1, at - 1)
    from = at + #sep
  end
end

local function encodeItem(kind, fence, exp, sep, path)
  return kind .. '|' .. fence .. '|' .. string.format('%.0f', exp) .. '|' .. #sep .. '|' .. sep .. path
end

local function decodeItem(v)
  if not v then return nil end
  local kind, fence, exp, n, rest = string.match(v, '^(%a)|(%d+)|(%d+)|(%d+)|(.*)$')
  if not kind then return nil end
  n = tonumber(n)
  return { kind = kind, fence = fence, exp = tonumber(exp), sep = string.sub(rest, 1, n), path = string.sub(rest, n + 1) }
end

-- Field cache: want() fields, then load() reads all wanted ones with one HMGET; val[f] is the
-- value, or false when the field does not exist.
local val, asked, pending = {}, {}, {}
local function want(f)
  if not asked[f] then
    asked[f] = true
    pending[#pending + 1] = f
  end
end
local function wantNodes(levels) for _, n in ipairs(levels) do want('n:' .. n) end end
local function load()
  if #pending == 0 then return end
  local r = batched('HMGET', H, pending, {})
  for i, f in ipairs(pending) do val[f] = r[i] end
  pending = {}
end

-- Node counters, decoded from loaded fields on first use; written back by flush().
local node = {}
local function counts(n)
  local c = node[n]
  if c then return c end
  local v = val['n:' .. n]
  if v == nil then error('hilok tree script: node ' .. n .. ' used before load()') end
  c = { 0, 0, 0, 0, 0, existed = v and true or false }
  if v then
    local a, b, s, w, m = string.match(v, '^(%d+) (%d+) (%d+) (%d+) (%d+)$')
    c[1], c[2], c[3], c[4], c[5] = tonumber(a), tonumber(b), tonumber(s), tonumber(w), tonumber(m)
  end
  node[n] = c
  return c
end
local function bump(n, j, delta)
  local c = counts(n)
  c[j] = c[j] + delta
  c.dirty = true
end

-- Add delta to the counters an item of kind r / w / i counts in along its path's nodes.
local function apply(kind, levels, delta)
  for i, n in ipairs(levels) do
    local o = (i == #levels) and 0 or 2
    if kind ~= 'i' then bump(n, E + o, delta) end
    if kind ~= 'r' then bump(n, EW + o, delta) end
  end
end

-- Pending writes, applied by flush().
local sets, dels, zadd, zrem, wake, woken = {}, {}, {}, {}, {}, {}
local changed = false
local function put(f, exp, v)
  sets[#sets + 1] = f
  sets[#sets + 1] = v
  zadd[#zadd + 1] = string.format('%.0f', exp)
  zadd[#zadd + 1] = f
  changed = true
end

-- An item ends: its counters go, and every live mark on its path's nodes is consumed (the
-- waiters listening there may proceed now); expired marks are cleared on the way.
local function ending(f)
  local it = decodeItem(val[f])
  if it then
    it.field, it.levels = f, nodes(it.path, it.sep)
    wantNodes(it.levels)
  end
  return it
end
local function finish(it)
  apply(it.kind, it.levels, -1)
  for _, n in ipairs(it.levels) do
    local c = counts(n)
    if c[MARK] > 0 then
      if c[MARK] > now and not woken[n] then
        woken[n] = true
        wake[#wake + 1] = n
      end
      c[MARK] = 0
      c.dirty = true
    end
  end
  dels[#dels + 1] = it.field
  val[it.field] = false
  changed = true
end
-- Remove the loaded item field f (a hold or an intent) with its counters; false if none.
local function drop(f)
  local it = ending(f)
  if not it then return false end
  load()
  finish(it)
  zrem[#zrem + 1] = f
  return it
end

-- Crash recovery on the server clock: holds and intents whose lease ended are removed with
-- their counters, exactly as a release would (waking whoever listens on their paths).
local soonest
local function purge()
  local dead = redis.call('ZRANGEBYSCORE', X, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', X, '-inf', now)
  for _, f in ipairs(dead) do want(f) end
  load()
  local items = {}
  for _, f in ipairs(dead) do items[#items + 1] = ending(f) end
  load()
  for _, it in ipairs(items) do finish(it) end
  changed = true
end

-- Every script starts here, after want()ing what it needs: purge what expired (normally
-- nothing: one call), then read all wanted fields (one HMGET).
local function start()
  local first = redis.call('ZRANGE', X, 0, 0, 'WITHSCORES')
  soonest = first[2] and tonumber(first[2])
  if soonest and soonest <= now then
    purge()
    soonest = nil
  end
  load()
end

-- The earliest lease end in the tree: a blocker cannot end later than its own lease, and the
-- ones that end earlier are purged by the next attempt, so waking then is never too late.
local function soonestLive()
  if soonest == nil then
    local first = redis.call('ZRANGE', X, 0, 0, 'WITHSCORES')
    soonest = first[2] and tonumber(first[2]) or (now + MARK_SLACK)
  end
  return soonest
end

-- Write everything back, fit both keys' ttl to the longest-lived member (or delete the tree
-- when none is left) and wake the channels whose marks were consumed; returns reply.
local function flush(reply)
  for n, c in pairs(node) do
    if c.dirty then
      if c[1] + c[2] + c[3] + c[4] > 0 then
        sets[#sets + 1] = 'n:' .. n
        sets[#sets + 1] = c[1] .. ' ' .. c[2] .. ' ' .. c[3] .. ' ' .. c[4] .. ' ' .. string.format('%.0f', c[5])
        changed = true
      elseif c.existed then
        dels[#dels + 1] = 'n:' .. n
        changed = true
      end
    end
  end
  if not changed then return reply end
  if #dels > 0 then batched('HDEL', H, dels) end
  if #sets > 0 then batched('HSET', H, sets) end
  if #zrem > 0 then batched('ZREM', X, zrem) end
  if #zadd > 0 then batched('ZADD', X, zadd) end
  local last = redis.call('ZRANGE', X, -1, -1, 'WITHSCORES')[2]
  if last then
    redis.call('PEXPIREAT', H, last)
    redis.call('PEXPIREAT', X, last)
  else
    redis.call('DEL', H)
  end
  for _, n in ipairs(wake) do redis.call('PUBLISH', channelBase .. n, 'all') end
  return reply
end
