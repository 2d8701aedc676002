import { Mutex as IoMutex } from '@hilok/ioredis';
import { Mutex as NrMutex } from '@hilok/node-redis';
import { IOREDIS_OPTIONS, NODE_REDIS_OPTIONS, closeIoredis, closeNodeRedis, openIoredis, openNodeRedis } from '../connections.js';
import type { ContenderFactory, Release } from './types.js';

/** Settings shared by both hilok contenders (the Mutex with its defaults, apart from the ttl). */
function hilokSettings(ttl: number, waiting: boolean): Record<string, unknown> {
  return {
    lock: 'Mutex',
    ttl,
    acquire: 'mutex.acquire(key) — blocking, no timeout (default)',
    wait: 'pubsub (default): woken by the release, fallback at the holder ttl',
    autoRenew: false,
    scenarioWaits: waiting,
  };
}

/** hilok's `Mutex` through `@hilok/ioredis` on your ioredis client (its subscriber is a duplicate, opened on the first wait). */
export const hilokIoredis: ContenderFactory = {
  name: 'hilok (ioredis)',
  driver: 'ioredis',
  raw: false,
  async create(url, mode) {
    const client = await openIoredis(url);
    const mutex = new IoMutex(client, { ttl: mode.ttl });
    return {
      settings: { ...hilokSettings(mode.ttl, mode.waiting), connection: IOREDIS_OPTIONS },
      async acquire(key): Promise<Release> {
        const lease = await mutex.acquire(key);
        return async () => {
          await lease.release();
        };
      },
      async close() {
        await mutex.close();
        await closeIoredis(client);
      },
    };
  },
};

/** hilok's `Mutex` through `@hilok/node-redis` on your node-redis client. */
export const hilokNodeRedis: ContenderFactory = {
  name: 'hilok (node-redis)',
  driver: 'node-redis',
  raw: false,
  async create(url, mode) {
    const client = await openNodeRedis(url);
    const mutex = new NrMutex(client, { ttl: mode.ttl });
    return {
      settings: { ...hilokSettings(mode.ttl, mode.waiting), connection: NODE_REDIS_OPTIONS },
      async acquire(key): Promise<Release> {
        const lease = await mutex.acquire(key);
        return async () => {
          await lease.release();
        };
      },
      async close() {
        await mutex.close();
        await closeNodeRedis(client);
      },
    };
  },
};
