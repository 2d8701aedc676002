import type { LockBlocker, ScriptArg } from '@hilok/core';
import {
  asArray,
  asNumber,
  mutexAcquireAllArgs,
  mutexAcquireArgs,
  mutexExtendArgs,
  mutexKeys,
  mutexReleaseArgs,
  pathKeys,
  readAcquire,
  readAcquireAll,
  readExtend,
  readRelease,
  readTreeAcquire,
  readTreeAcquireAll,
  readTreeDone,
  scripts,
  splitPath,
  treeAcquireAllArgs,
  treeAcquireArgs,
  treePartId,
  treeExtendArgs,
  treeReleaseArgs,
  type PathPart,
  type Script,
} from '@hilok/core/internal';

import type { Acquired } from './engine.js';

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
  /**
   * A group (`groupKind`): holds taken one after the other, each on its own quorum, held as one
   * lease — the engine extends and releases each member on its own quorum and never runs this
   * kind's own calls.
   */
  readonly members?: readonly Acquired[];
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
    acquire: (ttl) => ({ script: scripts.mutexAcquire, keys, args: mutexAcquireArgs(token, ttl, '') }),
    parseAcquire: (reply) => {
      const r = readAcquire(asNumber(asArray(reply)[0]));
      if (!r.ok && 'foreign' in r) throw new TypeError(`the key of mutex "${resource}" holds a value that is not a hilok mutex`);
      return r;
    },
    extend: (ttl) => ({ script: scripts.mutexExtend, keys: [key], args: mutexExtendArgs(token, ttl) }),
    parseExtend: (reply) => readExtend(asArray(reply)[0]),
    // Each instance granted with its own fence: with it, an instance frees the hold by its exact
    // value (the fast path of mutex/release.lua); without it ("") the owner check decides.
    release: (fences) => ({
      script: scripts.mutexRelease,
      keys,
      args: mutexReleaseArgs(token),
      argsFor: fences && ((i) => mutexReleaseArgs(token, fences[i])),
    }),
    parseRelease: (reply) => readRelease(asArray(reply)[0]).released,
  };
}

/**
 * Several mutexes as one hold, all or none on each instance (core's `mutex/acquire-all.lua`: one
 * script per instance, one fence per instance's grant); `names` checked, sorted and distinct
 * (`mutexNames`). An instance counts towards the quorum only if it granted every name.
 */
