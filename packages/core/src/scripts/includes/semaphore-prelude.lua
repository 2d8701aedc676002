-- Shared by the semaphore scripts (inlined with `-- @include semaphore-prelude`). Four keys, one
-- hash tag (one Redis Cluster slot):
--   KEYS[1]  holders: zset holder token -> its lease's expiry (ms, server clock); exists iff held
--   KEYS[2]  permits: hash holder token -> "permits:fence"; field "#" = the last fence granted
--   KEYS[3]  queue:   zset waiter "permits:limit:ttl:token" -> arrival (µs, server clock)
--   KEYS[4]  alive:   zset the same waiter members -> when the waiter lapses (ms): each attempt of
--            a waiter sets now + WAITER_LIFE; a hand-off to it sets now + RESERVE_MS
-- Wake-ups go on KEYS[1] .. ':wake' as "to:<token>": only that waiter wakes, in whichever process.
-- A release may name waiters of its own process (`present`): a hand-off to one of those grants it
-- its permits at once (a hold with its fence and its own ttl, from the member), and the reply
-- carries the grant, so the permits never sit reserved while a wake-up travels and the waiter
-- makes one more call. Other waiters are reserved and woken as above.
-- Every script first purges expired holders (their permits come back exactly at their ttl: never
-- earlier, never lost) and lapsed waiters, and hands off when that or its own change freed room.
--   STARVE_US    a waiter that has waited this long is served in arrival order: whoever asks
--                after it (a newcomer, a younger waiter) must leave room for its permits, and
--                may take nothing while it does not fit (bounded barging, as the mutex)
--   RESERVE_MS   how long a waiter woken by a hand-off keeps its place without coming
--   WAITER_LIFE  how long a waiter keeps its place without an attempt (waiters retry at least
--                every second)
--   WALK         most queue entries one script looks at
local STARVE_US = 5000
local RESERVE_MS = 250
local WAITER_LIFE = 3000
local WALK = 64
local Z, P, Q, A = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local t = redis.call('TIME')
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)
-- freed: permits or a place in the queue were given back (hand off); held / waited: the holders'
-- keys / the waiters' keys were written (settle then renews those keys' expiry, and only those).
local freed, held, waited = false, false, false
-- The latest lapse time in the waiters' zset when a script knows it (it just set the largest
-- possible one), so settle need not look it up.
local lastLapse = nil
-- woken: tokens woken by a message; granted: token, fence, … of present waiters granted directly.
local woken, granted = {}, {}
-- Tokens of waiters in the releasing process (release.lua fills it): set of token -> true.
local present = {}

local function chunked(cmd, key, list)
  for i = 1, #list, 4000 do redis.call(cmd, key, unpack(list, i, math.min(i + 3999, #list))) end
end

local function purge()
  local dead = redis.call('ZRANGEBYSCORE', Z, '-inf', nowMs)
  if #dead > 0 then
    chunked('HDEL', P, dead)
    redis.call('ZREMRANGEBYSCORE', Z, '-inf', nowMs)
    freed, held = true, true
  end
  local gone = redis.call('ZRANGEBYSCORE', A, '-inf', nowMs)
  if #gone > 0 then
    chunked('ZREM', Q, gone)
    redis.call('ZREMRANGEBYSCORE', A, '-inf', nowMs)
    freed, waited = true, true
  end
end

-- The last fence granted on this name, once read (by holders(), or by the first grant).
local lastFence = nil

-- Permits held now (after purge), and the entry ("permits:fence") of `token` if it holds.
local function holders(token)
  local used, mine = 0, nil
  local h = redis.call('HGETALL', P)
  lastFence = false
  for i = 1, #h, 2 do
    if h[i] ~= '#' then
      used = used + tonumber(string.match(h[i + 1], '^(%d+)'))
      if h[i] == token then mine = h[i + 1] end
    else
      lastFence = tonumber(h[i + 1])
    end
  end
  return used, mine
end

local function parseMember(m)
  local p, l, ttl, tok = string.match(m, '^(%d+):(%d+):(%d+):(.*)$')
  return tonumber(p), tonumber(l), tok, tonumber(ttl)
