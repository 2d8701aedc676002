/**
 * The mutex's Redis protocol in one place: its keys, the flags and arguments of its scripts, the
 * stored value's layout and the replies. `Mutex`, Redlock's per-instance mutex and the CLI all
 * build their calls from here (the scripts themselves are `scripts/mutex/*.lua`).
 */
import type { ScriptArg } from '../adapter.js';
import type { HoldFacts, HoldProtocol } from '../engine/hold.js';
import { lockKey } from '../engine/keys.js';
import { mutexAcquire, mutexExtend, mutexRelease, mutexWithdraw } from '../generated/scripts.js';
import { grantedAt, parseOwner } from '../engine/owner.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import { InvalidArgumentError } from '../errors.js';
import { checkName } from '../validate.js';
import type { MutexInfo } from './mutex.js';

/**
 * The keys of the mutex `name`: the lock itself (a string, `fence:count:waited:owner`) and its
 * hand-off queue (a zset of waiting tokens, present only while someone waits). Both carry the
 * name as hash tag, so they share a Redis Cluster slot.
 */
export function mutexKeys(prefix: string, name: string): [lock: string, queue: string] {
  const lock = lockKey(prefix, 'mutex', name);
  return [lock, `${lock}:q`];
}

/** The pub/sub channel a release publishes hand-offs on (`<lock key>:wake`). */
export function mutexChannel(lock: string): string {
  return `${lock}:wake`;
}

/**
 * The payload of a hand-off message for the waiter holding `token`: only that waiter wakes, in
 * whichever process it sleeps (`mutex/release.lua` publishes it).
 */
export function handoffMessage(token: string): string {
  return HANDOFF_PREFIX + token;
}

const HANDOFF_PREFIX = 'to:';

/** How an acquire attempt waits if busy: the `flags` argument of `mutex/acquire.lua`. */
export function acquireFlags(reentrant: boolean, waits: 'pubsub' | 'spin' | false): string {
  return (reentrant ? 'r' : '') + (waits === 'pubsub' ? 'w' : waits === 'spin' ? 's' : '');
}

/** ARGV of one mutex of `mutex/acquire.lua`: owner token, ttl, flags ({@link acquireFlags}; "" = not reentrant, never queued). */
export function mutexAcquireArgs(token: string, ttl: number, flags: string): ScriptArg[] {
  return [token, ttl, flags];
}

/** Most distinct names one multi-name acquire may take (`Mutex.acquire` with an array, Redlock's `lock`). */
export const MAX_MUTEX_NAMES = 64;

/**
 * The names of a multi-name acquire, checked, deduplicated and sorted (the order of the keys in
 * `mutex/acquire-all.lua`): an {@link InvalidArgumentError} for an empty list, a bad name or more
 * than {@link MAX_MUTEX_NAMES} distinct names.
 */
export function mutexNames(list: readonly unknown[], argument = 'name'): string[] {
  if (list.length === 0) throw new InvalidArgumentError(argument, 'expected at least one name, got an empty list');
  const names = [...new Set(list.map((n, i) => checkName(n, `${argument}[${i}]`)))].sort();
  if (names.length > MAX_MUTEX_NAMES) throw new InvalidArgumentError(argument, `${names.length} names; the limit is ${MAX_MUTEX_NAMES}`);
  return names;
}

/** ARGV of `mutex/acquire-all.lua` (KEYS: each name's lock and queue, sorted, one slot): owner token, ttl, flags (no "r"). */
export function mutexAcquireAllArgs(token: string, ttl: number, flags: string): ScriptArg[] {
  return [token, ttl, flags];
}

/** Read `mutex/acquire-all.lua`'s reply: the grant's fence, or which name (0-based) was busy or foreign. */
export function readAcquireAll(reply: unknown): { ok: true; fence: number } | { ok: false; retryAfter: number; index: number } | { ok: false; foreign: true; index: number } {
  const r = asArray(reply);
  const code = asNumber(r[0]);
  if (code > 0) return { ok: true, fence: code };
  const index = asNumber(r[1]) - 1;
  if (code === 0) return { ok: false, foreign: true, index };
  return { ok: false, retryAfter: -1 - code, index };
}

/** ARGV of `mutex/extend.lua` (KEYS: the lock key only): owner token, ttl. */
export function mutexExtendArgs(token: string, ttl: number): ScriptArg[] {
  return [token, ttl];
}

/** One entry of `mutex/extend.lua`'s reply: 1 = extended, 0 = not ours. */
export function readExtend(entry: unknown): boolean {
  return asNumber(entry) === 1;
}

/**
 * ARGV of one mutex of `mutex/release.lua`: owner token, the value the lock holds if the caller
 * took it alone with `fence` ({@link soleHoldValue}; no fence: "", the general path), and the
 * waiters of the caller's process queued on it (`"\0<token>\1<ttl>"` each, reentrant ones left
 * out): the release may grant the head among them the lock directly.
 */
export function mutexReleaseArgs(token: string, fence?: number, localWaiters: readonly HoldFacts[] = NO_LOCAL_WAITERS): ScriptArg[] {
  let locals = '';
  // Not a reentrant waiter: an attempt of its own still in flight when the grant lands would
  // re-enter the granted hold (count 2). A plain waiter's in-flight attempt only re-takes it.
  for (const w of localWaiters) if (!String(w.acquireArgs[2]).includes('r')) locals += `\0${w.token}\u0001${String(w.acquireArgs[1])}`;
  return [token, fence ? soleHoldValue(fence, token) : '', locals];
}

