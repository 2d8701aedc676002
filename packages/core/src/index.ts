/**
 * `@hilok/core`: every hilok lock algorithm, behind the small {@link RedisAdapter} interface.
 * Use it through `@hilok/ioredis` or `@hilok/node-redis`, which re-export all of this.
 * @packageDocumentation
 */
export { type RedisAdapter, type ScriptArg, isRedisAdapter } from './adapter.js';
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
export { connectionFailure, connectionDown, connectionFailureReason } from './connection.js';
export { Lease, leaseDrift, type LeaseBehaviour } from './engine/lease.js';
export { LockManager, adoptAdapter, type ManagerOptions, type AcquireOptions } from './engine/manager.js';
export { ScriptRunner, ReplyTimeoutError, MAX_BATCH, type Script, type RunOptions } from './engine/script.js';
export { Registry, type RegistrySlot } from './engine/registry.js';
export { WakeHub, WAKE_ALL } from './engine/wake-hub.js';
export { type SpinOptions, DEFAULT_SPIN, spinDelay, DEADLINE_SLACK, ONE_SHOT_TIMEOUT } from './engine/wait.js';
export { hashTag, lockKey, keySlot } from './engine/keys.js';
export { runScoped } from './engine/scoped.js';
export { Mutex, SpinLock, type MutexOptions, type MutexAcquireOptions, type MutexInfo } from './mutex/mutex.js';
export { mutexKeys, mutexChannel, handoffMessage, acquireFlags, parseStoredMutex, soleHoldValue, readAcquire, readRelease, type StoredMutex, type AcquireReply } from './mutex/protocol.js';
export { createDriverBindings, type Connection, type DriverBindings } from './bindings.js';
export { MAX_NAME_LENGTH, MAX_DURATION_MS, checkOptions, type OptionKeys, type AllowedKeys } from './validate.js';
export * as scripts from './generated/scripts.js';
export { HiLok, Hold, type HiLokOptions, type HoldOptions, type HoldMode, type HoldInfo, type TreeStatus } from './hilok/hilok.js';
export { MAX_DEPTH } from './hilok/paths.js';
export { closeGracefully } from './engine/close.js';
export { ReentrantMutex, type ReentrantAcquireOptions } from './reentrant/reentrant.js';
export { ReadWriteLock, type ReadWriteLockOptions } from './rwlock/rwlock.js';
export { FairLock, type FairLockOptions, type FairLockInfo } from './fair/fair.js';
export { pathKeys, splitPath, type PathKeys } from './hilok/paths.js';
export { readTreeAcquire, type TreeAcquireReply } from './hilok/protocol.js';
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
export { NamedLockManager } from './engine/named-lock.js';
export { sleep } from './engine/wait.js';
