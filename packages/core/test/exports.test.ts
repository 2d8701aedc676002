import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import * as core from '@hilok/core';
import * as internal from '@hilok/core/internal';
import * as ioredis from '@hilok/ioredis';
import * as nodeRedis from '@hilok/node-redis';
import * as valkeyGlide from '@hilok/valkey-glide';
import * as redlock from '@hilok/redlock';

// The exact export names (values and types) of every published entry point. A change to a public
// surface is a change to this file, visible in review: `@hilok/core`, the drivers and Redlock are
// semver surface; `@hilok/core/internal` is unstable (listed so its growth is seen too).

const src = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const ENTRIES = {
  '@hilok/core': src('core/src/index.ts'),
  '@hilok/core/internal': src('core/src/internal.ts'),
  '@hilok/ioredis': src('ioredis/src/index.ts'),
  '@hilok/node-redis': src('node-redis/src/index.ts'),
  '@hilok/valkey-glide': src('valkey-glide/src/index.ts'),
  '@hilok/redlock': src('redlock/src/index.ts'),
};

/** Every export name of each entry, types included, as the TypeScript compiler sees them. */
function surfaces(): Record<keyof typeof ENTRIES, string[]> {
  const program = ts.createProgram(Object.values(ENTRIES), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    paths: { '@hilok/core/internal': [ENTRIES['@hilok/core/internal']], '@hilok/core': [ENTRIES['@hilok/core']] },
  });
  const checker = program.getTypeChecker();
  const names = (file: string) => {
    const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
    return checker.getExportsOfModule(module).map((s) => s.name).sort();
  };
  return Object.fromEntries(Object.entries(ENTRIES).map(([name, file]) => [name, names(file)])) as Record<keyof typeof ENTRIES, string[]>;
}

