/**
 * `@hilok/core`: every hilok lock algorithm, behind the small {@link RedisAdapter} interface.
 * Use it through `@hilok/ioredis` or `@hilok/node-redis`, which re-export all of this with lock
 * classes that take your client or a URL.
 *
 * This entry point is the stable, semver-covered API: the lock classes, their options and info
 * types, leases, errors, the adapter interface, diagnostics and the limits a caller needs. What
 * adapter authors and hilok's own packages build on is in `@hilok/core/internal` (unstable).
 * @packageDocumentation
 * @module @hilok/core
 */

// Lock classes, their options and what they report.
export { LockManager, type ManagerOptions, type AcquireOptions } from './engine/manager.js';
export { Mutex, SpinLock, MAX_MUTEX_NAMES, type MutexOptions, type MutexAcquireOptions, type MutexInfo } from './mutex/mutex.js';
export { type SpinOptions, DEFAULT_SPIN, DEADLINE_SLACK, ONE_SHOT_TIMEOUT } from './engine/wait.js';
export { HiLok, Hold, MultiHold, type HiLokOptions, type HoldOptions, type HoldMode, type HoldInfo, type TreeStatus, type PathRequest, type HeldPart } from './hilok/hilok.js';
export { MAX_DEPTH } from './hilok/paths.js';
export { MAX_TREE_PARTS } from './hilok/protocol.js';
export { ReentrantMutex, type ReentrantAcquireOptions } from './reentrant/reentrant.js';
export { ReadWriteLock, type ReadWriteLockOptions } from './rwlock/rwlock.js';
export { FairLock, type FairLockOptions, type FairLockInfo } from './fair/fair.js';
export { Semaphore, type SemaphoreOptions, type SemaphoreAcquireOptions, type SemaphoreStatus } from './semaphore/semaphore.js';
export { Lease } from './engine/lease.js';
export { parseOwner, type OwnerInfo } from './engine/owner.js';
export { MAX_NAME_LENGTH, MAX_DURATION_MS } from './validate.js';

// Errors.
export {
  HilokError,
  InvalidArgumentError,
  LockBusyError,
  RedisUnavailableError,
  LockLostError,
  LockReleaseError,
  ClosedError,
  isHilokError,
  type HilokErrorCode,
  type BusyReason,
  type LockBlocker,
} from './errors.js';
export { ReplyTimeoutError } from './engine/script.js';

// Connections: the adapter interface a driver implements, and what driver packages accept.
export { type RedisAdapter, type ScriptArg, isRedisAdapter } from './adapter.js';
export { type Connection } from './bindings.js';
export { type ShardedPubSubOption } from './sharded.js';

// Diagnostics.
export {
  diagnostics,
  type LockEventBase,
  type WaitEvent,
  type AcquireEvent,
  type HandoffEvent,
  type AcquireFailedEvent,
  type ExtendEvent,
  type ReleaseEvent,
  type LostEvent,
} from './engine/diagnostics.js';
