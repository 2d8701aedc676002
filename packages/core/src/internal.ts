/**
 * `@hilok/core/internal`: the engine parts that driver adapters and hilok's own packages
 * (`@hilok/redlock`, `@hilok/cli`, the benchmarks, fault and contract tests) build on — the script
 * runner, key layouts and reply parsers of each lock kind, the compiled Lua scripts, option checks,
 * the driver bindings.
 *
 * **Unstable.** Not covered by semver: anything here may change or go in any release, a minor or
 * patch one included. Applications use `@hilok/core` (or `@hilok/ioredis` / `@hilok/node-redis`);
 * import from here only to write a driver adapter or a package released together with core.
 *
 * @packageDocumentation
 */

// Driver packages: bindings, adapter building blocks, connection errors, option checks.
export { createDriverBindings, type DriverBindings, type DriverClients } from './bindings.js';
export { adoptAdapter } from './engine/manager.js';
export { closeGracefully } from './engine/close.js';
export { connectionFailure, connectionDown, connectionFailureReason, ConnectionTracker } from './connection.js';
export { checkOptions, checkName, checkPrefix, checkSeparator, checkDuration, checkSignal, type OptionKeys, type AllowedKeys } from './validate.js';
export { shardedPubSubMode, SHARDED_PUBSUB_PROBE, type ShardedPubSubMode, type ShardedPubSubTarget } from './sharded.js';

// The engine: running scripts, live-object registries, wake-ups, waiting, leases.
export { ScriptRunner, MAX_BATCH, type Script, type RunOptions } from './engine/script.js';
export { Registry, type RegistrySlot } from './engine/registry.js';
export { WakeHub, WAKE_ALL } from './engine/wake-hub.js';
export { spinDelay, sleep } from './engine/wait.js';
export { leaseDrift, monotonicNow, LeaseLifecycle, endScope, type LeaseBehaviour } from './engine/lease.js';
export { runScoped } from './engine/scoped.js';
export { NamedLockManager } from './engine/named-lock.js';
export { checkApp } from './validate.js';
export { ownerTokenPrefix, nextOwnerToken, formatOwner, grantedAt } from './engine/owner.js';

// Redis protocol of the lock kinds: keys, channels, argument builders and reply parsers, scripts.
export { hashTag, unhashTag, lockKey, readLockKey, keySlot } from './engine/keys.js';
export { asArray, asNumber, asString } from './engine/reply.js';
export {
  mutexKeys,
  mutexChannel,
  handoffMessage,
  acquireFlags,
  mutexAcquireArgs,
  mutexAcquireAllArgs,
  mutexNames,
  mutexExtendArgs,
  mutexReleaseArgs,
  parseStoredMutex,
  soleHoldValue,
  readAcquire,
  readAcquireAll,
  readExtend,
  readMutexInspect,
  readRelease,
  type StoredMutex,
  type AcquireReply,
} from './mutex/protocol.js';
export { pathKeys, splitPath, treeParts, type PathKeys, type PathPart } from './hilok/paths.js';
export {
  treeBase,
  treeKeys,
  treeChannel,
  treeAcquireArgs,
  treeAcquireAllArgs,
  treePartId,
  readTreeAcquireAll,
  treeExtendArgs,
  treeReleaseArgs,
  readTreeAcquire,
  readTreeDone,
  decodeTreeItem,
  DEFAULT_INTENT_TTL,
  type TreeKind,
  type TreeAcquire,
  type TreeAcquireReply,
  type TreeAcquireAll,
  type TreeAcquireAllReply,
  type TreePart,
  type TreeItem,
} from './hilok/protocol.js';
export {
  fairKeys,
  fairChannel,
  fairAcquireArgs,
  fairExtendArgs,
  fairReleaseArgs,
  readFairAcquire,
  readFairExtend,
  readFairRelease,
  readFairInspect,
  type FairAcquireReply,
} from './fair/protocol.js';
export {
  semaphoreKeys,
  semaphoreChannel,
  waiterMember,
  semaphoreFlags,
  semaphoreAcquireArgs,
  semaphoreExtendArgs,
  semaphoreReleaseArgs,
  checkPermits,
  readSemaphoreAcquire,
  readSemaphoreExtend,
  readSemaphoreRelease,
  readSemaphoreStatus,
  decodeSemaphoreHold,
  decodeWaiterMember,
  semaphoreQuorum,
  type SemaphoreAcquireReply,
  type SemaphoreHolderEntry,
  type SemaphoreWaiterEntry,
} from './semaphore/protocol.js';
export * as scripts from './generated/scripts.js';