end

-- Grant `permits` to `token` with a lease of `ttl` ms: the fence is the server clock in µs, bumped
-- past the last fence granted on this name. Returns the fence.
local function grant(token, permits, ttl)
  local fence = nowUs
  -- false: holders() saw no '#' (none granted while held); nil: not read yet.
  local last = lastFence
  if last == nil then last = tonumber(redis.call('HGET', P, '#')) end
  if last and last >= fence then fence = last + 1 end
  lastFence = fence
  local fenceText = string.format('%.0f', fence)
  redis.call('ZADD', Z, string.format('%.0f', nowMs + ttl), token)
  redis.call('HSET', P, token, permits .. ':' .. fenceText, '#', fenceText)
  held = true
  return fence
end

-- May a caller take `permits` under `limit` with `used` held? Starving waiters queued ahead of it
-- (all of them for a newcomer; `me` is its own member when queued) go first: each that fits
-- under its own limit keeps its share, one that does not fit stops everyone behind it.
-- Returns true, or false and the member of the starving waiter in the way.
local function mayTake(used, permits, limit, me)
  if used + permits > limit then return false end
  local entries = redis.call('ZRANGE', Q, 0, WALK - 1, 'WITHSCORES')
  local r = used
  for i = 1, #entries, 2 do
    local m = entries[i]
    if m == me or nowUs - tonumber(entries[i + 1]) < STARVE_US then return r + permits <= limit end
    local p, l = parseMember(m)
    if r + p > l then return false, m end
    r = r + p
  end
  -- A full walk of fitting starving waiters: someone further back may be owed room; wait.
  if #entries == 2 * WALK then return false end
  return r + permits <= limit
end

-- Wake the waiters that can go now, oldest first: each that fits under its own limit gets its
-- share counted and is granted at once if it waits in the releasing process (`present`), else,
-- unless woken already, is woken alone and must come within RESERVE_MS; a starving waiter that
-- does not fit ends the walk (nobody behind it may pass it); a younger one that does not fit is
-- passed over.
local function handOff(used)
  local entries = redis.call('ZRANGE', Q, 0, WALK - 1, 'WITHSCORES')
  local r = used
  for i = 1, #entries, 2 do
    local m = entries[i]
    local p, l, tok, ttl = parseMember(m)
    if r + p <= l then
      r = r + p
      -- A present waiter is alive (its process just asked for it): no lapse to check.
      local lapse = (not present[tok]) and tonumber(redis.call('ZSCORE', A, m))
      if present[tok] then
        granted[#granted + 1] = tok
        granted[#granted + 1] = grant(tok, p, ttl)
        redis.call('ZREM', Q, m)
        redis.call('ZREM', A, m)
        waited, lastLapse = true, nil
      elseif lapse and lapse > nowMs + RESERVE_MS then
        redis.call('ZADD', A, string.format('%.0f', nowMs + RESERVE_MS), m)
        redis.call('PUBLISH', Z .. ':wake', 'to:' .. tok)
        woken[#woken + 1] = tok
        waited, lastLapse = true, nil
      end
    elseif nowUs - tonumber(entries[i + 1]) >= STARVE_US then
      return
    end
  end
end

-- End of every script: hand off if room was freed, then let each pair of keys that was written
-- expire with its last entry (or delete it when empty), so nothing outlives the semaphore's last
-- holder/waiter.
-- Two keys of one group live until `last` (ms), or go when nothing in them lives.
local function expireBoth(last, a, b)
  if last then
    redis.call('PEXPIREAT', a, last)
    redis.call('PEXPIREAT', b, last)
  else
    redis.call('DEL', a, b)
  end
end
local function settle(used)
  if freed then handOff(used or holders(nil)) end
  if held then expireBoth(redis.call('ZRANGE', Z, -1, -1, 'WITHSCORES')[2], Z, P) end
  if waited then expireBoth(lastLapse or redis.call('ZRANGE', A, -1, -1, 'WITHSCORES')[2], Q, A) end
end
