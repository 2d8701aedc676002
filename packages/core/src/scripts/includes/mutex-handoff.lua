-- Hand-off rules shared by the mutex scripts (inlined with `-- @include mutex-handoff`).
-- A mutex key holds "fence:count:waited:owner". count >= 1: held by owner. count 0: not held,
-- but waiters are queued: owner "" = open to anyone (the queue head was woken, bargers may win);
-- owner set = reserved for that queued waiter until the server time in ms in the first field.
-- The queue (KEYS[2i], a zset: waiter token -> arrival in µs on the server clock) exists only
-- while someone waits; a release hands off to its head.
--   STARVE_US    a head that has waited this long gets the lock reserved (direct hand-off, FIFO);
--                before that a release only wakes it and anyone may barge (throughput)
--   RESERVE_MS   how long a reservation waits for its head (then anyone may take it, and the
--                head loses its place: it was dead, paused or lost the wake-up)
--   QUEUE_LIFE   ms the queue (and a count-0 key) outlive the last waiter that touched them;
--                waiters re-attempt at least every second, refreshing it (3 s: three of those)
--   SPIN_STEP_MS a polling (spin) waiter at place k of the queue (1 = head) is told to retry
--                within k * max(SPIN_STEP_MS, how long the current hold has lasted)
local STARVE_US = 5000
local RESERVE_MS = 250
local QUEUE_LIFE = 3000
local SPIN_STEP_MS = 5
local PARSE = '^(%d+):(%d+):(%d):(.*)$'

