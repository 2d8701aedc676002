import { GlideAdapter, IoredisAdapter, LockManager, NodeRedisAdapter, createLock, createRedlock, type LockHandle, type RedisAdapter } from 'redlock-universal';
import { GLIDE_OPTIONS, IOREDIS_OPTIONS, NODE_REDIS_OPTIONS, closeGlide, closeIoredis, closeNodeRedis, openGlide, openIoredis, openNodeRedis } from '../connections.js';
import type { QuorumContenderFactory } from './quorum.js';
import { PEER_RETRY_DELAY_MS, retriesFor, type Contender, type ContenderFactory, type ContenderKind, type ContenderMode, type Driver, type Release } from './types.js';

/** Package and version of the redlock-universal contenders. */
export const REDLOCK_UNIVERSAL_PACKAGE = 'redlock-universal@0.8.5';

/** Retry attempts standing for "unlimited" (the library takes a non-negative integer only). */
const UNLIMITED_ATTEMPTS = 1_000_000_000;

/** The lock object of one key: `acquire()` resolves a handle, `release(handle)` frees it. */
interface UniversalLock {
  acquire(): Promise<LockHandle>;
  release(handle: LockHandle): Promise<boolean>;
}

/**
 * Retry settings: the library's defaults (retryAttempts 3, retryDelay 100 ms; 200 ms for its
 * RedLock) when the scenario does not wait; when it waits, the same 10 ms poll as the other
 * polling peers, with attempts to cover the scenario's acquire timeout (else ~unlimited).
 */
function retrySettings(mode: ContenderMode): { retryAttempts: number; retryDelay: number } | Record<string, never> {
  if (!mode.waiting) return {};
  const retries = retriesFor(mode);
  return { retryAttempts: retries < 0 ? UNLIMITED_ATTEMPTS : retries, retryDelay: PEER_RETRY_DELAY_MS };
}

/**
 * A contender over redlock-universal locks: its API binds a key to a lock object
 * (`createLock({ adapter, key })`), so the contender keeps one lock object per key, created on
 * the key's first use — as an application keeps one per resource.
 */
function universalContender(settings: Record<string, unknown>, make: (key: string) => UniversalLock, close: () => Promise<void>, batch?: LockManager): Contender {
  const locks = new Map<string, UniversalLock>();
  return {
    settings,
    ...(batch
      ? {
          // All or none in one script (its keys sorted), retried every retryDelay while any is taken.
          async acquireAll(keys: readonly string[]): Promise<Release> {
            const handles = await batch.acquireBatch([...keys]);
            return async () => {
              await batch.releaseBatch(handles);
            };
          },
        }
      : {}),
    async acquire(key): Promise<Release> {
      let lock = locks.get(key);
      if (!lock) locks.set(key, (lock = make(key)));
      const handle = await lock.acquire();
      return async () => {
        await lock.release(handle);
      };
    },
    close,
  };
}

function singleInstance(name: string, driver: Driver, open: (url: string) => Promise<{ adapter: RedisAdapter; close(): Promise<void>; connection: unknown }>, kinds?: readonly ContenderKind[]): ContenderFactory {
  return {
    name,
    driver,
    raw: false,
    ...(kinds ? { kinds } : {}),
    async create(url, mode) {
      const { adapter, close, connection } = await open(url);
      const retry = retrySettings(mode);
      // The batch API (`acquireBatch` / `releaseBatch`) lives on its LockManager.
      const batch = kinds?.includes('multi')
        ? new LockManager({ nodes: [adapter], defaultTTL: mode.ttl, ...('retryAttempts' in retry ? { defaultRetryAttempts: retry.retryAttempts, defaultRetryDelay: retry.retryDelay } : {}) })
        : undefined;
      return universalContender(
        {
          package: REDLOCK_UNIVERSAL_PACKAGE,
          lock: `createLock({ adapter: new ${driver === 'ioredis' ? 'IoredisAdapter' : driver === 'node-redis' ? 'NodeRedisAdapter' : 'GlideAdapter'}(client), key, ttl }) — SimpleLock, performance 'standard' (default), circuit breaker on (default); one lock object per key`,
          ttl: mode.ttl,
          acquire: `lock.acquire() / lock.release(handle)${batch ? '; new LockManager({ nodes: [adapter], defaultTTL, defaultRetryAttempts, defaultRetryDelay }).acquireBatch([a, b]) / releaseBatch(handles) in the multi-name rows' : ''}`,
          retry: mode.waiting ? retry : 'defaults: retryAttempts 3, retryDelay 100',
          connection,
        },
        (key) => createLock({ adapter, key, ttl: mode.ttl, ...retry }),
        close,
        batch,
      );
    },
  };
}

/** `redlock-universal`'s single-instance lock (`createLock`, a SimpleLock) on one ioredis client. */
export const redlockUniversalIoredis = singleInstance('redlock-universal (ioredis)', 'ioredis', async (url) => {
  const client = await openIoredis(url);
  return { adapter: new IoredisAdapter(client), close: () => closeIoredis(client), connection: IOREDIS_OPTIONS };
}, ['multi']);

/** `redlock-universal`'s single-instance lock on one node-redis client (the only peer with a node-redis adapter). */
export const redlockUniversalNodeRedis = singleInstance('redlock-universal (node-redis)', 'node-redis', async (url) => {
  const client = await openNodeRedis(url);
  return { adapter: new NodeRedisAdapter(client as never), close: () => closeNodeRedis(client), connection: NODE_REDIS_OPTIONS };
});

/** `redlock-universal`'s single-instance lock on one Valkey GLIDE client (its `GlideAdapter`). */
export const redlockUniversalGlide = singleInstance('redlock-universal (valkey-glide)', 'valkey-glide', async (url) => {
  const client = await openGlide(url);
  return { adapter: new GlideAdapter(client as never), close: () => closeGlide(client), connection: GLIDE_OPTIONS };
});

/** `redlock-universal`'s RedLock (`createRedlock`) over one ioredis client per instance, quorum = majority (default). */
export const redlockUniversalQuorum: QuorumContenderFactory = {
  name: 'redlock-universal',
  raw: false,
  async create(urls, mode) {
    const clients = await Promise.all(urls.map(openIoredis));
    const adapters = clients.map((c) => new IoredisAdapter(c));
    const retry = retrySettings(mode);
    return universalContender(
      {
        package: REDLOCK_UNIVERSAL_PACKAGE,
        lock: 'createRedlock({ adapters, key, ttl }) — quorum majority, clockDriftFactor 0.01 (defaults); one lock object per key',
        instances: urls.length,
        ttl: mode.ttl,
        acquire: 'redlock.acquire() / redlock.release(handle)',
        retry: mode.waiting ? retry : 'defaults: retryAttempts 3, retryDelay 200',
        connection: IOREDIS_OPTIONS,
      },
      (key) => createRedlock({ adapters, key, ttl: mode.ttl, ...retry }),
      async () => {
        await Promise.all(clients.map(closeIoredis));
      },
    );
  },
};
