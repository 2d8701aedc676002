-- Release a hold of a hierarchical lock tree by id and wake the waiters it may have blocked.
-- KEYS     the same layout as hilok/acquire.lua (meta, meta expiry, then E, EW, S, SW per level)
-- ARGV[1]  hold id
-- ARGV[2]  path the caller believes the hold is on
-- Returns  1 when a live hold was released; 0 when it was not ours (expired, unknown, other path).
-- Expired members met on the way are purged so long-lived keys do not collect dead holds.
-- @include tree-prelude
local meta, id = KEYS[1], ARGV[1]

local info = redis.call('HGET', meta, id)
if not info then return 0 end
local mode, exp, p = string.match(info, '^(%a)|%d+|(%d+)|(.*)$')
if p ~= ARGV[2] then return 0 end

local function drop(k)
  redis.call('ZREM', k, id)
  redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
  fit(k)
end
drop(key(d, 1))
if mode == 'w' then drop(key(d, 2)) end
for i = 1, d - 1 do
  drop(key(i, 3))
  if mode == 'w' then drop(key(i, 4)) end
end
-- The meta hash has no per-field expiry: purge ids whose leases ended, then tighten its ttl too.
redis.call('HDEL', meta, id)
redis.call('ZREM', KEYS[2], id)
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
if #dead > 0 then
  redis.call('HDEL', meta, unpack(dead))
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
end
local last = fit(KEYS[2])
if last then redis.call('PEXPIREAT', meta, last) end
-- Waiters blocked by this hold listen on the channel of the node where they met it: this node
-- or one of its ancestors (a waiter above us met it in its "below" set).
for i = 1, d do redis.call('PUBLISH', key(i, 1), 'all') end
if tonumber(exp) > now then return 1 end
return 0
