-- Release a fair lock if the caller owns it, and wake only the waiter now at the head of the queue.
-- KEYS[1]  lock hash
-- KEYS[2]  queue zset (token -> arrival order)
-- KEYS[3]  heartbeat zset (token -> deadline ms)
-- ARGV[1]  owner token
-- ARGV[2]  wake-up channel prefix (a waiter's channel is prefix .. token)
-- Returns  0 when released, -1 when the caller does not own the lock.
if redis.call('HGET', KEYS[1], 'o') ~= ARGV[1] then
  return -1
end
redis.call('DEL', KEYS[1])
-- No queue, no waiter to sweep or wake (queue and heartbeats live and expire together).
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for i = 1, #dead do
  redis.call('ZREM', KEYS[2], dead[i])
  redis.call('ZREM', KEYS[3], dead[i])
end
local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if head then
  redis.call('PUBLISH', ARGV[2] .. head, '1')
end
return 0