const NO_LOCAL_WAITERS: readonly HoldFacts[] = Object.freeze([]);

/** Prefix of a release reply entry naming a waiter of the releasing process that it granted the lock: `gr:<fence>:<token>`. */
const GRANT_PREFIX = 'gr:';

/** Read `mutex/inspect.lua`'s reply (KEYS: lock and queue; no ARGV): the hold, or `null` when nobody holds it (count 0: free or reserved for a waiter). */
export function readMutexInspect(reply: unknown): MutexInfo | null {
  const r = asArray(reply);
  if (r.length === 0 || asNumber(r[2]) === 0) return null;
  const owner = asString(r[0]);
  const fence = asNumber(r[1]);
  return { owner, fence, count: asNumber(r[2]), ttl: asNumber(r[3]), waiters: asArray(r[4]).map(asString), ownerInfo: parseOwner(owner) ?? undefined, acquiredAt: grantedAt(fence) };
}

/** The flags of a retry after a wait: a waiting caller may be queued already (flag "q"). */
export function retryFlags(flags: string): string {
  return flags.includes('w') || flags.includes('s') ? `${flags}q` : flags;
}

/** A mutex as stored in Redis (the string layout of `mutex/acquire.lua`). */
export interface StoredMutex {
  owner: string;
  fence: number;
  /** Hold count (above 1 only for reentrant holds); 0 when not held but waiters are queued. */
  count: number;
  /** True once the hand-off queue may hold waiters (the release then hands off). */
  waited: boolean;
}

/**
 * Parse a mutex key's value (`fence:count:waited:owner`); `null` for anything else. A count of 0
 * is no hold: the lock is free or reserved for a queued waiter (see `includes/mutex-handoff.lua`).
 * For tools that read keys directly (the CLI); lock code goes through the scripts.
 */
export function parseStoredMutex(value: string): StoredMutex | null {
  const m = /^(\d+):(\d+):([01]):([\s\S]*)$/.exec(value);
  if (!m) return null;
  return { fence: Number(m[1]), count: Number(m[2]), waited: m[3] === '1', owner: m[4] as string };
}

/**
 * The value a mutex key holds for a single hold of `owner` granted with `fence` while nobody
 * waited (count 1, waited 0): what a release sends so `mutex/release.lua` frees it with one
 * comparison.
 */
export function soleHoldValue(fence: number, owner: string): string {
  return `${fence}:1:0:${owner}`;
}

/** An acquire reply entry: the fence (> 0), busy with ms until a retry is worth it (< 0), or 0 for a foreign value. */
export type AcquireReply = { ok: true; fence: number } | { ok: false; retryAfter: number } | { ok: false; foreign: true };

/**
 * Read one entry of `mutex/release.lua`'s reply: whether the caller's hold was removed, how many
 * holds of it are left (reentrant), and the token of the queued waiter the lock was handed to.
 */
export function readRelease(entry: unknown): { released: boolean; left: number; handedTo?: string; granted?: { token: string; fence: number }[] } {
  const text = typeof entry === 'string' ? entry : entry instanceof Uint8Array ? Buffer.from(entry).toString('utf8') : undefined;
  if (text?.startsWith(HANDOFF_PREFIX)) return { released: true, left: 0, handedTo: text.slice(HANDOFF_PREFIX.length) };
  if (text?.startsWith(GRANT_PREFIX)) {
    const colon = text.indexOf(':', GRANT_PREFIX.length);
    return { released: true, left: 0, granted: [{ token: text.slice(colon + 1), fence: Number(text.slice(GRANT_PREFIX.length, colon)) }] };
  }
  const left = Number(entry);
  if (!Number.isFinite(left)) throw new TypeError(`expected a mutex release reply, got ${String(entry)}`);
  return { released: left >= 0, left };
}

/** Read one entry of `mutex/acquire.lua`'s reply (already a number). */
export function readAcquire(r: number): AcquireReply {
  if (r > 0) return { ok: true, fence: r };
  if (r === 0) return { ok: false, foreign: true };
  return { ok: false, retryAfter: -1 - r };
}

/**
 * The mutex as the generic hold runs it (`engine/hold.ts`): KEYS lock and queue
 * ({@link mutexKeys}); a retry adds flag "q" ({@link retryFlags}); extend takes the lock key only;
 * a release sends the sole-hold value ({@link mutexReleaseArgs}) and may hand the lock to a queued
 * waiter; a waiter that gives up withdraws with its token.
 */
export const mutexProtocol: HoldProtocol = {
  name: 'mutex',
  acquire: mutexAcquire,
  extend: mutexExtend,
  release: mutexRelease,
  withdraw: mutexWithdraw,
  channel: mutexChannel,
  readAcquire: (entry) => readAcquire(asNumber(entry)),
  retryArgs: (first) => {
    const flags = first[2] as string;
    const retry = retryFlags(flags);
    return retry === flags ? (first as ScriptArg[]) : mutexAcquireArgs(first[0] as string, first[1] as number, retry);
  },
  extendKeys: 'lock',
  extendArgs: mutexExtendArgs,
  readExtend,
  releaseArgs: (hold) => mutexReleaseArgs(hold.token, hold.fence, hold.localHolds()),
  readRelease,
  withdrawArgs: (hold) => [hold.token],
  directHandOff: true,
};
