-- Shared prelude of the hilok tree scripts (inlined by scripts/build-lua.mjs at `-- @include`):
-- the layout, the clock and the item encoding. The per-tree machinery (field cache, counters,
-- marks, the writers' queue, flush) is includes/tree-state.lua, included after this one.
-- A tree (all paths under one root segment) is three keys, whatever its depth or size
-- (base: "<prefix><kind>:{<root>}:"); a script call may take several trees (a batch: trees
-- i = 1, 2, … are KEYS[3i-2], KEYS[3i-1], KEYS[3i]), each checked and changed on its own:
--   KEYS[3i-2] "<base>state"  hash of holds, intents and per-node counters
--   KEYS[3i-1] "<base>expiry" sorted set of every hold and intent field, scored by its expiry (ms,
--                             server clock): crash recovery, and the ttl of all three keys
--   KEYS[3i]   "<base>index"  sorted set, all scores 0, of "a<node>" for every node with holds
--                             exactly at it (E > 0) and "w<node>" for every node with writes or
--                             intents at it (EW > 0): "anything strictly below N" is one
--                             ZRANGEBYLEX on the prefix "a<N><sep>" (or "w…"). One member per node,
--                             not per hold, so members stay short (listpack-encoded).
-- State hash fields are told apart by the text before their first ':', so no id or node name
-- can clash with another field (a node named "h:x" is field "n:h:x"):
--   h:<id>    a hold:   "<r|w>|<fence>|<expiry ms>|<separator length>|<separator><path>"
--   i:<id>    a waiting writer's intent, same format with kind "i" and, as fence, its arrival
--             (server clock, µs, strictly increasing per tree): its place among waiting writers;
--             a waiting reader's intent has kind "q" and an id starting with READER_INTENT: it
--             is in no counter (it keeps nobody out but by its place in the queue)
--   n:<node>  counters of holds exactly at the node, packed with struct '<I4I4' (decoding text
--             costs µs per level): E (holds) and EW (writes + intents), followed by the id of
--             the write hold at the node, if any (a write is alone at its node), so a busy reply
--             can name its blocker without a scan; exists while E or EW is > 0
--   marks     the nodes where waiting readers listen: "<until ms>\254<node>\255" per node. An
--             ending item publishes "all" only to the marked ancestors-or-self of its path and
--             consumes those marks (a reader that still finds the path busy marks it again) —
--             unless a write or a waiting writer is still exactly at the marked node: then no
--             reader listening there can proceed, and the mark stays. Expired marks are dropped
--             whenever the field is rewritten. A mark is always at or above a live blocker, so
--             it is consumed when that blocker ends: no mark outlives the holds it waits for.
--   queue     the waiting writers and readers in arrival order (the hand-off queue, see
--             docs/waiting.md): "<arrival µs>\254<intent id>\254<separator>\254<path>\255" per
--             intent; exists while an intent does. An intent that has waited STARVE_US is
--             *starving*: no younger writer whose path is related to its path (same, ancestor or
--             descendant) may take a hold — the writers of one path go in arrival order, and a
--             reader waits at most for the writers that came before it. A waiting reader is kept
--             out by write holds and by older writers only (not by younger writers' intents,
--             which keep out the readers that come after them). When an item ends
--             (release, expiry, withdraw), the related writers it may have freed are checked,
--             oldest first (readers only need no write hold; readers do not keep each other
--             out); each that can take its hold now gets it handed to: its intent's expiry
--             becomes now + RESERVE_MS (a writer that does not come — crashed, paused, lost the
--             message — loses its place then) and it alone is woken: "to:<intent id>" on the
--             channel of its own path, where a waiting writer listens.
-- The hash and both sorted sets expire with the longest-lived member. Channel of node n: "<base>wake:<n>".
-- Each script makes a fixed number of redis.calls per tree whatever the depth: an acquire reads
-- its path's node fields with one HMGET (ancestors are only read), and a release reads and writes
-- just its own node's field and the marks. The common cases skip the per-tree machinery (whose
-- ~40 closures cost Redis more than the whole work of an uncontended call): an acquire in a tree
-- with no item at all, and the release of a tree's only item that nobody waits for (the scripts'
-- fast paths, which write exactly what the general path would).
-- @include fence
-- now (ms) for expiries, nowUs for writers' arrival, FENCE for a grant made by this call.
local now, nowUs, FENCE = serverClock()
local E, EW, EXISTED, DIRTY, E0, EW0, WRITER = 1, 2, 3, 4, 5, 6, 7
-- A waiter's mark outlives its next attempt by this much (event-loop lag, network): a mark that
-- lives too long costs one PUBLISH nobody hears, one that lapses early costs a missed wake-up.
local MARK_SLACK = 1000
-- Writers' hand-off (field "queue"): a writer intent older than STARVE_US (µs) keeps younger
-- related writers out; a writer handed the path must come within RESERVE_MS (ms) or lose its
-- place; a call's hand-off checks every waiting writer related to an item that ended, at most
-- HANDOFF_CHECKS of them for holds below their path (one ZRANGEBYLEX each; the rest are read
-- with one HMGET).
local STARVE_US, RESERVE_MS, HANDOFF_CHECKS = 5000, 250, 32
-- Intent ids of waiting readers start with this (hilok/protocol.ts READER_INTENT): their queue
-- entries are told from writers' by the id alone.
local READER_INTENT = 'r.'
-- Node counters (field "n:<node>") are packed with struct (see the layout above).
local PACK = '<I4I4'

-- A hold or intent as stored (see the layout above), and back: {kind, fence, exp, sep, path}.
local function encodeItem(kind, fence, exp, sep, path)
  return kind .. '|' .. fence .. '|' .. string.format('%.0f', exp) .. '|' .. #sep .. '|' .. sep .. path
end

local function decodeItem(v)
  if not v then return nil end
  local kind, fence, exp, n, rest = string.match(v, '^(%a)|(%d+)|(%d+)|(%d+)|(.*)$')
  if not kind then return nil end
  n = tonumber(n)
  return { kind = kind, fence = fence, exp = tonumber(exp), sep = string.sub(rest, 1, n), path = string.sub(rest, n + 1) }
end
