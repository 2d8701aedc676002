import { Mutex, Semaphore } from 'redis-semaphore';
import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import { PEER_RETRY_DELAY_MS, type ContenderFactory, type Release } from './types.js';

/**
 * `redis-semaphore`'s `Mutex` on one ioredis client (one `Mutex` object per acquire, as its API
 * binds a key and an identifier to the object); its `Semaphore` (one object per acquire too) in
 * the semaphore rows. Defaults (acquireTimeout 10 s, retryInterval
 * 10 ms, refreshInterval 0.8 × lockTimeout) with `lockTimeout` = the common ttl; when the
 * scenario waits, acquireTimeout is the scenario's acquire timeout, or 1 h (effectively
 * unlimited) when it has none.
 */
export const redisSemaphore: ContenderFactory = {
  name: 'redis-semaphore',
  driver: 'ioredis',
  raw: false,
  kinds: ['semaphore'],
  async create(url, mode) {
    const client = await openIoredis(url);
    const options = mode.waiting
      ? { lockTimeout: mode.ttl, acquireTimeout: mode.timeoutMs ?? 3_600_000, retryInterval: PEER_RETRY_DELAY_MS }
      : { lockTimeout: mode.ttl };
    return {
      settings: {
        package: 'redis-semaphore@5.8.0',
        lock: 'Mutex; Semaphore(client, key, limit, options) for the semaphore rows',
        options,
        defaults: 'acquireTimeout 10000, retryInterval 10, refreshInterval 0.8 × lockTimeout (timer while held)',
        connection: IOREDIS_OPTIONS,
      },
      async acquire(key): Promise<Release> {
        const mutex = new Mutex(client, key, options);
        await mutex.acquire();
        return () => mutex.release();
      },
      async acquireSemaphore(key, limit): Promise<Release> {
        const semaphore = new Semaphore(client, key, limit, options);
        await semaphore.acquire();
        return () => semaphore.release();
      },
      close: () => closeIoredis(client),
    };
  },
};
