-- The server clock and fencing tokens, shared by every lock script (inlined with `-- @include fence`).
-- Every time a script compares or stores comes from the Redis server's clock (TIME), never from a
-- client's: clients' clocks differ, the server's is one. serverClock() reads it and returns
--   ms     milliseconds since the epoch: lease expiries, heartbeats, reservations
--   µs     microseconds since the epoch, a Lua number (exact below 2^53, until the year 2255):
--          arrival order of waiters
--   fence  the fencing token of a grant made now: the same µs, written out digit by digit
--          (tostring would keep only 14 digits), so the stored text and tonumber() of it agree
-- A script reads the clock once (or, on a path that seldom needs it, only there) and uses these
-- three for everything.
local function serverClock()
  local t = redis.call('TIME')
  local s, us = tonumber(t[1]), tonumber(t[2])
  return s * 1000 + math.floor(us / 1000), s * 1000000 + us, t[1] .. string.format('%06d', us)
end
