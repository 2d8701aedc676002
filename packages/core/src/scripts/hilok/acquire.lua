-- Take (or re-take) a read or write hold on a path of a hierarchical lock tree: one script call
-- and a fixed number of redis.calls whatever the depth (layout: includes/tree-prelude.lua).
-- KEYS[1]  tree state hash "<base>state"
-- KEYS[2]  tree expiry set "<base>expiry"
-- KEYS[3]  tree index "<base>index"
-- ARGV[1]  mode: "r" or "w"
-- ARGV[2]  hold id (owner token)
-- ARGV[3]  ttl in ms
-- ARGV[4]  path
-- ARGV[5]  path separator
-- ARGV[6]  intent id of a blocking writer ("" for readers and non-blocking writers): a busy
--          attempt leaves (or refreshes) it and queues it among the waiting writers, a
--          successful one removes it
-- ARGV[7]  intent ttl in ms
-- ARGV[8]  "1" when a reader will wait for a wake-up if busy: mark the node it listens on (a
--          waiting writer listens on its own path's channel, where its hand-off is addressed)
-- Returns  {1, fence} held; {-1, the live hold} when the id holds another path or mode;
--          {0, ms until the earliest lease in the tree ends (no later than the blocker's),
--          level of the node whose channel the caller listens on (a waiting writer: its path),
--          blocker's path, blocker's kind, blocker's id} busy — kind "w" a write hold (id: its
--          hold id), "r" read holds (id ""), "i" a waiting writer (id "").
--          Parsed by readTreeAcquire (hilok/protocol.ts) for core and Redlock alike.
-- Conflict rule: holds on P and Q conflict iff P = Q or one is an ancestor of the other, and at
-- least one is a write. Readers also wait behind waiting writers (intents), and a writer behind
-- an older starving writer on a related path (see the queue in tree-prelude): no writer starves.
-- @include tree-prelude
local mode, id, ttl, path, sep, intent = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[6]
local levels = nodes(path, sep)
local d = #levels
local hold = 'h:' .. id
local mine = intent ~= '' and ('i:' .. intent) or nil
want(hold)
if mine then want(mine) end
wantNodes(levels)
want('marks')
want('queue')
start()

local function grant(fence, kind, holdSep)
  local exp = now + ttl
  put(hold, exp, encodeItem(kind, fence, exp, holdSep, path))
  -- The writer is in: its intent has done its job (readers it held back stay blocked by the
  -- hold, so nobody is woken).
  if mine and val[mine] then drop(mine, false) end
  return flush({1, fence})
end

local current = decodeItem(val[hold])
if current then
  if current.kind ~= mode or current.path ~= path then return flush({-1, val[hold]}) end
  -- A re-take refreshes the hold (possibly with a shorter ttl): same fence, same counters.
  return grant(current.fence, mode, current.sep)
end

-- A writer conflicts with any hold at an ancestor, at the node or below it; a reader with
-- writes and waiting writers there. Ancestors are only read: absent fields cost no decoding.
local exact, tag = E, 'a'
if mode == 'r' then exact, tag = EW, 'w' end
local blocked
for i = 1, d do
  if val[levels[i]] and counts(levels[i])[exact] > 0 then
    blocked = i
    break
  end
end
local under = not blocked and below(tag, path, sep)
if under then blocked = d end
-- A writer the holds let in still lets an older starving writer on a related path go first (the
-- field is absent, and this costs nothing, while no writer waits).
local ownIntent = mine and decodeItem(val[mine])
local entry = ownIntent and queued(intent)
local ahead = not blocked and mode == 'w' and starvingAhead(intent, entry and entry.at, path, sep)
if not blocked and not ahead then
  created(mode, levels, hold)
  return grant(FENCE, mode, sep)
end

-- Busy (the slow path): name the blocker from its node's counters — the write hold's id is kept
-- there; without one, a writer met read holds and a reader met a waiting writer. A blocker below
-- costs one more HMGET of its node field. A writer behind a starving one is told that one.
local blockerPath, blockerKind, blockerId
if ahead then
  blockerPath, blockerKind, blockerId = ahead.path, 'i', ''
else
  local blockerNode = under and ('n:' .. under) or levels[blocked]
  if under then
    want(blockerNode)
    load()
  end
  local bc = counts(blockerNode)
  blockerPath, blockerKind, blockerId = string.sub(blockerNode, 3), bc[WRITER] and 'w' or (mode == 'w' and 'r' or 'i'), bc[WRITER] or ''
end

local retry = math.max(1, soonestLive() - now)
local level = blocked or d
if mine then
  -- A waiting writer keeps its place (its arrival) while its intent lives, and listens on its own
  -- path's channel: releases address its hand-off there.
  local exp = now + tonumber(ARGV[7])
  local arrival = entry and entry.arrival
  if not ownIntent then created('i', levels) end
  if not arrival then
    if ownIntent then dequeue(intent) end
    arrival = enqueue(intent, sep, path)
  end
  local item = encodeItem('i', arrival, exp, sep, path)
  put(mine, exp, item)
  val[mine] = item -- live now (the hand-off walk in flush drops queue entries without an intent)
  level = d
elseif ARGV[8] == '1' then
  -- Releases publish only to nodes with a live mark: this is where we will listen.
  mark(string.sub(levels[level], 3), now + retry + MARK_SLACK)
end
return flush({0, retry, level, blockerPath, blockerKind, blockerId})
