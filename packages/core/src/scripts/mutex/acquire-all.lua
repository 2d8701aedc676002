-- Take several mutexes as one grant, all or none: if any is busy, none is taken. Same key layout
-- and hand-off queues as mutex/acquire.lua. A blocking caller that cannot have them all waits in
-- name order: it is queued on the first busy mutex (k) and stays queued on those before it; a
-- reservation handed to it on a mutex before k is KEPT (renewed to QUEUE_LIFE on every attempt,
-- so it outlives the caller's next retry, at most 1 s away) and only those after k are passed on
-- (it leaves their queues). So the caller gathers its mutexes in order, each through that mutex's
-- hand-off queue, and a stream of single-name callers cannot keep one of them always taken while
-- another is free (the starvation of waiting on one busy name at a time). Deadlock-free: a
-- caller keeps reservations only on names sorted before the one it waits for (ordered locking);
-- single-name callers keep none while waiting. Bound: docs/waiting.md, "Several names".
-- All keys share one slot (a cluster caller groups its names by slot and takes the groups in
-- slot order; see Mutex.acquire).
-- KEYS[2i-1]  mutex i (layout in mutex/acquire.lua), the names sorted and distinct
-- KEYS[2i]    mutex i's queue (zset waiter token -> arrival µs, server clock)
-- ARGV[1]     owner token (the same for every mutex of the grant)
-- ARGV[2]     ttl in ms
-- ARGV[3]     flags as in mutex/acquire.lua but without "r" (a multi-name hold never re-enters):
--             "w" / "s" = the caller waits if busy: queue it; "q" = it may be queued already
-- Returns     {fence} when every mutex is the caller's now: one fencing token (the server clock
--             in µs) stored in every key; {-(1 + ms until a retry is worth it), i} when mutex i is
--             the first busy one (nothing taken); {0, i} when key i holds something that is no mutex.
-- @include fence
-- @include mutex-handoff
local nowMs, fence, fenceText = serverClock()
local owner, ttl, flags = ARGV[1], ARGV[2], ARGV[3]
local waits = string.find(flags, 'w', 1, true) or string.find(flags, 's', 1, true)
local count = #KEYS / 2
local states = {}
local busy
-- Look first, take nothing until every mutex is known to be takeable.
for i = 1, count do
  local value = redis.pcall('GET', KEYS[2 * i - 1])
  local f, n, waited, o
  if type(value) == 'string' then f, n, waited, o = string.match(value, PARSE) end
  if value and not f then return {0, i} end
  if not f or (n ~= '0' and o == owner) or (n == '0' and (o == '' or o == owner or tonumber(f) <= nowMs)) then
    states[i] = {f, n, waited, o}
  elseif not busy then
    busy = i
    states[i] = {f, n, waited, o}
  end
end
if busy then
  local key, queue = KEYS[2 * busy - 1], KEYS[2 * busy]
  local f, n, waited, o = unpack(states[busy])
  local retry
  if n == '0' then retry = tonumber(f) - nowMs else retry = redis.call('PTTL', key) end
  if waits then
    -- Keep what we gathered before the busy mutex (each of those is free, open or reserved
    -- for us): where we are queued and first in line, the mutex is reserved for us until
    -- QUEUE_LIFE from now (renewed by every attempt; nobody else may take it while we wait for
    -- the rest); where others are ahead of us, it is marked open so that whoever takes it hands
    -- it on when releasing.
    for i = 1, busy - 1 do
      local q = KEYS[2 * i]
      if (not states[i][1] or states[i][2] == '0') and redis.call('ZSCORE', q, owner) then
        if redis.call('ZRANGE', q, 0, 0)[1] == owner then
          redis.call('SET', KEYS[2 * i - 1], string.format('%.0f', nowMs + QUEUE_LIFE) .. ':0:1:' .. owner, 'PX', QUEUE_LIFE)
        elseif not states[i][1] then
          redis.call('SET', KEYS[2 * i - 1], '0:0:1:', 'PX', QUEUE_LIFE)
        end
        redis.call('PEXPIRE', q, QUEUE_LIFE)
      end
    end
    -- Leave the queues after the busy mutex, handing on a reservation held for us there.
    for i = busy + 1, count do
      if redis.call('ZREM', KEYS[2 * i], owner) == 1 then
        local s = states[i]
        if s and s[2] == '0' and s[4] == owner then
          local head = redis.call('ZRANGE', KEYS[2 * i], 0, 0)[1]
          if head then
            redis.call('SET', KEYS[2 * i - 1], '0:0:1:', 'PX', QUEUE_LIFE)
            redis.call('PUBLISH', KEYS[2 * i - 1] .. ':wake', 'to:' .. head)
          else
            redis.call('DEL', KEYS[2 * i - 1])
          end
        end
      end
    end
    if not redis.call('ZSCORE', queue, owner) then
      local score = fence
      local last = redis.call('ZRANGE', queue, -1, -1, 'WITHSCORES')
      if last[2] and tonumber(last[2]) >= score then score = tonumber(last[2]) + 1 end
      redis.call('ZADD', queue, string.format('%.0f', score), owner)
    end
    redis.call('PEXPIRE', queue, QUEUE_LIFE)
    if n ~= '0' and waited == '0' then
      redis.call('SET', key, f .. ':' .. n .. ':1:' .. o, 'KEEPTTL')
    elseif n == '0' then
      redis.call('PEXPIRE', key, QUEUE_LIFE)
    end
    if string.find(flags, 's', 1, true) then
      local age = 0
      if n ~= '0' then age = nowMs - math.floor(tonumber(f) / 1000) end
      retry = math.min(retry, (redis.call('ZRANK', queue, owner) + 1) * math.max(SPIN_STEP_MS, age))
    end
  end
  return {-1 - math.max(0, retry), busy}
end
-- Every mutex is free, open, reserved for us or already ours: take them all with one fence.
for i = 1, count do
  local key, queue = KEYS[2 * i - 1], KEYS[2 * i]
  local o = states[i][4]
  if o and o ~= '' and o ~= owner and states[i][2] == '0' then redis.call('ZREM', queue, o) end
  local mark = ':1:0:'
  if states[i][1] or #flags > 1 then
    redis.call('ZREM', queue, owner)
    if redis.call('EXISTS', queue) == 1 then mark = ':1:1:' end
  end
  redis.call('SET', key, fenceText .. mark .. owner, 'PX', ttl)
end
return {fence}
