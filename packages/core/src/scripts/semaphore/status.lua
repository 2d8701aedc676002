-- Who holds the semaphore and who waits (after purging expired holders and lapsed waiters).
-- KEYS      holders, permits, queue, alive (semaphore-prelude)
-- ARGV      none
-- Returns   {holders, waiters}: holders = {{token, permits, fence, pttl}, ...} (first to expire
--           first), waiters = {{token, permits, limit}, ...} (first in line first).
-- @include semaphore-prelude
purge()
local hs = {}
local z = redis.call('ZRANGE', Z, 0, -1, 'WITHSCORES')
for i = 1, #z, 2 do
  local v = redis.call('HGET', P, z[i])
  if v then
    local p, f = string.match(v, '^(%d+):(%d+)$')
    hs[#hs + 1] = { z[i], tonumber(p), f, tonumber(z[i + 1]) - nowMs }
  end
end
local ws = {}
for _, m in ipairs(redis.call('ZRANGE', Q, 0, -1)) do
  local p, l, tok = parseMember(m)
  ws[#ws + 1] = { tok, p, l }
end
settle()
return { hs, ws }
