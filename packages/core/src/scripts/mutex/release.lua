-- Release one hold of each mutex the caller owns; when waiters are queued, hand off to the head
-- of the queue (see mutex-handoff): wake it, and reserve the lock for it once it has starved.
-- @batch 2 keys 2
-- KEYS[2i-1]   mutex i (layout in mutex/acquire.lua)
-- KEYS[2i]     mutex i's queue (zset waiter token -> arrival µs)
-- ARGV[2i-1]   owner token for mutex i
-- ARGV[2i]     the value the caller expects mutex i to hold when it took it alone: one hold, no
--              waiter mark ("fence:1:0:owner"); "" when it does not know. A match is released
--              with one string comparison (the common, uncontended release); anything else takes
--              the general path, so a wrong guess costs only that comparison ("" never matches:
--              a foreign empty string must not be deleted).
-- Returns      per mutex: holds left (0 = the mutex is free now), -1 when the caller does not own
--              it, or "to:<token>" when it was freed and handed to the queued waiter <token>.
-- The wake-up channel is the key followed by ":wake" (a channel is not a key: it needs no slot);
-- the message is "to:" followed by the token of the waiter it is for.
-- @include fence
-- @include mutex-handoff
-- The server clock (ms, µs), read only when a release meets a queue: the common release makes no TIME call.
local nowMs, nowUs
local out = {}
for i = 1, #KEYS / 2 do
  local key, queue, owner, expected = KEYS[2 * i - 1], KEYS[2 * i], ARGV[2 * i - 1], ARGV[2 * i]
  local value = redis.pcall('GET', key)
  if value == expected and expected ~= '' then
    -- Exactly one hold, ours, that no waiter marked: free it, nobody to wake.
    redis.call('DEL', key)
    out[i] = 0
  else
    local f, n, waited, o
    if type(value) == 'string' then f, n, waited, o = string.match(value, PARSE) end
    if o ~= owner or n == '0' then
      out[i] = -1
    elseif n ~= '1' then
      redis.call('SET', key, f .. ':' .. (n - 1) .. ':' .. waited .. ':' .. o, 'KEEPTTL')
      out[i] = n - 1
    else
      local head = waited == '1' and redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES') or {}
      if head[1] then
        if not nowUs then nowMs, nowUs = serverClock() end
        if nowUs - tonumber(head[2]) >= STARVE_US then
          -- The head has starved: the lock is its own for RESERVE_MS (direct hand-off).
          redis.call('SET', key, string.format('%.0f', nowMs + RESERVE_MS) .. ':0:1:' .. head[1], 'PX', QUEUE_LIFE)
        else
          -- Open: the head is woken, but whoever comes first may take it.
          redis.call('SET', key, '0:0:1:', 'PX', QUEUE_LIFE)
        end
        redis.call('PUBLISH', key .. ':wake', 'to:' .. head[1])
        -- The releaser learns whom it handed to: a waiter in its own process is woken at once.
        out[i] = 'to:' .. head[1]
      else
        redis.call('DEL', key)
        out[i] = 0
      end
    end
  end
end
return out
