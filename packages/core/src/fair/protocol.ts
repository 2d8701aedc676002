/**
 * The fair lock's Redis protocol in one place: its keys and channel, the arguments of each of its
 * scripts and how to read their replies. `FairLock` and the CLI build their calls from here (the
 * scripts themselves are `scripts/fair/*.lua`; the dead-waiter sweep they share is
 * `scripts/includes/fair-sweep.lua`).
 *
 * Batchability: `fair/acquire.lua` (`@batch 5 keys 3`) and `fair/release.lua` (`@batch 2 keys 3`)
 * take many locks per call; extend, withdraw and inspect take one.
 */
import type { ScriptArg } from '../adapter.js';
import type { HoldProtocol, ReleaseReply } from '../engine/hold.js';
import { lockKey } from '../engine/keys.js';
import { fairAcquire, fairExtend, fairRelease, fairWithdraw } from '../generated/scripts.js';
import { grantedAt, parseOwner } from '../engine/owner.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import type { FairLockInfo } from './fair.js';

/**
 * The keys of the fair lock `name`: the lock hash (`o` owner token, `f` fence, `n` = 1), the
 * queue zset (waiter token → arrival µs) and the heartbeat zset (waiter token → deadline ms).
 * All carry the name as hash tag, so they share a Redis Cluster slot. The queue and heartbeat
 * sets exist only while someone waits.
 */
export function fairKeys(prefix: string, name: string): [lock: string, queue: string, heartbeats: string] {
  const lock = lockKey(prefix, 'fair', name);
  return [lock, `${lock}:q`, `${lock}:hb`];
}

/**
 * The lock's wake-up channel (`<lock key>:wake`). Releases address their message to the head of
 * the queue (`to:<token>`), so one subscription per lock and process serves every wait.
 */
export function fairChannel(lock: string): string {
  return `${lock}:wake`;
}

/**
 * ARGV of one lock of `fair/acquire.lua`: owner token, ttl, queue ttl, whether a busy caller
 * joins the queue (a blocking acquire; a one-shot one never queues), and the wake-up channel.
 */
export function fairAcquireArgs(token: string, ttl: number, queueTtl: number, queueing: boolean, channel: string): ScriptArg[] {
  return [token, ttl, queueTtl, queueing ? '1' : '0', channel];
}

/** One lock's entry of the `fair/acquire.lua` reply: the grant's fence, or busy with ms until worth retrying. */
export type FairAcquireReply = { ok: true; fence: number } | { ok: false; retryAfter: number };

/** Read one entry of `fair/acquire.lua`'s reply: `{1, fence}` held, `{0, ms until worth retrying}` not. */
export function readFairAcquire(entry: unknown): FairAcquireReply {
  const [status, value] = asArray(entry);
  if (asNumber(status) === 1) return { ok: true, fence: asNumber(value) };
  return { ok: false, retryAfter: Math.max(1, asNumber(value)) };
}

/** ARGV of `fair/extend.lua` (KEYS: the lock hash only). */
export function fairExtendArgs(token: string, ttl: number): ScriptArg[] {
  return [token, ttl];
}

/** `fair/extend.lua`: 1 = extended, 0 = not ours. */
export function readFairExtend(reply: unknown): boolean {
  return asNumber(reply) === 1;
}

/** ARGV of one lock of `fair/release.lua`, and of `fair/withdraw.lua` (a waiter leaving the queue). */
export function fairReleaseArgs(token: string, channel: string): ScriptArg[] {
  return [token, channel];
}

/** One entry of `fair/release.lua`: 0 = released, -1 = not ours. */
export function readFairRelease(entry: unknown): boolean {
  return asNumber(entry) === 0;
}

/** Read `fair/inspect.lua`'s reply `{owner or "", fence or "0", pttl, {tokens}}` (KEYS: lock hash and queue; no ARGV). */
export function readFairInspect(reply: unknown): FairLockInfo {
  const [owner, fence, pttl, queue] = asArray(reply);
  const o = asString(owner);
  const f = asNumber(fence);
  return { owner: o === '' ? undefined : o, fence: f, ttl: Math.max(0, asNumber(pttl)), queue: asArray(queue).map(asString), ownerInfo: (o && parseOwner(o)) || undefined, acquiredAt: o === '' ? undefined : grantedAt(f) };
}

const RELEASED: ReleaseReply = Object.freeze({ released: true });
const NOT_RELEASED: ReleaseReply = Object.freeze({ released: false });

/**
 * The fair lock as the generic hold runs it (`engine/hold.ts`): KEYS lock hash, queue and
 * heartbeats ({@link fairKeys}); the acquire ARGV ({@link fairAcquireArgs}) are the same on every
 * attempt (each renews the waiter's heartbeat); extend takes the lock hash only; release and
 * withdraw name the channel the next waiter is woken on.
 */
export const fairProtocol: HoldProtocol = {
  name: 'fair lock',
  acquire: fairAcquire,
  extend: fairExtend,
  release: fairRelease,
  withdraw: fairWithdraw,
  channel: fairChannel,
  readAcquire: readFairAcquire,
  extendKeys: 'lock',
  extendArgs: fairExtendArgs,
  readExtend: readFairExtend,
  releaseArgs: (hold) => fairReleaseArgs(hold.token, hold.channel),
  readRelease: (entry) => (readFairRelease(entry) ? RELEASED : NOT_RELEASED),
  withdrawArgs: (hold) => fairReleaseArgs(hold.token, hold.channel),
};
