/**
 * The counting semaphore's Redis protocol in one place: its keys, the waiter members of its queue,
 * the arguments of its scripts and their replies. `Semaphore` and Redlock's per-instance
 * semaphore build their calls from here (the scripts are `scripts/semaphore/*.lua`, the layout is
 * documented in `scripts/includes/semaphore-prelude.lua`).
 */
import type { ScriptArg } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import type { HoldProtocol } from '../engine/hold.js';
import { lockKey } from '../engine/keys.js';
import { semaphoreAcquire, semaphoreExtend, semaphoreRelease, semaphoreWithdraw } from '../generated/scripts.js';
import { asArray, asNumber, asString } from '../engine/reply.js';

/**
 * The four keys of semaphore `name`, all with the name as hash tag (one Redis Cluster slot):
 * holders (zset token → lease expiry, ms), permits (hash token → `permits:fence`, plus `#` = the
 * last fence), the waiters' queue (zset member → arrival, µs) and their lapse times (zset member →
 * ms). Holders' keys exist only while someone holds, the waiters' only while someone waits.
 */
export function semaphoreKeys(prefix: string, name: string): [holders: string, permits: string, queue: string, alive: string] {
  const key = lockKey(prefix, 'semaphore', name);
  return [key, `${key}:p`, `${key}:q`, `${key}:a`];
}

/** The pub/sub channel hand-offs are published on (`<holders key>:wake`, message `to:<token>`). */
export function semaphoreChannel(holders: string): string {
  return `${holders}:wake`;
}

/**
 * A waiter's member in the queue: `permits:limit:ttl:token` (the scripts read the first three; a
 * release that grants the waiter its permits directly gives the hold this ttl).
 */
export function waiterMember(permits: number, limit: number, ttl: number, token: string): string {
  return `${permits}:${limit}:${ttl}:${token}`;
}

/**
 * A field of the permits hash read back, for tools (the CLI): holder `field` with its permits and
 * fence (`permits:fence`), or `null` for the last-fence field `#` and anything the scripts never write.
 */
export function decodeSemaphoreHold(field: string, value: string): { id: string; permits: number; fence: number } | null {
  const m = field === '#' ? null : /^(\d+):(\d+)$/.exec(value);
  return m ? { id: field, permits: Number(m[1]), fence: Number(m[2]) } : null;
}

/** A queue member read back, for tools: the inverse of {@link waiterMember}, or `null` if it is not one. */
export function decodeWaiterMember(member: string): { id: string; permits: number; limit: number; ttl: number } | null {
  const m = /^(\d+):(\d+):(\d+):(.+)$/s.exec(member);
  return m ? { id: m[4] as string, permits: Number(m[1]), limit: Number(m[2]), ttl: Number(m[3]) } : null;
}

/**
 * How many of `n` independent instances must grant a hold of a semaphore of size `limit` so that
 * the limit holds across them (Redlock): `max(⌊n/2⌋ + 1, ⌊n·limit/(limit+1)⌋ + 1)`.
 *
 * A majority is not enough for `limit ≥ 2`: with 3 instances and limit 2, holds A on {1,2}, B on
 * {2,3} and C on {1,3} are each granted by 2 of 3 instances, every instance holds only 2 — and 3
 * permits are out. In general, `h` holds each granted by `q` instances take `h·q` places, at most
 * `n·limit` exist, so `limit + 1` holds are impossible exactly when `q·(limit+1) > n·limit`.
 * The price: fewer instances may fail (`n − quorum`); from `limit ≥ n − 1` on, none.
 */
export function semaphoreQuorum(n: number, limit: number): number {
  return Math.max(Math.floor(n / 2) + 1, Math.floor((n * limit) / (limit + 1)) + 1);
}

/**
 * The flags argument of `semaphore/acquire.lua`: `"w"` when the caller waits (and so queues) if
 * busy; `"q"` on a retry, which may find the caller queued already (a first attempt's token is
 * new, so the script skips the queue lookup).
 */
export function semaphoreFlags(waits: boolean, retry = false): string {
  return (waits ? 'w' : '') + (retry ? 'q' : '');
}

/**
 * ARGV of `semaphore/acquire.lua` (KEYS: {@link semaphoreKeys}): owner token, permits, limit, ttl,
 * flags ({@link semaphoreFlags}). The waiter's queue member is `permits:limit:ttl:token` ({@link waiterMember}).
 */
export function semaphoreAcquireArgs(token: string, permits: number, limit: number, ttl: number, waits: boolean): ScriptArg[] {
  return [token, permits, limit, ttl, semaphoreFlags(waits)];
}

/** Largest `limit` accepted (permits are counted in Lua numbers; this keeps every sum exact). */
export const MAX_PERMITS = 2 ** 31 - 1;

/**
 * Validate a call's `limit` and `permits` (before any Redis call): both whole numbers ≥ 1,
 * `permits ≤ limit`, at most {@link MAX_PERMITS}.
 * @throws InvalidArgumentError otherwise, or when no limit is given at all
 */
export function checkPermits(limit: unknown, permits: unknown): { limit: number; permits: number } {
  if (limit === undefined) throw new InvalidArgumentError('limit', 'is required (per call, or as the Semaphore\'s default `limit`)');
  const l = checkCount(limit, 'limit');
  const p = permits === undefined ? 1 : checkCount(permits, 'permits');
  if (p > l) throw new InvalidArgumentError('permits', `must not exceed the limit (${p} > ${l})`);
  return { limit: l, permits: p };
}

