import { FairLock as IoFairLock, Mutex as IoMutex, type Lease } from '@hilok/ioredis';
import { Mutex as NrMutex } from '@hilok/node-redis';
import { IOREDIS_OPTIONS, NODE_REDIS_OPTIONS, closeIoredis, closeNodeRedis, openIoredis, openNodeRedis } from '../connections.js';
import type { ContenderFactory, Driver, Release } from './types.js';

/** The part of a hilok lock manager a contender drives. */
interface HilokLock {
  acquire(key: string): Promise<Lease>;
  close(): Promise<void>;
}

/**
 * A hilok contender: `lock` (a Mutex or FairLock with its defaults apart from the ttl) on a
 * client of `driver` with the same connection settings as every other contender of that driver.
 */
function hilokContender<C>(
  name: string,
  driver: Driver,
  lockName: string,
  wait: string,
  client: { open(url: string): Promise<C>; close(client: C): Promise<void>; options: unknown },
  makeLock: (client: C, ttl: number) => HilokLock,
): ContenderFactory {
  return {
    name,
    driver,
    raw: false,
    async create(url, mode) {
      const connection = await client.open(url);
      const lock = makeLock(connection, mode.ttl);
      return {
        settings: {
          lock: lockName,
          ttl: mode.ttl,
          acquire: 'lock.acquire(key) — blocking, no timeout (default)',
          wait,
          autoRenew: false,
          scenarioWaits: mode.waiting,
          connection: client.options,
        },
        async acquire(key): Promise<Release> {
          const lease = await lock.acquire(key);
          return async () => {
            await lease.release();
          };
        },
        async close() {
          await lock.close();
          await client.close(connection);
        },
      };
    },
  };
}

const ioredisClient = { open: openIoredis, close: closeIoredis, options: IOREDIS_OPTIONS };
const nodeRedisClient = { open: openNodeRedis, close: closeNodeRedis, options: NODE_REDIS_OPTIONS };
const MUTEX_WAIT = 'pubsub (default): one local waiter woken per release, fallback at the holder ttl';

/** hilok's `Mutex` through `@hilok/ioredis` on your ioredis client (its subscriber is a duplicate, opened on the first wait). */
export const hilokIoredis = hilokContender('hilok (ioredis)', 'ioredis', 'Mutex', MUTEX_WAIT, ioredisClient, (c, ttl) => new IoMutex(c, { ttl }));

/** hilok's `Mutex` through `@hilok/node-redis` on your node-redis client. */
export const hilokNodeRedis = hilokContender('hilok (node-redis)', 'node-redis', 'Mutex', MUTEX_WAIT, nodeRedisClient, (c, ttl) => new NrMutex(c, { ttl }));

/** hilok's `FairLock` (FIFO queue, only the head woken) through `@hilok/ioredis`: the "fair mode". */
export const hilokFairIoredis = hilokContender(
  'hilok fair (ioredis)',
  'ioredis',
  'FairLock',
  'FIFO queue in Redis; the release wakes only the head on its own channel; queueTtl 3 s (default)',
  ioredisClient,
  (c, ttl) => new IoFairLock(c, { ttl }),
);
