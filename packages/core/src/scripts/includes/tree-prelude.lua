-- Shared prelude of the hilok tree scripts (inlined by scripts/build-lua.mjs at `-- @include`).
-- now: the server clock in ms; d: path depth; key(i, j): level i's set j (1 E, 2 EW, 3 S, 4 SW);
-- cover(k, at): keep key k alive at least until `at`, never shortening it (cheap; for new members).
-- fit(k): expire key k exactly with its longest-lived member (for members whose lease got shorter).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local d = (#KEYS - 2) / 4
local function key(i, j) return KEYS[2 + (i - 1) * 4 + j] end
local function cover(k, at)
  if redis.call('PEXPIREAT', k, at, 'GT') == 0 and redis.call('PTTL', k) == -1 then
    redis.call('PEXPIREAT', k, at)
  end
end
local function fit(k)
  local top = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', k, top[2]) end
  return top[2]
end
