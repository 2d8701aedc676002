import { InvalidArgumentError, MAX_NAME_LENGTH } from '@hilok/core';
import { checkPermits, readSemaphoreAcquire, readSemaphoreRelease, scripts, semaphoreKeys } from '@hilok/core/internal';
import type { LockKind } from './kinds.js';
import { quorumOf } from './quorum.js';
import type { LockOptions } from './redlock.js';

/**
 * How many of `n` instances must grant a hold of a semaphore of size `limit` so that the limit
 * holds across the quorum: `max(⌊n/2⌋ + 1, ⌊n·limit/(limit+1)⌋ + 1)`.
 *
 * A majority is not enough for `limit ≥ 2`: with 3 instances and limit 2, holds A on {1,2}, B on
 * {2,3} and C on {1,3} are each granted by 2 of 3 instances, every instance holds only 2 — and 3
 * permits are out. In general, `h` holds each granted by `q` instances take `h·q` places, at most
 * `n·limit` exist, so `limit + 1` holds are impossible exactly when `q·(limit+1) > n·limit`.
 * The price: fewer instances may fail (`n − quorum`); from `limit ≥ n − 1` on, none.
 */
export function semaphoreQuorumOf(n: number, limit: number): number {
  return Math.max(quorumOf(n), Math.floor((n * limit) / (limit + 1)) + 1);
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
    acquire: (ttl) => ({ script: scripts.semaphoreAcquire, keys, args: [token, permits, limit, ttl, ''] }),
    parseAcquire: readSemaphoreAcquire,
    extend: (ttl) => ({ script: scripts.semaphoreExtend, keys, args: [token, ttl] }),
    parseExtend: (reply) => Number(reply instanceof Uint8Array ? Buffer.from(reply).toString() : reply) === 1,
    release: () => ({ script: scripts.semaphoreRelease, keys, args: [token] }),
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
