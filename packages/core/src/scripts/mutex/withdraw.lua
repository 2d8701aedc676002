-- A waiter gives up (timeout, abort, close): leave the mutex's queue. A reservation it held goes
-- on to the next in line, so a departing waiter never stalls the hand-off; so does a grant a
-- release of its process made it meanwhile (handOn), which it never took.
-- KEYS[1]  mutex (layout in mutex/acquire.lua)
-- KEYS[2]  its queue (zset waiter token -> arrival µs)
-- ARGV[1]  the waiter's token
-- Returns  1 when the waiter was queued, 0 when not.
-- @include fence
-- @include mutex-handoff
-- @include mutex-handon
local left = redis.call('ZREM', KEYS[2], ARGV[1])
local value = redis.pcall('GET', KEYS[1])
local f, n, w, o
if type(value) == 'string' then f, n, w, o = string.match(value, PARSE) end
if n == '0' and (o == ARGV[1] or o == '') then
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if head then
    redis.call('SET', KEYS[1], '0:0:1:', 'PX', QUEUE_LIFE)
    redis.call('PUBLISH', KEYS[1] .. ':wake', 'to:' .. head)
  else
    redis.call('DEL', KEYS[1])
  end
elseif n == '1' and o == ARGV[1] then
  -- Granted by a release of our process while we gave up (a waiter holds nothing else under its
  -- token): give it back, as that release would have without us.
  handOn(KEYS[1], KEYS[2], redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES'), '')
end
return left
