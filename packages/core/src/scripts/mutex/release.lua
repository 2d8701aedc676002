-- Release one hold of each mutex the caller owns; when waiters are queued, hand off to the head
-- of the queue (see handOn in mutex-handoff): grant it the lock when it has starved and waits in
-- the caller's process, else wake it, reserving the lock for it once it has starved.
-- @batch 3 keys 2
-- KEYS[2i-1]   mutex i (layout in mutex/acquire.lua)
-- KEYS[2i]     mutex i's queue (zset waiter token -> arrival µs)
-- ARGV[3i-2]   owner token for mutex i
-- ARGV[3i-1]   the value the caller expects mutex i to hold when it took it alone: one hold, no
--              waiter mark ("fence:1:0:owner"); "" when it does not know. A match is released
--              with one string comparison (the common, uncontended release); anything else takes
--              the general path, so a wrong guess costs only that comparison ("" never matches:
--              a foreign empty string must not be deleted).
-- ARGV[3i]     the caller's process's waiters queued on mutex i: "\0<token>\1<ttl ms>" each ("" or
--              absent: none); the head among them, once starved, is granted the lock directly
-- Returns      per mutex: holds left (0 = the mutex is free now), -1 when the caller does not own
--              it, "to:<token>" when it was freed and handed to the queued waiter <token>, or
--              "gr:<fence>:<token>" when that waiter (of the caller's process) now holds it.
-- The wake-up channel is the key followed by ":wake" (a channel is not a key: it needs no slot);
-- the message is "to:" followed by the token of the waiter it is for.
-- @include fence
-- @include mutex-handoff
-- @include mutex-handon
-- The server clock is read only when a release meets a queue (handOn): the common release makes no TIME call.
local out = {}
for i = 1, #KEYS / 2 do
  local key, queue, owner, expected = KEYS[2 * i - 1], KEYS[2 * i], ARGV[3 * i - 2], ARGV[3 * i - 1]
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
      -- The releaser learns whom it handed to: a waiter in its own process holds or wakes at once.
      out[i] = handOn(key, queue, waited == '1' and redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES') or {}, ARGV[3 * i])
    end
  end
end
return out
