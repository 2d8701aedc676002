-- The per-tree machinery of the hilok tree scripts (inlined after includes/tree-prelude.lua):
-- a field cache read with one HMGET, node counters, marks, the writers' queue, pending writes and
-- flush(). Everything here is about one tree at a time: tree(i) starts on tree i of the call
-- with fresh state, so a batch runs each tree's script body in turn, as if it were alone.
-- (The functions are defined once per call and see the current tree through these upvalues.)
--   H, X, IX      the tree's state hash, expiry set and index (KEYS[3i-2], KEYS[3i-1], KEYS[3i])
--   channelBase   "<base>wake:", its wake-up channels' common start
--   val, asked, pending   the field cache (want / load)
--   node, touched         decoded node counters, and which fields were decoded
--   marks, marksDirty, queue, queueDirty   the decoded "marks" and "queue" fields
--   sets, dels, zadd, zrem   pending writes of hash fields and expiry members (flush)
--   wake, woken           nodes whose marks were consumed (published "all" by flush)
--   ended, handed         items that ended (hand-off candidates are related to one), and the
--                         writers handed to (woken with "to:<id>" on their path's channel)
--   changed, soonest      anything to write; the earliest expiry in the tree, once read
local H, X, IX, channelBase
local val, asked, pending, node, touched, marks, marksDirty, queue, queueDirty
local sets, dels, zadd, zrem, wake, woken, ended, handed, changed, soonest
local function tree(i)
  H, X, IX = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  -- Channels are not keys (nothing to declare for a slot), so the base is cut from the state key
  -- instead of passed in ARGV, which would add its bytes to every call of five scripts; the rule
  -- ("<base>wake:<node>") is the one treeChannel in hilok/protocol.ts builds for clients.
  channelBase = string.sub(H, 1, -6) .. 'wake:'
  val, asked, pending, node, touched = {}, {}, {}, {}, {}
  marks, marksDirty, queue, queueDirty = nil, false, nil, false
  sets, dels, zadd, zrem, wake, woken, ended, handed = {}, {}, {}, {}, {}, {}, {}, {}
  changed, soonest = false, nil
end

-- Run cmd on key with args in slices (Lua's unpack is limited to a few thousand values);
-- the replies (tables) are appended to out if given.
local function batched(cmd, key, args, out)
  for i = 1, #args, 4000 do
    local r = redis.call(cmd, key, unpack(args, i, math.min(i + 3999, #args)))
    if out then for j = 1, #r do out[#out + 1] = r[j] end end
  end
  return out
end

-- The node fields of a path, root first: each ancestor's "n:<node>", then the node's own
-- (segments are non-empty). A field's node is string.sub(field, 3).
local function nodes(path, sep)
  local out, from = {}, 1
  while true do
    local at = string.find(path, sep, from, true)
    if not at then
      out[#out + 1] = 'n:' .. path
      return out
    end
    out[#out + 1] = 'n:' .. string.sub(path, 1, at - 1)
    from = at + #sep
  end
end

-- Field cache: want() fields, then load() reads all wanted ones with one HMGET; val[f] is the
-- value, or false when the field does not exist.
local function want(f)
  if val[f] == nil and not asked[f] then
    asked[f] = true
    pending[#pending + 1] = f
  end
end
-- A path's node fields are distinct and "n:"-prefixed, so they skip the duplicate check (this
-- runs once per level of every acquire); call it before any other want() of a node field and
-- load() before the next one (want() also skips fields already loaded).
local function wantNodes(levels)
  local n = #pending
  for i = 1, #levels do pending[n + i] = levels[i] end
end
local function load()
  if #pending == 0 then return end
  local r = batched('HMGET', H, pending, {})
  for i, f in ipairs(pending) do val[f] = r[i] end
  pending = {}
end

-- Node counters by field, decoded from loaded fields on first use and written back by flush():
-- {E, EW, existed, dirty, E and EW as the index knows them, id of the write hold or false}.
local function counts(f)
  local c = node[f]
  if c then return c end
  local v = val[f]
  if v == nil then error('hilok tree script: ' .. f .. ' used before load()') end
  if v then
    local e, w = struct.unpack(PACK, v)
    c = { e, w, true, false, e, w, #v > 8 and string.sub(v, 9) or false }
  else
    c = { 0, 0, false, false, 0, 0, false }
  end
  node[f] = c
  touched[#touched + 1] = f
  return c
end

-- Add delta to the counters an item of kind r / w / i counts in at its node (field f); a write
-- hold's id (hold field "h:<id>") is kept at its node while it lives.
local function apply(kind, f, delta, holdField)
  -- A waiting reader's intent ("q") counts nowhere: it blocks nobody by counters, only by its
  -- place in the queue.
  if kind == 'q' then return end
  local c = counts(f)
  if kind ~= 'i' then c[E] = c[E] + delta end
  if kind ~= 'r' then c[EW] = c[EW] + delta end
  if kind == 'w' then c[WRITER] = delta > 0 and string.sub(holdField, 3) end
  c[DIRTY] = true
end

-- The first node (its path) that the index has with tag ('a' holds, 'w' writes + intents)
-- strictly below path, or nil: one ZRANGEBYLEX on the prefix "<tag><path><sep>" (the upper
-- bound is that prefix with its last byte + 1; UTF-8 never has byte 255, so there is no carry).
local function belowAll(tag, path, sep, limit)
  local last = #sep
  local upper = string.sub(sep, 1, last - 1) .. string.char(string.byte(sep, last) + 1)
  return redis.call('ZRANGEBYLEX', IX, '[' .. tag .. path .. sep, '(' .. tag .. path .. upper, 'LIMIT', 0, limit)
end
local function below(tag, path, sep)
  local first = belowAll(tag, path, sep, 1)[1]
  return first and string.sub(first, 2)
end

-- Marks (field "marks"): node -> until when a waiter listens there; loaded with the other fields.
local function markList()
  if marks then return marks end
  local v = val['marks']
  if v == nil then error('hilok tree script: marks used before load()') end
  marks = {}
  if v then for exp, n in string.gmatch(v, '(%d+)\254([^\255]*)\255') do marks[n] = tonumber(exp) end end
  return marks
end
-- A waiter listens on node n until at least `untilMs`.
local function mark(n, untilMs)
  local m = markList()
  if not m[n] or m[n] < untilMs then
    m[n] = untilMs
    marksDirty = true
  end
end

-- Paths p and q (with their separators) are related: equal, or one is an ancestor of the other.
local function related(p, psep, q, qsep)
  return p == q or string.sub(q, 1, #p + #psep) == p .. psep or string.sub(p, 1, #q + #qsep) == q .. qsep
end

-- The queue (field "queue"), oldest first: {arrival (text), at (number), id, sep, path};
-- loaded with the other fields. Waiting writers, and waiting readers (their intent ids start with
-- READER_INTENT, see tree-prelude).
local function isReader(e)
  return string.sub(e.id, 1, #READER_INTENT) == READER_INTENT
end
-- Two queued waiters conflict: related paths, not both readers.
local function clash(a, b)
  return related(a.path, a.sep, b.path, b.sep) and not (isReader(a) and isReader(b))
end
local function queueList()
  if queue then return queue end
  local v = val['queue']
  if v == nil then error('hilok tree script: queue used before load()') end
  queue = {}
  if v then
    for a, id, s, p in string.gmatch(v, '(%d+)\254([^\254]*)\254([^\254]*)\254([^\255]*)\255') do
      queue[#queue + 1] = { arrival = a, at = tonumber(a), id = id, sep = s, path = p }
    end
  end
  return queue
end
-- The queue entry of intent id, or nil.
local function queued(id)
  for _, e in ipairs(queueList()) do
    if e.id == id then return e end
  end
end
-- Append intent id (a writer on path) at the end of the queue; returns its arrival: the server
-- clock in µs, bumped past the last arrival so the order is strict.
local function enqueue(id, sep, path)
  local q = queueList()
  local at = nowUs
  local last = q[#q]
  if last and last.at >= at then at = last.at + 1 end
  local arrival = string.format('%.0f', at)
  q[#q + 1] = { arrival = arrival, at = at, id = id, sep = sep, path = path }
  queueDirty = true
  return arrival
end
local function dequeue(id)
  local q = queueList()
  for i, e in ipairs(q) do
    if e.id == id then
      table.remove(q, i)
      queueDirty = true
      return
    end
  end
end
-- The oldest starving waiter (writer or reader) that a writer on path (with intent id and arrival
-- `at`, or none yet) must let go first: related to path, not its own, older than it. nil when none. The
-- entry's intent is read (one HMGET): an entry whose intent is gone (ended by a script of an
-- older hilok version, which does not know the queue) is dropped instead of blocking.
-- (firstAhead: the oldest live entry older than `at` (any, when at is nil) on a path related to
-- path for which wanted(e) is true.)
local function firstAhead(at, path, sep, wanted)
  if not val['queue'] and not queue then return nil end
  local q = queueList()
  local i = 1
  while q[i] do
    local e = q[i]
    if at and e.at >= at then return nil end
    if wanted(e) and related(e.path, e.sep, path, sep) then
      want('i:' .. e.id)
      load()
      if val['i:' .. e.id] then return e end
      dequeue(e.id)
    else
      i = i + 1
    end
  end
end
local function starvingAhead(id, at, path, sep)
  return firstAhead(at, path, sep, function(e) return e.id ~= id and nowUs - e.at >= STARVE_US end)
end

-- (belowAll: the first `limit` index members with tag strictly below path.)
-- The first node strictly below path with a write hold (not only intents), or nil: the "w" index
-- nodes below (writes and intents), each node's counters read with one HMGET. At most
-- HANDOFF_CHECKS nodes are looked at; beyond them the answer is "blocked" (the next attempt or
-- ending tells).
local function writeBelow(path, sep)
  local found = belowAll('w', path, sep, HANDOFF_CHECKS + 1)
  if #found == 0 then return nil end
  for _, m in ipairs(found) do want('n:' .. string.sub(m, 2)) end
  load()
  for i, m in ipairs(found) do
    if i > HANDOFF_CHECKS then return string.sub(m, 2) end
    if counts('n:' .. string.sub(m, 2))[WRITER] then return string.sub(m, 2) end
  end
  return nil
end
-- The level (1 = root) of the first node on a path (its node fields: levels) with a write hold, or nil.
local function writeAt(levels)
  for l = 1, #levels do
    if val[levels[l]] and counts(levels[l])[WRITER] then return l end
  end
  return nil
end
-- The oldest live writer intent related to path and older than `at` (any age when at is nil): a
-- waiting reader lets it go first. nil when none.
local function olderWriter(at, path, sep)
  return firstAhead(at, path, sep, function(e) return not isReader(e) end)
end

local function put(f, exp, v)
  sets[#sets + 1] = f
  sets[#sets + 1] = v
  zadd[#zadd + 1] = string.format('%.0f', exp)
  zadd[#zadd + 1] = f
  changed = true
end
-- A new item (hold or intent field f): its counters at its node (levels: its path's node fields).
local function created(kind, levels, f)
  apply(kind, levels[#levels], 1, f)
end

-- Bring the index in line with the node counters changed so far: a node enters "a" / "w" when
-- its E / EW becomes > 0 and leaves when it drops to 0.
local function syncIndex()
  local add, rem = {}, {}
  local function toggle(c, j, j0, member)
    if (c[j] > 0) ~= (c[j0] > 0) then
      if c[j] > 0 then
        add[#add + 1] = 0
        add[#add + 1] = member
      else
        rem[#rem + 1] = member
      end
      c[j0] = c[j]
    end
  end
  for _, f in ipairs(touched) do
    local c = node[f]
    if c[DIRTY] then
      local n = string.sub(f, 3)
      toggle(c, E, E0, 'a' .. n)
      toggle(c, EW, EW0, 'w' .. n)
    end
  end
  if #rem > 0 then batched('ZREM', IX, rem) end
  if #add > 0 then batched('ZADD', IX, add) end
end

-- An item ends (ending() before a load(), finish() after): its counters go and, when it may
-- have blocked someone (wakeUp), every mark on an ancestor-or-self of its path is consumed
-- (the waiters listening there may proceed now). Expired marks go on the way.
local function ending(f)
  local it = decodeItem(val[f])
  if it then
    it.field, it.node = f, 'n:' .. it.path
    want(it.node)
    want('marks')
    want('queue')
  end
  return it
end
local function finish(it, wakeUp)
  apply(it.kind, it.node, -1, it.field)
  if it.kind == 'i' or it.kind == 'q' then dequeue(string.sub(it.field, 3)) end
  if wakeUp then
    ended[#ended + 1] = it
    local path, sep = it.path, it.sep
    for n, exp in pairs(markList()) do
      local on = n == path or string.sub(path, 1, #n + #sep) == n .. sep
      if on or exp <= now then
        if on and exp > now and not woken[n] then
          woken[n] = exp
          wake[#wake + 1] = n
        end
        marks[n] = nil
        marksDirty = true
      end
    end
  end
  dels[#dels + 1] = it.field
  val[it.field] = false
  changed = true
end
-- Remove the loaded item field f (a hold or an intent) with its counters; false if none.
local function drop(f, wakeUp)
  local it = ending(f)
  if not it then return false end
  load()
  finish(it, wakeUp)
  zrem[#zrem + 1] = f
  return it
end

-- Crash recovery on the server clock: holds and intents whose lease ended are removed with
-- their counters, exactly as a release would (waking whoever listens on their paths).
local function purge()
  local dead = redis.call('ZRANGEBYSCORE', X, '-inf', now)
  redis.call('ZREMRANGEBYSCORE', X, '-inf', now)
  for _, f in ipairs(dead) do want(f) end
  load()
  local items = {}
  for _, f in ipairs(dead) do items[#items + 1] = ending(f) end
  load()
  for _, it in ipairs(items) do finish(it, true) end
  -- The acquire's "anything below?" query reads the index: it must not see the dead.
  syncIndex()
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

-- Hand-off after items ended: walk the writers' queue oldest first. A writer behind an older
-- starving or handed-to writer on a related path is skipped (it would be refused); the others
-- related to an ended item are candidates, all of them: a writer this ending frees and nobody
-- hands to would wait for its own next attempt (intentTtl / 3), and readers behind its intent
-- with it. A candidate that can take its hold now (no hold on its path, its ancestors or below;
-- not related to a writer handed to before it) is handed to: its intent is renewed for
-- RESERVE_MS only and it is woken alone. The checks of all candidates' paths and ancestors share
-- one HMGET; "below" costs one ZRANGEBYLEX per candidate that passed them, at most
-- HANDOFF_CHECKS per call.
local function handOff()
  if #ended == 0 or (not val['queue'] and not queue) then return end
  local q = queueList()
  if #q == 0 then return end
  local firm, candidates = {}, {}
  for _, e in ipairs(q) do
    local behind = false
    for _, a in ipairs(firm) do
      if clash(a, e) then
        behind = true
        break
      end
    end
    if not behind then
      for _, it in ipairs(ended) do
        if related(it.path, it.sep, e.path, e.sep) then
          candidates[#candidates + 1] = e
          e.levels = nodes(e.path, e.sep)
          for _, f in ipairs(e.levels) do want(f) end
          want('i:' .. e.id)
          break
        end
      end
    end
    if nowUs - e.at >= STARVE_US then firm[#firm + 1] = e end
  end
  if #candidates == 0 then return end
  load()
  -- below() reads the index: bring it in line with this script's changes first.
  syncIndex()
  local chosen, checks = {}, 0
  for _, e in ipairs(candidates) do
    -- An entry whose intent is gone (see starvingAhead) leaves the queue.
    local free = val['i:' .. e.id] and true
    if not free then dequeue(e.id) end
    for _, c in ipairs(chosen) do
      if clash(c, e) then
        free = false
        break
      end
    end
    -- A writer needs no hold on its path, its ancestors or below; a reader no write hold there.
    local reader = isReader(e)
    if free then
      for _, f in ipairs(e.levels) do
        if val[f] and (reader and counts(f)[WRITER] or (not reader and counts(f)[E] > 0)) then
          free = false
          break
        end
      end
    end
    if free then
      if checks < HANDOFF_CHECKS then
        checks = checks + 1
        if reader then free = not writeBelow(e.path, e.sep) else free = not below('a', e.path, e.sep) end
      else
        free = false
      end
    end
    if free then
      chosen[#chosen + 1] = e
      local exp = now + RESERVE_MS
      put('i:' .. e.id, exp, encodeItem(reader and 'q' or 'i', e.arrival, exp, e.sep, e.path))
      handed[#handed + 1] = e
    end
  end
end

-- The consumed marks whose node still has a write or a waiting writer exactly at it: no reader
-- listening there can proceed, so the mark stays and nothing is published there.
local function keepBlockedMarks()
  if #wake == 0 then return end
  for _, n in ipairs(wake) do want('n:' .. n) end
  load()
  local out = {}
  for _, n in ipairs(wake) do
    local f = 'n:' .. n
    if val[f] and counts(f)[EW] > 0 then
      marks[n] = woken[n]
      marksDirty = true
    else
      out[#out + 1] = n
    end
  end
  wake = out
end

-- Write everything back, fit both keys' ttl to the longest-lived member (or delete the tree
-- when none is left) and wake the channels whose marks were consumed; returns reply.
local function flush(reply)
  handOff()
  keepBlockedMarks()
  for _, f in ipairs(touched) do
    local c = node[f]
    if c[DIRTY] then
      if c[E] + c[EW] > 0 then
        sets[#sets + 1] = f
        sets[#sets + 1] = struct.pack(PACK, c[E], c[EW]) .. (c[WRITER] or '')
        changed = true
      elseif c[EXISTED] then
        dels[#dels + 1] = f
        changed = true
      end
    end
  end
  if marksDirty then
    local out = {}
    for n, exp in pairs(marks) do
      if exp > now then out[#out + 1] = string.format('%.0f', exp) .. '\254' .. n .. '\255' end
    end
    if #out > 0 then
      sets[#sets + 1] = 'marks'
      sets[#sets + 1] = table.concat(out)
    elseif val['marks'] then
      dels[#dels + 1] = 'marks'
    end
    changed = true
  end
  if queueDirty then
    if #queue > 0 then
      local out = {}
      for i, e in ipairs(queue) do out[i] = e.arrival .. '\254' .. e.id .. '\254' .. e.sep .. '\254' .. e.path .. '\255' end
      sets[#sets + 1] = 'queue'
      sets[#sets + 1] = table.concat(out)
    elseif val['queue'] then
      dels[#dels + 1] = 'queue'
    end
    changed = true
  end
  if not changed then return reply end
  if #dels > 0 then batched('HDEL', H, dels) end
  if #sets > 0 then batched('HSET', H, sets) end
  if #zrem > 0 then batched('ZREM', X, zrem) end
  if #zadd > 0 then batched('ZADD', X, zadd) end
  syncIndex()
  local last = redis.call('ZRANGE', X, -1, -1, 'WITHSCORES')[2]
  if last then
    redis.call('PEXPIREAT', H, last)
    redis.call('PEXPIREAT', X, last)
    redis.call('PEXPIREAT', IX, last)
  else
    redis.call('DEL', H, IX)
  end
  for _, n in ipairs(wake) do redis.call('PUBLISH', channelBase .. n, 'all') end
  for _, e in ipairs(handed) do redis.call('PUBLISH', channelBase .. e.path, 'to:' .. e.id) end
  return reply
end
