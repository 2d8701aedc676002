-- Take mutexes: for each, take it, re-take it with the same owner token, or re-enter it; a
-- blocking caller that cannot have it joins the lock's hand-off queue (see mutex-handoff).
-- The locks are independent; several travel in one call when callers acquire in the same tick.
-- @batch 3 keys 2
-- KEYS[2i-1]  mutex i: a string "fence:count:waited:owner" ("waited" is 1 once the queue may be
--             non-empty, so the release must hand off; the owner token comes last, so it may
--             contain ':'); count 0 = not held, open or reserved for a queued waiter
-- KEYS[2i]    mutex i's queue: zset waiter token -> arrival (µs, server clock)
-- ARGV[3i-2]  owner token for mutex i
-- ARGV[3i-1]  ttl in ms (expiry runs on the server's clock)
-- ARGV[3i]    flags, any of: "r" = reentrant (the same owner increments the hold count; without
--             it a re-take only refreshes the ttl); "w" = the caller waits for a wake-up on
--             pub/sub if busy: queue it; "s" = the caller polls (spin) if busy: queue it too;
--             "q" (with "w" or "s") = the caller may be queued already (a retry after a wait)
-- Returns     per mutex: its fencing token (> 0) when held by the caller now; -(1 + ms until it is
--             worth retrying) when busy; 0 when the key holds something that is no mutex.
-- @include fence
-- @include mutex-handoff
-- The fencing token is stored as text and replied as a Lua number (the same µs); arrival scores
-- and reservation times use the same clock.
local nowMs, fence, fenceText = serverClock()
local out = {}
for i = 1, #KEYS / 2 do
  local key, queue, owner, ttl, flags = KEYS[2 * i - 1], KEYS[2 * i], ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  if redis.call('SET', key, fenceText .. ':1:0:' .. owner, 'NX', 'PX', ttl) then
    -- The key is absent when nobody holds it and nobody waits (the lean, common path) — or when
    -- a holder's ttl ran out while waiters were queued: a queued caller then leaves the queue,
    -- and marks its hold if others remain, so its release hands off.
    if #flags > 1 and string.find(flags, 'q', 1, true) then
      redis.call('ZREM', queue, owner)
      if redis.call('EXISTS', queue) == 1 then redis.call('SET', key, fenceText .. ':1:1:' .. owner, 'PX', ttl) end
    end
    out[i] = fence
  else
    local value = redis.pcall('GET', key)
    local f, n, waited, o
    if type(value) == 'string' then f, n, waited, o = string.match(value, PARSE) end
    if not f then
      out[i] = 0
    elseif n ~= '0' and o == owner then
      if string.find(flags, 'r', 1, true) then
        redis.call('SET', key, f .. ':' .. (n + 1) .. ':' .. waited .. ':' .. o, 'PX', ttl)
      else
        redis.call('PEXPIRE', key, ttl)
      end
      out[i] = tonumber(f)
    elseif n == '0' and (o == '' or o == owner or tonumber(f) <= nowMs) then
      -- Not held: open, reserved for us, or a reservation its waiter let lapse (it loses its place).
      if o ~= '' and o ~= owner then redis.call('ZREM', queue, o) end
      redis.call('ZREM', queue, owner)
      -- Waiters left: mark the hold, so its release hands off.
      local mark = redis.call('EXISTS', queue) == 1 and ':1:1:' or ':1:0:'
      redis.call('SET', key, fenceText .. mark .. owner, 'PX', ttl)
      out[i] = fence
    else
      -- Busy: held by another owner, or reserved for another waiter.
      local retry
      if n == '0' then retry = tonumber(f) - nowMs else retry = redis.call('PTTL', key) end
      if #flags > 0 and (string.find(flags, 'w', 1, true) or string.find(flags, 's', 1, true)) then
        if not redis.call('ZSCORE', queue, owner) then
          -- Arrival order: the server clock in µs, bumped past the last waiter so order is strict.
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
        -- A polling waiter comes back sooner the nearer it is to the head (hand-offs go to the
        -- head; the next in line must not be a long backoff away when its turn comes), scaled by
        -- how long the current hold has lasted: short holds are polled for often, a long one
        -- lets the waiter's own backoff grow (the hint only ever shortens that backoff).
        if string.find(flags, 's', 1, true) then
          local age = 0
          if n ~= '0' then age = nowMs - math.floor(tonumber(f) / 1000) end
          retry = math.min(retry, (redis.call('ZRANK', queue, owner) + 1) * math.max(SPIN_STEP_MS, age))
        end
      end
      out[i] = -1 - math.max(0, retry)
    end
  end
end
return out
