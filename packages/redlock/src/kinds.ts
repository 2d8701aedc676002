import type { LockBlocker, ScriptArg } from '@hilok/core';
import { mutexKeys, pathKeys, readAcquire, readRelease, readTreeAcquire, scripts, soleHoldValue, splitPath, type Script } from '@hilok/core/internal';

/** One script call: the same on every instance (the instances are independent copies). */
export interface Call {
  script: Script;
  keys: string[];
  args: ScriptArg[];
  /** Per-instance arguments instead of `args`, where an instance's own answer matters (its fence). */
  argsFor?: (instance: number) => ScriptArg[];
}

/** What one instance answered to an acquire. */
export type Grant = { ok: true; fence: number } | { ok: false; retryAfter: number; blocker?: LockBlocker | undefined };

/**
 * A lock kind on the quorum: which of core's scripts to run and how to read their replies.
 * Core's scripts already make each instance's state change atomic and owner-checked; the quorum
 * only counts the per-instance answers, so no Lua is duplicated here.
 */
export interface LockKind {
  /** The name or path, for errors and the lease. */
  readonly resource: string;
  /** The owner token (hold id) stored on every instance. */
  readonly token: string;
  /** Instances that must agree, when a majority is not enough (a semaphore: `semaphoreQuorumOf`). */
  readonly quorum?: number;
  acquire(ttl: number): Call;
  parseAcquire(reply: unknown): Grant;
  extend(ttl: number): Call;
  /** True when the instance extended our hold. */
  parseExtend(reply: unknown): boolean;
  /**
   * The release call; `fences[i]` is the fence instance i granted with, when known, so a kind
   * may let each instance free the hold by its exact stored value.
   */
  release(fences?: readonly (number | undefined)[]): Call;
  /** True when the instance removed a live hold of ours. */
  parseRelease(reply: unknown): boolean;
}

/** An exclusive lock per name, on core's mutex scripts and key layout (`mutexKeys`). */
export function mutexKind(prefix: string, resource: string, token: string): LockKind {
  const keys = mutexKeys(prefix, resource);
  const [key] = keys;
  return {
    resource,
    token,
    // No flags: not reentrant (a second acquire with the same token only refreshes), and never
    // queued for a hand-off, since on a quorum nobody waits on pub/sub (the engine retries instead).
    acquire: (ttl) => ({ script: scripts.mutexAcquire, keys, args: [token, ttl, ''] }),
    parseAcquire: (reply) => {
      const r = readAcquire(num(array(reply)[0]));
      if (!r.ok && 'foreign' in r) throw new TypeError(`the key of mutex "${resource}" holds a value that is not a hilok mutex`);
      return r;
    },
    extend: (ttl) => ({ script: scripts.mutexExtend, keys: [key], args: [token, ttl] }),
    parseExtend: (reply) => num(array(reply)[0]) === 1,
    // Each instance granted with its own fence: with it, an instance frees the hold by its exact
    // value (the fast path of mutex/release.lua); without it ("") the owner check decides.
    release: (fences) => ({
      script: scripts.mutexRelease,
      keys,
      args: [token, ''],
      argsFor: fences && ((i) => [token, fences[i] ? soleHoldValue(fences[i] as number, token) : '']),
    }),
    parseRelease: (reply) => readRelease(array(reply)[0]).released,
  };
}

/** The mutex inspect call for `isLocked`. */
export function mutexInspect(prefix: string, resource: string): Call {
  return { script: scripts.mutexInspect, keys: mutexKeys(prefix, resource), args: [] };
}

/**
 * A read or write hold on a path of core's hierarchical lock tree, with core's key layout
 * (`pathKeys`: three keys per tree at any depth). Waiting-writer intents and waiter marks are not
 * used: on a quorum a writer retries instead of queueing, so writer preference does not apply
 * (see README).
 */
export function hilokKind(prefix: string, separator: string, path: string, mode: 'read' | 'write', id: string): LockKind {
  const { keys } = pathKeys(prefix, separator, splitPath(path, separator));
  return {
    resource: path,
    token: id,
    // ARGV: mode, id, ttl, path, separator, no intent, intent ttl (unused), no waiter mark.
    acquire: (ttl) => ({ script: scripts.hilokAcquire, keys, args: [mode === 'write' ? 'w' : 'r', id, ttl, path, separator, '', 3_000, '0'] }),
    // The tree scripts batch like the mutex's: the reply holds one entry per tree.
    parseAcquire: (reply) => {
      const r = readTreeAcquire(array(reply)[0]);
      if (r.status === 'granted') return { ok: true, fence: r.fence };
      // A conflict (the id holds another path) cannot happen with our fresh random ids; count it as busy.
      return r.status === 'busy' ? { ok: false, retryAfter: r.retryAfter, blocker: r.blocker } : { ok: false, retryAfter: 0 };
    },
    extend: (ttl) => ({ script: scripts.hilokExtend, keys, args: [id, path, ttl] }),
    parseExtend: (reply) => num(array(reply)[0]) === 1,
    release: () => ({ script: scripts.hilokRelease, keys, args: [id, path] }),
    parseRelease: (reply) => num(array(reply)[0]) === 1,
  };
}

function array(reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply;
  throw new TypeError(`expected an array reply from Redis, got ${typeof reply}`);
}

function num(reply: unknown): number {
  const n = typeof reply === 'number' ? reply : Number(reply instanceof Uint8Array ? Buffer.from(reply).toString() : reply);
  if (!Number.isFinite(n)) throw new TypeError(`expected a numeric reply from Redis, got ${String(reply)}`);
  return n;
}
