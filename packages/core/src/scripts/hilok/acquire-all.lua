-- Take several holds (reads and writes mixed) on paths of ONE hierarchical lock tree as one
-- grant, all or none: if any part is busy, no part is taken. Same layout, conflict rule, writer
-- intents and hand-off queue as hilok/acquire.lua (layout: includes/tree-prelude.lua). A caller
-- with parts in several trees takes the trees one script each, in sorted order (HiLok.acquire).
-- The parts are distinct and unrelated (no part is the same path as, an ancestor or a descendant
-- of another): the client merges or rejects those before calling, so a part never meets another
-- part of the same request — not its hold, not its intent.
-- KEYS[1..3]   the tree's state hash, expiry set and index (as hilok/acquire.lua)
-- ARGV[1]      ttl in ms (every part)
-- ARGV[2]      path separator
-- ARGV[3]      intent ttl in ms
-- ARGV[4]      "1" when the caller will wait for a wake-up if busy: mark the node it listens on
-- ARGV[4+4k-3] part k: mode "r" or "w"
-- ARGV[4+4k-2] part k: hold id (one per part, e.g. "<owner>#<n>")
-- ARGV[4+4k-1] part k: path
-- ARGV[4+4k]   part k: intent id of a blocking caller's part ("" for a one-shot caller; a read
--              part's starts with READER_INTENT, as hilok/acquire.lua's readers'): a busy attempt
--              leaves (or refreshes) every such intent, queued in the tree's hand-off queue (a read
--              part as a waiting reader: kept out only by write holds and older writers); the
--              intents of one request keep their places together — if any of them lost its
--              place (lapsed), all are queued again at the end, so that two requests' intents
--              are in the same order on every path (no request is ahead on one path and behind
--              on another); a grant removes them all
-- Returns  {1, fence of part 1, …, fence of part n} held (a new part: this call's fence; a part
--          re-taken with its hold id: its own fence); {-1, k, the live hold} when part k's hold id
--          holds another path or mode; {0, ms until the earliest lease in the tree ends, level of
--          the node whose channel the caller listens on, blocker's path, blocker's kind,
--          blocker's id, k} busy, k the first busy part (kinds as hilok/acquire.lua). Parsed by
--          readTreeAcquireAll (hilok/protocol.ts).
-- @include tree-prelude
-- @include tree-state
tree(1)
local ttl, sep, intentTtl, listens = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), ARGV[4]
local parts = {}
for k = 1, (#ARGV - 4) / 4 do
  local a = 4 + 4 * k
  local intent = ARGV[a]
  local p = { mode = ARGV[a - 3], hold = 'h:' .. ARGV[a - 2], path = ARGV[a - 1], intent = intent, mine = intent ~= '' and ('i:' .. intent) or nil }
  p.levels = nodes(p.path, sep)
  parts[k] = p
  want(p.hold)
  if p.mine then want(p.mine) end
  for _, f in ipairs(p.levels) do want(f) end
end
want('marks')
want('queue')
start()

-- Look first, take nothing until every part is known to be takeable (as hilok/acquire.lua).
local busy
for k, p in ipairs(parts) do
  local current = decodeItem(val[p.hold])
  if current then
    if current.kind ~= p.mode or current.path ~= p.path then return flush({-1, k, val[p.hold]}) end
    p.current = current
  elseif not busy then
    local d = #p.levels
    local exact, tag = E, 'a'
    if p.mode == 'r' then exact, tag = EW, 'w' end
    local blocked
    for l = 1, d do
      if val[p.levels[l]] and counts(p.levels[l])[exact] > 0 then
        blocked = l
        break
      end
    end
    local under = not blocked and below(tag, p.path, sep)
    if under then blocked = d end
    local ownIntent = p.mine and decodeItem(val[p.mine])
    local entry = ownIntent and queued(p.intent)
    local ahead = not blocked and p.mode == 'w' and starvingAhead(p.intent, entry and entry.at, p.path, sep)
    if blocked and p.mode == 'r' and p.mine then
      -- A read part that waits is a waiting reader (as in hilok/acquire.lua): kept out by write
      -- holds and by the waiting writers that came before it, not by younger ones.
      local l = writeAt(p.levels)
      under = not l and writeBelow(p.path, sep)
      if l or under then
        blocked = l or d
      else
        blocked = nil
        ahead = olderWriter(entry and entry.at, p.path, sep)
      end
    end
    if blocked or ahead then
      busy = { k = k, blocked = blocked, under = under, ahead = ahead }
    end
  end
end

if not busy then
  -- Every part is free (or already ours): take them all with one fence; the intents are done.
  local out = {1}
  for k, p in ipairs(parts) do
    local fence, kind, holdSep = FENCE, p.mode, sep
    if p.current then
      fence, holdSep = p.current.fence, p.current.sep
    else
      created(p.mode, p.levels, p.hold)
    end
    local exp = now + ttl
    put(p.hold, exp, encodeItem(kind, fence, exp, holdSep, p.path))
    out[k + 1] = fence
  end
  for _, p in ipairs(parts) do
    if p.mine and val[p.mine] then drop(p.mine, false) end
  end
  return flush(out)
end

-- Busy: name the blocker of the first busy part (as hilok/acquire.lua).
local p = parts[busy.k]
local blockerPath, blockerKind, blockerId
if busy.ahead then
  blockerPath, blockerKind, blockerId = busy.ahead.path, 'i', ''
else
  local blockerNode = busy.under and ('n:' .. busy.under) or p.levels[busy.blocked]
  if busy.under then
    want(blockerNode)
    load()
  end
  local bc = counts(blockerNode)
  blockerPath, blockerKind, blockerId = string.sub(blockerNode, 3), bc[WRITER] and 'w' or (p.mode == 'w' and 'r' or 'i'), bc[WRITER] or ''
end
local retry = math.max(1, soonestLive() - now)
local level = busy.blocked or #p.levels

-- A blocking caller's parts wait in the hand-off queue (writes as writers, reads as readers):
-- intents, kept in arrival order together.
local requeue = false
for _, q in ipairs(parts) do
  if q.mine then
    q.item = decodeItem(val[q.mine])
    q.entry = q.item and queued(q.intent)
    if not q.entry then requeue = true end
  end
end
for _, q in ipairs(parts) do
  if q.mine then
    if requeue and q.entry then dequeue(q.intent) end
    local arrival = (not requeue) and q.entry.arrival or nil
    if not q.item and q.mode == 'w' then created('i', q.levels) end
    if not arrival then arrival = enqueue(q.intent, sep, q.path) end
    local exp = now + intentTtl
    local item = encodeItem(q.mode == 'w' and 'i' or 'q', arrival, exp, sep, q.path)
    put(q.mine, exp, item)
    val[q.mine] = item
  end
end
if p.mine then
  -- The busy part waits in the queue: it listens on its own path's channel, where its hand-off
  -- is addressed.
  level = #p.levels
elseif listens == '1' then
  mark(string.sub(p.levels[level], 3), now + retry + MARK_SLACK)
end
return flush({0, retry, level, blockerPath, blockerKind, blockerId, busy.k})
