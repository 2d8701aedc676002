/**
 * `@hilok/redlock`: the Redlock quorum over independent Redis instances — the exclusive lock
 * of the Redlock spec and hilok's read/write locks on paths — on any mix of drivers.
 * @packageDocumentation
 * @module @hilok/redlock
 */
export { Redlock, type LockOptions, type UsingOptions, type FromUrlsOptions } from './redlock.js';
export { RedlockLease, RedlockHold } from './lease.js';
export { QuorumError, type InstanceFailure } from './errors.js';
export { type RedlockOptions, MAX_RETRY_COUNT } from './options.js';
export { quorumOf } from './quorum.js';
export {
  semaphoreQuorumOf,
  type SemaphoreLockOptions,
  type SemaphoreUsingOptions,
  type RedlockSemaphoreStatus,
  type RedlockSemaphoreInstance,
  type RedlockSemaphoreHolder,
} from './semaphore-kind.js';
export { LockBusyError, LockLostError, LockReleaseError, InvalidArgumentError, RedisUnavailableError, ClosedError, HilokError, isHilokError } from '@hilok/core';
