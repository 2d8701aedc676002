-- Take (or re-take) read or write holds on paths of hierarchical lock trees, one per tree entry:
-- a fixed number of redis.calls per entry whatever the depth (layout: includes/tree-prelude.lua).
-- The entries are independent; several travel in one call when callers acquire in the same
-- tick, and each is checked and changed on its own, in order (two entries may be one tree).
-- @batch 8 keys 3
-- KEYS[3i-2]  entry i's tree state hash "<base>state"
-- KEYS[3i-1]  entry i's tree expiry set "<base>expiry"
-- KEYS[3i]    entry i's tree index "<base>index"
-- ARGV[8i-7]  mode: "r" or "w"
-- ARGV[8i-6]  hold id (owner token)
-- ARGV[8i-5]  ttl in ms
-- ARGV[8i-4]  path
-- ARGV[8i-3]  path separator
-- ARGV[8i-2]  intent id of a blocking caller ("" for non-blocking ones; a reader's starts with
--             READER_INTENT): a busy attempt leaves (or refreshes) it and queues it in the
--             hand-off queue, a successful one removes it
-- ARGV[8i-1]  intent ttl in ms
-- ARGV[8i]    "1" when a reader will wait for a wake-up if busy: mark the node it listens on (a
--             waiting writer listens on its own path's channel, where its hand-off is addressed)
-- Returns  per entry: {1, fence} held; {-1, the live hold} when the id holds another path or mode;
--          {0, ms until the earliest lease in the tree ends (no later than the blocker's),
--          level of the node whose channel the caller listens on (a waiting writer: its path),
--          blocker's path, blocker's kind, blocker's id} busy — kind "w" a write hold (id: its
--          hold id), "r" read holds (id ""), "i" a waiting writer (id "").
--          Parsed by readTreeAcquire (hilok/protocol.ts) for core and Redlock alike.
-- Conflict rule: holds on P and Q conflict iff P = Q or one is an ancestor of the other, and at
-- least one is a write. Readers also wait behind waiting writers (intents) — a queued reader only
-- behind those older than it — and a writer behind an older starving writer or reader on a
-- related path (see the queue in tree-prelude): no writer and no reader starves.
-- @include tree-prelude

-- A tree with no item at all (no hold, no intent: its keys do not exist) — the uncontended case
-- — takes the hold without the per-tree machinery: what the general path would write, with no
-- read but the expiry set's first member. nil when the tree is not empty.
local function grantInEmptyTree(i, mode, id, ttl, path, sep)
  local H, X, IX = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  if redis.call('ZRANGE', X, 0, 0)[1] then return nil end
  local expMs = now + ttl
  local exp, hold = string.format('%.0f', expMs), 'h:' .. id
  -- The hold, and its node's counters (E, EW and a write's id): the index lists the node.
  if mode == 'w' then
    redis.call('HSET', H, hold, encodeItem('w', FENCE, expMs, sep, path), 'n:' .. path, struct.pack(PACK, 1, 1) .. id)
    redis.call('ZADD', IX, 0, 'a' .. path, 0, 'w' .. path)
  else
    redis.call('HSET', H, hold, encodeItem('r', FENCE, expMs, sep, path), 'n:' .. path, struct.pack(PACK, 1, 0))
    redis.call('ZADD', IX, 0, 'a' .. path)
  end
  redis.call('ZADD', X, exp, hold)
  redis.call('PEXPIREAT', H, exp)
  redis.call('PEXPIREAT', X, exp)
  redis.call('PEXPIREAT', IX, exp)
  return {1, FENCE}
end

local out, rest = {}, {}
for i = 1, #KEYS / 3 do
  local a = 8 * i
  out[i] = grantInEmptyTree(i, ARGV[a - 7], ARGV[a - 6], tonumber(ARGV[a - 5]), ARGV[a - 4], ARGV[a - 3])
  if not out[i] then rest[#rest + 1] = i end
end
if #rest == 0 then return out end

-- The general path, for the entries whose tree has items, in order.
-- @include tree-state
local function acquire(mode, id, ttl, path, sep, intent, intentTtl, listens)
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
  for l = 1, d do
    if val[levels[l]] and counts(levels[l])[exact] > 0 then
      blocked = l
      break
    end
  end
  local under = not blocked and below(tag, path, sep)
  if under then blocked = d end
  -- A writer the holds let in still lets an older starving writer or reader on a related path go
  -- first (the field is absent, and this costs nothing, while nobody waits).
  local ownIntent = mine and decodeItem(val[mine])
  local entry = ownIntent and queued(intent)
  local ahead = not blocked and mode == 'w' and starvingAhead(intent, entry and entry.at, path, sep)
  if blocked and mode == 'r' and mine then
    -- A reader that will wait is kept out by write holds, and by the waiting writers that came
    -- before it (all of them until it is queued), not by those that came after it: they wait
    -- for it once it starves.
    local l = writeAt(levels)
    under = not l and writeBelow(path, sep)
    if l or under then
      blocked = l or d
    else
      blocked = nil
      ahead = olderWriter(entry and entry.at, path, sep)
    end
  end
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
    -- A waiting writer or reader keeps its place (its arrival) while its intent lives, and listens
    -- on its own path's channel: releases address its hand-off there (every ending related to its
    -- path considers it, so a queued reader needs no mark).
    local exp = now + intentTtl
    local arrival = entry and entry.arrival
    if not ownIntent and mode == 'w' then created('i', levels) end
    if not arrival then
      if ownIntent then dequeue(intent) end
      arrival = enqueue(intent, sep, path)
    end
    local item = encodeItem(mode == 'w' and 'i' or 'q', arrival, exp, sep, path)
    put(mine, exp, item)
    val[mine] = item -- live now (the hand-off walk in flush drops queue entries without an intent)
    level = d
  elseif listens == '1' then
    -- Releases publish only to nodes with a live mark: this is where we will listen.
    mark(string.sub(levels[level], 3), now + retry + MARK_SLACK)
  end
  return flush({0, retry, level, blockerPath, blockerKind, blockerId})
end

for _, i in ipairs(rest) do
  local a = 8 * i
  tree(i)
  out[i] = acquire(ARGV[a - 7], ARGV[a - 6], tonumber(ARGV[a - 5]), ARGV[a - 4], ARGV[a - 3], ARGV[a - 2], tonumber(ARGV[a - 1]), ARGV[a])
end
return out
