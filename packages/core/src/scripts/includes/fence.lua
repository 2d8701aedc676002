-- The server clock and fencing tokens, shared by every lock script (inlined with `-- @include fence`).
-- Every time a script compares or stores comes from the Redis server's clock (TIME), never from a
-- client's: clients' clocks differ, the server's is one. serverClock() reads it and returns
--   ms     milliseconds since the epoch: lease expiries, heartbeats, reservations
--   µs     microseconds since the epoch, a Lua number (exact below 2^53, until the year 2255):
--          arrival order of waiters
--   fence  the fencing token of a grant made now: the same µs, written out digit by digit
--          (tostring would keep only 14 digits), so the stored text and tonumber() of it agree
-- A script reads the clock once (or, on a path that seldom needs it, only there) and uses these
-- three for everything. The text is built by concatenation: string.format costs about 0.5 µs
-- of Redis CPU per call here, a tenth of an uncontended mutex acquire.
local function serverClock()
  local t = redis.call('TIME')
  local fence = t[1] .. string.sub('00000' .. t[2], -6)
  local us = tonumber(fence)
  return math.floor(us / 1000), us, fence
end