export function mutexAllKind(prefix: string, names: readonly string[], token: string): LockKind {
  const keys = names.flatMap((n) => mutexKeys(prefix, n));
  const locks = keys.filter((_, i) => i % 2 === 0);
  const resource = names.join(',');
  return {
    resource,
    token,
    // No flags: never queued (on a quorum the engine retries instead of waiting on pub/sub).
    acquire: (ttl) => ({ script: scripts.mutexAcquireAll, keys, args: mutexAcquireAllArgs(token, ttl, '') }),
    parseAcquire: (reply) => {
      const r = readAcquireAll(reply);
      if (r.ok) return r;
      if ('foreign' in r) throw new TypeError(`the key of mutex "${names[r.index] ?? resource}" holds a value that is not a hilok mutex`);
      return { ok: false, retryAfter: r.retryAfter };
    },
    extend: (ttl) => ({ script: scripts.mutexExtend, keys: locks, args: locks.flatMap(() => mutexExtendArgs(token, ttl)) }),
    parseExtend: (reply) => asArray(reply).every(readExtend),
    release: (fences) => ({
      script: scripts.mutexRelease,
      keys,
      args: names.flatMap(() => mutexReleaseArgs(token)),
      argsFor: fences && ((i) => names.flatMap(() => mutexReleaseArgs(token, fences[i]))),
    }),
    // The instance removed our hold: every name of it was still ours.
    parseRelease: (reply) => asArray(reply).every((entry) => readRelease(entry).released),
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
 * (see docs/redlock.md).
 */
export function hilokKind(prefix: string, separator: string, path: string, mode: 'read' | 'write', id: string): LockKind {
  const { keys } = pathKeys(prefix, separator, splitPath(path, separator));
  return {
    resource: path,
    token: id,
    // No intent and no waiter mark: on a quorum nobody waits on pub/sub (the engine retries).
    acquire: (ttl) => ({ script: scripts.hilokAcquire, keys, args: treeAcquireArgs({ mode, id, ttl, path, separator }) }),
    // The tree scripts batch like the mutex's: the reply holds one entry per tree.
    parseAcquire: (reply) => {
      const r = readTreeAcquire(asArray(reply)[0]);
      if (r.status === 'granted') return { ok: true, fence: r.fence };
      // A conflict (the id holds another path) cannot happen with our fresh random ids; count it as busy.
      return r.status === 'busy' ? { ok: false, retryAfter: r.retryAfter, blocker: r.blocker } : { ok: false, retryAfter: 0 };
    },
    extend: (ttl) => ({ script: scripts.hilokExtend, keys, args: treeExtendArgs(id, path, ttl) }),
    parseExtend: (reply) => readTreeDone(asArray(reply)[0]),
    release: () => ({ script: scripts.hilokRelease, keys, args: treeReleaseArgs(id, path) }),
    parseRelease: (reply) => readTreeDone(asArray(reply)[0]),
  };
}

/**
 * Several holds (reads and writes) on paths of ONE tree as one hold, all or none on each instance
 * (core's `hilok/acquire-all.lua`: one script per instance, the parts of the tree granted with one
 * fence or none); `parts` checked and merged by core's `treeParts`, all under one root. No
 * intents: on a quorum nobody queues (the engine retries). Each part is a hold of its own on every
 * instance, with id `treePartId(token, path)`.
 */
export function hilokAllKind(prefix: string, separator: string, parts: readonly PathPart[], token: string): LockKind {
  const { keys } = pathKeys(prefix, separator, (parts[0] as PathPart).segments);
  const entries = parts.map((p) => ({ mode: p.mode, id: treePartId(token, p.path), path: p.path, intent: '' }));
  // The batched extend and release take one entry (the tree's three keys) per part.
  const entryKeys = entries.flatMap(() => keys);
  return {
    resource: parts.map((p) => p.path).join(','),
    token,
    acquire: (ttl) => ({ script: scripts.hilokAcquireAll, keys, args: treeAcquireAllArgs({ ttl, separator, parts: entries }) }),
    parseAcquire: (reply) => {
      const r = readTreeAcquireAll(reply);
      if (r.status === 'granted') return { ok: true, fence: Math.max(...r.fences) };
      // A conflict (a part id holding another path) cannot happen with our fresh tokens; count it as busy.
      return r.status === 'busy' ? { ok: false, retryAfter: r.retryAfter, blocker: r.blocker } : { ok: false, retryAfter: 0 };
    },
    extend: (ttl) => ({ script: scripts.hilokExtend, keys: entryKeys, args: entries.flatMap((p) => treeExtendArgs(p.id, p.path, ttl)) }),
    parseExtend: (reply) => asArray(reply).every(readTreeDone),
    release: () => ({ script: scripts.hilokRelease, keys: entryKeys, args: entries.flatMap((p) => treeReleaseArgs(p.id, p.path)) }),
    // The instance removed our hold: every part of it was still ours.
    parseRelease: (reply) => asArray(reply).every(readTreeDone),
  };
}

/**
 * Several holds already taken on the quorum, one after the other (each with its own token and
 * quorum of granting instances), as one: `Redlock.lockPaths` over several trees. Its `members`
 * are extended and released member by member, each on its own quorum (an instance that granted
 * one tree need not have granted another, so a per-instance call over every tree would count
 * wrongly); its own calls are never made.
 */
export function groupKind(members: readonly Acquired[]): LockKind {
  const none = (): never => {
    throw new TypeError('a group of holds is extended and released member by member');
  };
  return {
    resource: members.map((m) => m.kind.resource).join(','),
    token: (members[0] as Acquired).token,
    members,
    acquire: none,
    parseAcquire: none,
    extend: none,
    parseExtend: none,
    release: none,
    parseRelease: none,
  };
}
