-- Read a fair lock and its queue without changing anything (dead waiters included until skipped).
-- KEYS[1]  lock hash
-- KEYS[2]  queue zset (token -> arrival order)
-- ARGV     none
-- Returns  {owner or "", fence or "0", pttl of the hold (-2 when free), {waiter tokens in order}}.
local h = redis.call('HMGET', KEYS[1], 'o', 'f')
return {h[1] or '', h[2] or '0', redis.call('PTTL', KEYS[1]), redis.call('ZRANGE', KEYS[2], 0, -1)}
