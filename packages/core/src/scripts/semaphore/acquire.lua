-- Take `permits` of a counting semaphore whose size is `limit` (per call: this call's limit
-- decides whether this call fits; holders are never revoked). A blocking caller that cannot have
-- them joins the queue (see semaphore-prelude for the layout and the starvation rule).
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV[1]   holder token
-- ARGV[2]   permits wanted (integer >= 1)
-- ARGV[3]   limit (integer >= permits)
-- ARGV[4]   lease ttl in ms
-- ARGV[5]   flags: "w" = the caller waits if busy: queue it as "permits:limit:ttl:token" (or
--           renew its place); "q" = a retry, so the caller may be queued already (a first
--           attempt never is: its token is new — no queue lookup)
-- Returns   the fencing token (> 0; server clock µs, strictly increasing per semaphore) when
--           granted (also when a release granted it to this waiter already: its lease is then
--           renewed); -(1 + ms until a retry is worth it) when busy.
-- @include semaphore-prelude
local token, permits, limit, ttl, flags = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local me = ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4] .. ':' .. token
purge()
local used, mine = holders(token)
if mine then
  -- Already ours (a repeated attempt): refresh the lease.
  redis.call('ZADD', Z, string.format('%.0f', nowMs + ttl), token)
  held = true
  settle(used)
  return tonumber(string.match(mine, ':(%d+)$'))
end
local queued = string.find(flags, 'q', 1, true) and redis.call('ZSCORE', Q, me)
local ok, blocker = mayTake(used, permits, limit, me)
if ok then
  local fence = grant(token, permits, ttl)
  if queued then
    redis.call('ZREM', Q, me)
    redis.call('ZREM', A, me)
    waited = true
  end
  settle(used + permits)
  return fence
end
if string.find(flags, 'w', 1, true) then
  if not queued then
    -- Arrival order: the server clock in µs, bumped past the last waiter so order is strict.
    local score = nowUs
    local lastIn = redis.call('ZRANGE', Q, -1, -1, 'WITHSCORES')[2]
    if lastIn and tonumber(lastIn) >= score then score = tonumber(lastIn) + 1 end
    redis.call('ZADD', Q, string.format('%.0f', score), me)
  end
  redis.call('ZADD', A, string.format('%.0f', nowMs + WAITER_LIFE), me)
  waited = true
  -- No lapse is later than now + WAITER_LIFE: this is the waiters' keys' expiry.
  lastLapse = nowMs + WAITER_LIFE
end
-- Retry when the first holder's lease ends, or when the waiter in the way lapses.
local retry = RESERVE_MS
local first = redis.call('ZRANGE', Z, 0, 0, 'WITHSCORES')[2]
if first then
  retry = tonumber(first) - nowMs
elseif blocker then
  retry = (tonumber(redis.call('ZSCORE', A, blocker)) or nowMs) - nowMs
end
settle(used)
return -1 - math.max(0, retry)