describe('exported names', () => {
  const surface = surfaces();

  it('@hilok/core: lock classes, options, leases, errors, the adapter interface, diagnostics, limits', () => {
    expect(surface['@hilok/core']).toEqual([
      'AcquireEvent', 'AcquireFailedEvent', 'AcquireOptions', 'BusyReason', 'ClosedError', 'Connection',
      'DEADLINE_SLACK', 'DEFAULT_SPIN', 'ExtendEvent', 'FairLock', 'FairLockInfo', 'FairLockOptions',
      'HandoffEvent', 'HeldPart', 'HiLok', 'HiLokOptions', 'HilokError', 'HilokErrorCode', 'Hold', 'HoldInfo',
      'HoldMode', 'HoldOptions', 'InvalidArgumentError', 'Lease', 'LockBlocker', 'LockBusyError',
      'LockEventBase', 'LockLostError', 'LockManager', 'LockReleaseError', 'LostEvent', 'MAX_DEPTH',
      'MAX_DURATION_MS', 'MAX_MUTEX_NAMES', 'MAX_NAME_LENGTH', 'MAX_TREE_PARTS', 'ManagerOptions', 'MultiHold', 'Mutex', 'MutexAcquireOptions', 'MutexInfo',
      'MutexOptions', 'ONE_SHOT_TIMEOUT', 'OwnerInfo', 'PathRequest', 'ReadWriteLock', 'ReadWriteLockOptions', 'RedisAdapter',
      'RedisUnavailableError', 'ReentrantAcquireOptions', 'ReentrantMutex', 'ReleaseEvent',
      'ReplyTimeoutError', 'ScriptArg', 'Semaphore', 'SemaphoreAcquireOptions', 'SemaphoreOptions',
      'SemaphoreStatus', 'ShardedPubSubOption', 'SpinLock', 'SpinOptions', 'TreeStatus',
      'WaitEvent', 'diagnostics', 'isHilokError', 'isRedisAdapter', 'parseOwner',
    ]);
  });

  it('@hilok/core/internal (unstable): what adapters and hilok\'s own packages build on', () => {
    expect(surface['@hilok/core/internal']).toEqual([
      'AcquireReply', 'AllowedKeys', 'ConnectionTracker', 'DEFAULT_INTENT_TTL', 'DriverBindings', 'DriverClients',
      'FairAcquireReply', 'LeaseBehaviour', 'LeaseLifecycle', 'MAX_BATCH', 'NamedLockManager',
      'OptionKeys', 'PathKeys', 'PathPart', 'Registry', 'RegistrySlot', 'RunOptions', 'SHARDED_PUBSUB_PROBE',
      'Script', 'ScriptRunner', 'SemaphoreAcquireReply', 'SemaphoreHolderEntry', 'SemaphoreWaiterEntry', 'ShardedPubSubMode', 'ShardedPubSubTarget',
      'StoredMutex', 'TreeAcquire', 'TreeAcquireAll', 'TreeAcquireAllReply', 'TreeAcquireReply', 'TreeItem', 'TreeKind', 'TreePart', 'WAKE_ALL', 'WakeHub',
      'acquireFlags', 'adoptAdapter', 'asArray', 'asNumber', 'asString', 'checkApp', 'checkDuration', 'checkName',
      'checkOptions', 'checkPermits', 'checkPrefix', 'checkSeparator', 'checkSignal', 'closeGracefully',
      'connectionDown', 'connectionFailure', 'connectionFailureReason', 'createDriverBindings',
      'decodeSemaphoreHold', 'decodeTreeItem', 'decodeWaiterMember', 'endScope', 'fairAcquireArgs', 'fairChannel', 'fairExtendArgs', 'fairKeys',
      'fairReleaseArgs', 'formatOwner', 'grantedAt', 'handoffMessage', 'hashTag', 'keySlot', 'leaseDrift', 'lockKey',
      'monotonicNow', 'mutexAcquireAllArgs', 'mutexAcquireArgs', 'mutexChannel', 'mutexExtendArgs', 'mutexKeys',
      'mutexNames', 'mutexReleaseArgs', 'nextOwnerToken', 'ownerTokenPrefix', 'parseStoredMutex', 'pathKeys', 'readAcquire', 'readAcquireAll', 'readExtend', 'readFairAcquire',
      'readFairExtend', 'readFairInspect', 'readFairRelease', 'readLockKey', 'readMutexInspect',
      'readRelease', 'readSemaphoreAcquire', 'readSemaphoreExtend', 'readSemaphoreRelease', 'readSemaphoreStatus',
      'readTreeAcquire', 'readTreeAcquireAll', 'readTreeDone', 'runScoped', 'scripts', 'semaphoreAcquireArgs', 'semaphoreChannel', 'semaphoreExtendArgs', 'semaphoreFlags',
      'semaphoreKeys', 'semaphoreQuorum', 'semaphoreReleaseArgs', 'shardedPubSubMode', 'sleep', 'soleHoldValue', 'spinDelay', 'splitPath',
      'treeAcquireAllArgs', 'treeAcquireArgs', 'treeBase', 'treeChannel', 'treeExtendArgs', 'treeKeys', 'treePartId', 'treeParts', 'treeReleaseArgs',
      'unhashTag', 'waiterMember',
    ]);
  });

  it('the driver packages: the public API of core, their lock classes and adapter', () => {
    expect(surface['@hilok/ioredis']).toEqual([...surface['@hilok/core'], 'IoredisAdapterOptions', 'IoredisClient', 'createIoredisAdapter'].sort());
    expect(surface['@hilok/node-redis']).toEqual([...surface['@hilok/core'], 'NodeRedisAdapterOptions', 'NodeRedisClient', 'createNodeRedisAdapter'].sort());
    expect(surface['@hilok/valkey-glide']).toEqual([...surface['@hilok/core'], 'ValkeyGlideAdapterOptions', 'ValkeyGlideClient', 'createValkeyGlideAdapter'].sort());
  });

  it('@hilok/redlock', () => {
    expect(surface['@hilok/redlock']).toEqual([
      'ClosedError', 'FromUrlsOptions', 'HilokError', 'InstanceFailure', 'InvalidArgumentError',
      'LockBusyError', 'LockLostError', 'LockOptions', 'LockReleaseError', 'MAX_RETRY_COUNT', 'QuorumError',
      'RedisUnavailableError', 'Redlock', 'RedlockHold', 'RedlockLease', 'RedlockOptions', 'RedlockSemaphoreHolder',
      'RedlockSemaphoreInstance', 'RedlockSemaphoreStatus', 'SemaphoreLockOptions', 'SemaphoreUsingOptions',
      'UsingOptions', 'isHilokError', 'quorumOf', 'semaphoreQuorumOf',
    ]);
  });

  it('nothing internal is reachable from a public entry at run time', () => {
    const internalValues = Object.keys(internal);
    for (const entry of [core, ioredis, nodeRedis, valkeyGlide, redlock]) {
      expect(Object.keys(entry).filter((name) => internalValues.includes(name))).toEqual([]);
    }
    // Run-time names are the value exports among the listed ones.
    expect(Object.keys(core).every((name) => surface['@hilok/core'].includes(name))).toBe(true);
    expect(Object.keys(internal).every((name) => surface['@hilok/core/internal'].includes(name))).toBe(true);
  });
});
