import { InvalidArgumentError, MAX_NAME_LENGTH, parseOwner, type OwnerInfo } from '@hilok/core';
import {
  checkPermits,
  semaphoreQuorum,
  readSemaphoreAcquire,
  readSemaphoreExtend,
  readSemaphoreRelease,
  readSemaphoreStatus,
  scripts,
  semaphoreAcquireArgs,
  semaphoreExtendArgs,
  semaphoreKeys,
  semaphoreReleaseArgs,
  type SemaphoreHolderEntry,
} from '@hilok/core/internal';
import type { InstanceFailure } from './errors.js';
import type { Call, LockKind } from './kinds.js';
import type { Answer } from './quorum.js';
import type { LockOptions, UsingOptions } from './redlock.js';

/**
 * How many of `n` instances must grant a hold of a semaphore of size `limit` so that the limit
 * holds across the quorum: `max(⌊n/2⌋ + 1, ⌊n·limit/(limit+1)⌋ + 1)` (core's semaphore protocol,
 * which the CLI's Redlock view reads too; see docs/semaphore.md).
 */
export function semaphoreQuorumOf(n: number, limit: number): number {
  return semaphoreQuorum(n, limit);
}

/**
 * `permits` of the counting semaphore `resource` (size `limit`) on the quorum, on core's
 * semaphore scripts and keys (`semaphoreKeys`). Never queued: on a quorum nobody waits on pub/sub
 * (the engine retries instead), so the starvation rule applies only to single-instance waiters.
 */
export function semaphoreKind(prefix: string, resource: string, token: string, permits: number, limit: number, instances: number): LockKind {
  const keys = semaphoreKeys(prefix, resource);
  return {
    resource,
    token,
    quorum: semaphoreQuorumOf(instances, limit),
    acquire: (ttl) => ({ script: scripts.semaphoreAcquire, keys, args: semaphoreAcquireArgs(token, permits, limit, ttl, false) }),
    parseAcquire: readSemaphoreAcquire,
    extend: (ttl) => ({ script: scripts.semaphoreExtend, keys, args: semaphoreExtendArgs(token, ttl) }),
    parseExtend: readSemaphoreExtend,
    release: () => ({ script: scripts.semaphoreRelease, keys, args: semaphoreReleaseArgs(token) }),
    parseRelease: (reply) => readSemaphoreRelease(reply).released,
  };
}

/** Per-call options of `Redlock.semaphore`: the lock options plus the semaphore's size and the permits wanted. */
export interface SemaphoreLockOptions extends LockOptions {
  /** The semaphore's size: a whole number ≥ 1 (per call, as in core's `Semaphore`). */
  limit: number;
  /** Permits to take: a whole number from 1 to `limit` (default 1). */
  permits?: number;
}

/**
 * Split `Redlock.semaphore`'s options into the checked `limit` / `permits` and the rest (the lock
 * options, checked by the Redlock). Bad input is an `InvalidArgumentError`, before any Redis call.
 */