/** A whole number from 1 to {@link MAX_PERMITS}. */
export function checkCount(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new InvalidArgumentError(argument, `expected a whole number >= 1, got ${typeof value === 'number' ? value : typeof value}`);
  }
  if (value < 1) throw new InvalidArgumentError(argument, `must be at least 1, got ${value}`);
  if (value > MAX_PERMITS) throw new InvalidArgumentError(argument, `must be at most ${MAX_PERMITS}, got ${value}`);
  return value;
}

/** An acquire reply: the fence (> 0) when granted, or busy with ms until a retry is worth it. */
export type SemaphoreAcquireReply = { ok: true; fence: number } | { ok: false; retryAfter: number };

/** Read `semaphore/acquire.lua`'s reply. */
export function readSemaphoreAcquire(reply: unknown): SemaphoreAcquireReply {
  const r = asNumber(reply);
  return r > 0 ? { ok: true, fence: r } : { ok: false, retryAfter: -1 - r };
}

/** ARGV of `semaphore/extend.lua` (KEYS: {@link semaphoreKeys}): owner token, ttl. */
export function semaphoreExtendArgs(token: string, ttl: number): ScriptArg[] {
  return [token, ttl];
}

/** Read `semaphore/extend.lua`'s reply: 1 = extended, 0 = not ours (expired or released). */
export function readSemaphoreExtend(reply: unknown): boolean {
  return asNumber(reply) === 1;
}

/**
 * ARGV of `semaphore/release.lua` (KEYS: {@link semaphoreKeys}): owner token, then the tokens of
 * waiters in the caller's process (`local`, optional): a release that hands permits to one of
 * them grants them at once and says so in its reply ({@link readSemaphoreRelease}), so that
 * waiter holds without another round trip.
 */
export function semaphoreReleaseArgs(token: string, local: readonly string[] = []): ScriptArg[] {
  return local.length === 0 ? [token] : [token, ...local];
}

/** `semaphore/release.lua`'s reply, read. */
export interface SemaphoreReleaseReply {
  /** Whether our hold was removed (false: it had expired or was released already). */
  released: boolean;
  /** Waiters it woke with a message (`to:<token>`); they come and take the permits kept for them. */
  handedTo: string[];
  /** Waiters of the caller's process it granted their permits directly, with their fences. */
  granted: { token: string; fence: number }[];
}

/** Read `semaphore/release.lua`'s reply: whether our hold was removed, the waiters it woke and those it granted. */
export function readSemaphoreRelease(reply: unknown): SemaphoreReleaseReply {
  const [released, woken, grants] = asArray(reply);
  const flat = grants === undefined ? [] : asArray(grants);
  const granted: { token: string; fence: number }[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) granted.push({ token: asString(flat[i]), fence: asNumber(flat[i + 1]) });
  return { released: asNumber(released) === 1, handedTo: woken === undefined ? [] : asArray(woken).map(asString), granted };
}

/** One holder as `semaphore/status.lua` reports it. */
export interface SemaphoreHolderEntry {
  id: string;
  permits: number;
  fence: number;
  ttl: number;
}

/** One waiter as `semaphore/status.lua` reports it. */
export interface SemaphoreWaiterEntry {
  id: string;
  permits: number;
  limit: number;
}

/** Read `semaphore/status.lua`'s reply. */
export function readSemaphoreStatus(reply: unknown): { holders: SemaphoreHolderEntry[]; waiters: SemaphoreWaiterEntry[] } {
  const [hs, ws] = asArray(reply);
  return {
    holders: asArray(hs).map((h) => {
      const [id, permits, fence, ttl] = asArray(h);
      return { id: asString(id), permits: asNumber(permits), fence: asNumber(fence), ttl: Math.max(0, asNumber(ttl)) };
    }),
    waiters: asArray(ws).map((w) => {
      const [id, permits, limit] = asArray(w);
      return { id: asString(id), permits: asNumber(permits), limit: asNumber(limit) };
    }),
  };
}

/**
 * The semaphore as the generic hold runs it (`engine/hold.ts`): all four keys in every script
 * (none is a batch script); the acquire ARGV ({@link semaphoreAcquireArgs}) of a retry add the
 * flag `q` (it may be queued already); a release may hand room to several waiters, and grants it at once to those waiting in
 * the releasing process (`directHandOff`: their tokens go in the release's ARGV); a waiter
 * withdraws its queue member (and a grant it never took).
 */
export const semaphoreProtocol: HoldProtocol = {
  name: 'semaphore',
  acquire: semaphoreAcquire,
  extend: semaphoreExtend,
  release: semaphoreRelease,
  withdraw: semaphoreWithdraw,
  channel: semaphoreChannel,
  readAcquire: readSemaphoreAcquire,
  // A retry may find the caller queued: [token, permits, limit, ttl, flags + "q"].
  retryArgs: (first) => [first[0] as string, first[1] as number, first[2] as number, first[3] as number, `${String(first[4])}q`],
  extendKeys: 'all',
  extendArgs: semaphoreExtendArgs,
  readExtend: readSemaphoreExtend,
  directHandOff: true,
  releaseArgs: (hold) => semaphoreReleaseArgs(hold.token, hold.localWaiters()),
  readRelease: readSemaphoreRelease,
  // The member from the acquire ARGV's layout: [token, permits, limit, ttl, flags].
  withdrawArgs: (hold) => [waiterMember(hold.acquireArgs[1] as number, hold.acquireArgs[2] as number, hold.acquireArgs[3] as number, hold.token)],
};
