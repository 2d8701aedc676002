-- handOn, shared by mutex/release.lua and mutex/withdraw.lua (inlined with `-- @include
-- mutex-handon`, after fence and mutex-handoff). Kept out of mutex-handoff: it publishes, and a
-- script that publishes gets a sharded twin and waits for the adapter's pub/sub mode — the
-- acquire must not.
-- The last hold of a mutex ended (a release; a withdraw giving back a grant its waiter never
-- took): hand it on. head = {token, arrival µs} of the queue's head ({} when nobody waits: the key
-- goes). A head that has starved and waits in the releasing process (its token is in `locals`,
-- "\0<token>\1<ttl ms>" per local waiter; "" or nil: none) is granted the lock right here — its
-- hold, a fence, its own ttl — and the reply tells the releaser, who hands it over: no message, no
-- attempt of its own. A starved head elsewhere gets the lock reserved (RESERVE_MS); a younger one
-- finds it open (bargers may win); either is woken with "to:<token>" on the lock's channel.
-- Needs the fence include (serverClock). Returns the reply entry: 0 (freed), "to:<token>" (woken)
-- or "gr:<fence>:<token>" (granted).
local function handOn(key, queue, head, locals)
  if not head[1] then
    redis.call('DEL', key)
    return 0
  end
  local nowMs, nowUs, fenceText = serverClock()
  if nowUs - tonumber(head[2]) >= STARVE_US then
    local at = locals and locals ~= '' and string.find(locals, '\0' .. head[1] .. '\1', 1, true)
    if at then
      local ttl = string.match(locals, '^%d+', at + #head[1] + 2)
      redis.call('ZREM', queue, head[1])
      local mark = redis.call('EXISTS', queue) == 1 and ':1:1:' or ':1:0:'
      redis.call('SET', key, fenceText .. mark .. head[1], 'PX', ttl)
      return 'gr:' .. fenceText .. ':' .. head[1]
    end
    -- The head has starved: the lock is its own for RESERVE_MS (direct hand-off).
    redis.call('SET', key, string.format('%.0f', nowMs + RESERVE_MS) .. ':0:1:' .. head[1], 'PX', QUEUE_LIFE)
  else
    -- Open: the head is woken, but whoever comes first may take it.
    redis.call('SET', key, '0:0:1:', 'PX', QUEUE_LIFE)
  end
  redis.call('PUBLISH', key .. ':wake', 'to:' .. head[1])
  return 'to:' .. head[1]
end