export function splitPermitOptions(name: unknown, options: unknown): { name: string; limit: number; permits: number; rest: LockOptions } {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH || !name.isWellFormed()) {
    throw new InvalidArgumentError('name', `expected a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError('options', 'expected an options object with the limit');
  }
  const { limit, permits, ...rest } = options as Partial<SemaphoreLockOptions>;
  return { name, ...checkPermits(limit, permits), rest };
}

/** Options of `Redlock.withPermits`: the semaphore's size and permits, plus the scoped helpers' options. */
export interface SemaphoreUsingOptions extends UsingOptions {
  /** The semaphore's size: a whole number ≥ 1 (per call, as in core's `Semaphore`). */
  limit: number;
  /** Permits to take: a whole number from 1 to `limit` (default 1). */
  permits?: number;
}

/** One instance's answer in {@link RedlockSemaphoreStatus.instances}. */
export type RedlockSemaphoreInstance =
  | {
      /** Position of the instance in the adapter list. */
      index: number;
      ok: true;
      /** Its live holds (expired ones purged first), the first to expire first: core's `semaphore/status.lua` reply. */
      holders: SemaphoreHolderEntry[];
      /** Permits held on this instance (the sum over `holders`). */
      used: number;
      /** `limit − used` on this instance, at least 0. */
      available: number;
    }
  | (InstanceFailure & { ok: false });

/** One hold (one owner id) across the instances, in {@link RedlockSemaphoreStatus.holders}. */
export interface RedlockSemaphoreHolder {
  /** The owner token: the lease's `token`, the same on every instance. */
  id: string;
  /** Permits it holds. */
  permits: number;
  /** Indexes of the instances that hold it. */
  on: number[];
  /** Whether it is held on at least `quorum` of the instances that answered — a valid Redlock hold (while its ttls last). */
  valid: boolean;
  /** Shortest remaining ttl (ms, server clocks) among the instances that hold it. */
  ttl: number;
  /** Largest fence among the instances that hold it (as a lease's `fence`). */
  fence: number;
  /** Who took it (`app`, host, pid, process start), read from `id`; `undefined` for an id hilok did not make. */
  ownerInfo: OwnerInfo | undefined;
}

/** What `Redlock.semaphoreStatus` reports about one semaphore on the quorum. */
export interface RedlockSemaphoreStatus {
  /** The limit the counts are taken against (the call's). */
  limit: number;
  /** Instances that must grant a hold of this limit: `semaphoreQuorumOf(N, limit)`. */
  quorum: number;
  /** One entry per instance, in the order of the adapters: its holders, or why it did not answer. */
  instances: RedlockSemaphoreInstance[];
  /** Every hold seen on some instance, valid ones first, then by id. */
  holders: RedlockSemaphoreHolder[];
  /** Permits of the valid holds. */
  used: number;
  /**
   * Most permits a new hold could be granted now on a quorum: the largest `p` such that at least
   * `quorum` answering instances have `p` free (0 when fewer than `quorum` answered).
   */
  available: number;
}

/** `semaphore/status.lua` on every instance: core's status script, keys and reply reader. */
export function semaphoreStatusCall(prefix: string, name: string): Call {
  return { script: scripts.semaphoreStatus, keys: semaphoreKeys(prefix, name), args: [] };
}

/** The per-instance status replies of semaphore `limit`, lined up per owner id and counted against `quorum`. */
export function summariseSemaphore(
  answers: readonly Answer<ReturnType<typeof readSemaphoreStatus>>[],
  limit: number,
  quorum: number,
  failures: readonly InstanceFailure[],
): RedlockSemaphoreStatus {
  const instances: RedlockSemaphoreInstance[] = answers.map((a) => {
    if (!a.ok) return { ...(failures.find((f) => f.index === a.index) ?? { index: a.index, driver: '?', error: a.error }), ok: false };
    const used = a.value.holders.reduce((sum, h) => sum + h.permits, 0);
    return { index: a.index, ok: true, holders: a.value.holders, used, available: Math.max(0, limit - used) };
  });
  const byId = new Map<string, RedlockSemaphoreHolder>();
  for (const x of instances) {
    if (!x.ok) continue;
    for (const h of x.holders) {
      const row = byId.get(h.id);
      if (!row) byId.set(h.id, { id: h.id, permits: h.permits, on: [x.index], valid: false, ttl: h.ttl, fence: h.fence, ownerInfo: parseOwner(h.id) ?? undefined });
      else {
        row.on.push(x.index);
        row.ttl = Math.min(row.ttl, h.ttl);
        row.fence = Math.max(row.fence, h.fence);
      }
    }
  }
  const holders = [...byId.values()];
  for (const h of holders) h.valid = h.on.length >= quorum;
  holders.sort((a, b) => Number(b.valid) - Number(a.valid) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const used = holders.reduce((sum, h) => sum + (h.valid ? h.permits : 0), 0);
  // The quorum-th largest free count: that many instances can each grant it.
  const free = instances.flatMap((x) => (x.ok ? [x.available] : [])).sort((a, b) => b - a);
  const available = free.length >= quorum ? (free[quorum - 1] as number) : 0;
  return { limit, quorum, instances, holders, used, available };
}
