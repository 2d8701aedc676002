-- Take mutexes: for each key, take it, re-take it with the same owner token, or re-enter it.
-- The locks are independent; several travel in one call when callers acquire in the same tick.
-- @batch 3
-- KEYS[i]     mutex i: a string "fence:count:waited:owner" ("waited" is 1 once a waiter asked to
--             be woken by its release; the owner token comes last, so it may contain ':')
-- ARGV[3i-2]  owner token for mutex i
-- ARGV[3i-1]  ttl in ms (expiry runs on the server's clock)
-- ARGV[3i]    flags, any of: "r" = reentrant (the same owner increments the hold count; without
--             it a re-take only refreshes the ttl); "w" = the caller waits on pub/sub if busy, so
--             mark the hold: its release must publish a wake-up; "p" = the caller has been
--             waiting, so others may still sleep: a hold it gets now is marked too, and the
--             wake-ups go on until a holder that never waited (the marks stop with it, and
--             sleepers left then wake at its ttl, or retry after the next wake-up and re-mark)
-- Returns     per mutex: its fencing token (> 0) when held by the caller now; -(1 + ms until the
--             holder's lease ends) when busy; 0 when the key holds something that is no mutex.
local t = redis.call('TIME')
-- The fencing token is the server clock in microseconds, written out digit by digit for storage
-- (tostring would keep only 14 digits) and read back as a Lua number for the reply: exact, as it
-- is below 2^53 (until the year 2255).
local fenceText = t[1] .. string.sub('00000' .. t[2], -6)
local fence = tonumber(fenceText)
local out = {}
for i = 1, #KEYS do
  local key, owner, ttl, flags = KEYS[i], ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  -- "p" only ever comes with "w": a flag string of one letter or none needs no search (this
  -- script runs for every acquire, and each Lua library call counts at this rate).
  local mark = ':1:0:'
  if #flags > 1 and string.find(flags, 'p', 1, true) then mark = ':1:1:' end
  if redis.call('SET', key, fenceText .. mark .. owner, 'NX', 'PX', ttl) then
    out[i] = fence
  else
    local value = redis.pcall('GET', key)
    local f, n, waited, o
    if type(value) == 'string' then f, n, waited, o = string.match(value, '^(%d+):(%d+):(%d):(.*)$') end
    if not f then
      out[i] = 0
    elseif o == owner then
      if string.find(flags, 'r', 1, true) then
        redis.call('SET', key, f .. ':' .. (n + 1) .. ':' .. waited .. ':' .. o, 'PX', ttl)
      else
        redis.call('PEXPIRE', key, ttl)
      end
      out[i] = tonumber(f)
    else
      if waited == '0' and string.find(flags, 'w', 1, true) then
        redis.call('SET', key, f .. ':' .. n .. ':1:' .. o, 'KEEPTTL')
      end
      out[i] = -1 - math.max(0, redis.call('PTTL', key))
    end
  end
end
return out
