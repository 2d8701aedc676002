import {
  FairLock as IoFairLock,
  HiLok as IoHiLok,
  Mutex as IoMutex,
  ReadWriteLock as IoReadWriteLock,
  ReentrantMutex as IoReentrantMutex,
  Semaphore as IoSemaphore,
  SpinLock as IoSpinLock,
} from '@hilok/ioredis';
import { Mutex as NrMutex } from '@hilok/node-redis';
import { Mutex as GlideMutex } from '@hilok/valkey-glide';
import { GLIDE_OPTIONS, IOREDIS_OPTIONS, NODE_REDIS_OPTIONS, closeGlide, closeIoredis, closeNodeRedis, openGlide, openIoredis, openNodeRedis } from '../connections.js';
import type { ContenderFactory, ContenderKind, ContenderScenario, Driver, Release } from './types.js';

type Held = { release(): Promise<unknown> };

/**
 * What a contender needs of a hilok lock: take `key` exclusively (optionally bounded by
 * `timeout` ms), and close; the kinds beyond that, where the lock has them: a permit of a
 * semaphore, several keys at once.
 */
interface HilokLock {
  take(key: string, timeout: number | undefined): Promise<Held>;
  takePermit?(key: string, limit: number, timeout: number | undefined): Promise<Held>;
  takeAll?(keys: readonly string[], timeout: number | undefined): Promise<Held>;
  close(): Promise<void>;
}

/** A lock manager with `acquire(name, { timeout })` (Mutex, SpinLock, ReentrantMutex, FairLock). */
interface Acquirer {
  acquire(name: string, options?: { timeout?: number }): Promise<{ release(): Promise<unknown> }>;
  close(): Promise<void>;
}

/** A lock manager with `write(path, { timeout })` (HiLok, ReadWriteLock). */
interface Writer {
  write(path: string, options?: { timeout?: number }): Promise<{ release(): Promise<unknown> }>;
  close(): Promise<void>;
}

const byAcquire = (lock: Acquirer): HilokLock => ({ take: (key, timeout) => lock.acquire(key, timeout === undefined ? undefined : { timeout }), close: () => lock.close() });
/** The Mutex: one key, or several as one lease (`acquire([a, b])`, all or none). */
const byMutex = (lock: InstanceType<typeof IoMutex>): HilokLock => ({
  ...byAcquire(lock),
  takeAll: (keys, timeout) => lock.acquire(keys, timeout === undefined ? undefined : { timeout }),
});
/** The Semaphore: one permit of `key` (size `limit`); `take` is a semaphore of size 1. */
const bySemaphore = (lock: InstanceType<typeof IoSemaphore>): HilokLock => ({
  take: (key, timeout) => lock.acquire(key, { limit: 1, ...(timeout === undefined ? {} : { timeout }) }),
  takePermit: (key, limit, timeout) => lock.acquire(key, { limit, ...(timeout === undefined ? {} : { timeout }) }),
  close: () => lock.close(),
});
const byWrite = (lock: Writer): HilokLock => ({ take: (key, timeout) => lock.write(key, timeout === undefined ? undefined : { timeout }), close: () => lock.close() });

/**
 * A hilok contender: `lockName` with its defaults apart from the ttl, on a client of `driver`
 * with the same connection settings as every other contender of that driver.
 */
function hilokContender<C>(
  name: string,
  driver: Driver,
  lockName: string,
  wait: string,
  client: { open(url: string): Promise<C>; close(client: C): Promise<void>; options: unknown },
  makeLock: (client: C, ttl: number) => HilokLock,
  scenarios?: readonly ContenderScenario[],
  kinds?: readonly ContenderKind[],
): ContenderFactory {
  return {
    name,
    driver,
    raw: false,
    ...(scenarios ? { scenarios } : {}),
    ...(kinds ? { kinds } : {}),
    async create(url, mode) {
      const connection = await client.open(url);
      const lock = makeLock(connection, mode.ttl);
      const timeout = mode.waiting ? mode.timeoutMs : undefined;
      return {
        settings: {
          lock: lockName,
          ttl: mode.ttl,
          acquire: `${lockName.includes('write') ? 'write(key' : 'acquire(key'}${timeout === undefined ? ')' : `, { timeout: ${timeout} })`} — blocking; every other option its default`,
          wait,
          autoRenew: false,
          scenarioWaits: mode.waiting,
          connection: client.options,
        },
        async acquire(key): Promise<Release> {
          const lease = await lock.take(key, timeout);
          return async () => {
            await lease.release();
          };
        },
        ...(lock.takePermit
          ? {
              async acquireSemaphore(key: string, limit: number): Promise<Release> {
                const lease = await (lock.takePermit as NonNullable<HilokLock['takePermit']>)(key, limit, timeout);
                return async () => {
                  await lease.release();
                };
              },
            }
          : {}),
        ...(lock.takeAll
          ? {
              async acquireAll(keys: readonly string[]): Promise<Release> {
                const lease = await (lock.takeAll as NonNullable<HilokLock['takeAll']>)(keys, timeout);
                return async () => {
                  await lease.release();
                };
              },
            }
          : {}),
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
const glideClient = { open: openGlide, close: closeGlide, options: GLIDE_OPTIONS };
const MUTEX_WAIT = 'pubsub (default)';

/** hilok's `Mutex` through `@hilok/ioredis` on your ioredis client (its subscriber is a duplicate, opened on the first wait). */
export const hilokIoredis = hilokContender('hilok (ioredis)', 'ioredis', 'Mutex', MUTEX_WAIT, ioredisClient, (c, ttl) => byMutex(new IoMutex(c, { ttl })), undefined, ['multi']);

/** hilok's `Semaphore` through `@hilok/ioredis` (one permit per acquire, the call's `limit`): the semaphore rows only. */
export const hilokSemaphoreIoredis = hilokContender(
  'hilok Semaphore (ioredis)',
  'ioredis',
  'Semaphore',
  'pubsub (default); bounded barging as the Mutex',
  ioredisClient,
  (c, ttl) => bySemaphore(new IoSemaphore(c, { ttl })),
  ['semaphore'],
  ['semaphore'],
);

/** hilok's `Mutex` through `@hilok/node-redis` on your node-redis client. */
export const hilokNodeRedis = hilokContender('hilok (node-redis)', 'node-redis', 'Mutex', MUTEX_WAIT, nodeRedisClient, (c, ttl) => byAcquire(new NrMutex(c, { ttl })));

/** hilok's `Mutex` through `@hilok/valkey-glide` on your GLIDE client (its wake-up client is opened on the first wait). */
export const hilokGlide = hilokContender('hilok (valkey-glide)', 'valkey-glide', 'Mutex', MUTEX_WAIT, glideClient, (c, ttl) => byAcquire(new GlideMutex(c, { ttl })));

/** hilok's `FairLock` (FIFO queue, only the head woken) through `@hilok/ioredis`: the "fair mode". */
export const hilokFairIoredis = hilokContender(
  'hilok fair (ioredis)',
  'ioredis',
  'FairLock',
  "FIFO queue in Redis; the release wakes only the head (a message addressed to its token on the lock's channel) (defaults)",
  ioredisClient,
  (c, ttl) => byAcquire(new IoFairLock(c, { ttl })),
);

/** hilok's `SpinLock` (polls instead of subscribing) through `@hilok/ioredis`. Uncontended and contended only. */
export const hilokSpinIoredis = hilokContender('hilok SpinLock (ioredis)', 'ioredis', 'SpinLock', 'spin: polling with exponential backoff and jitter (SpinLock defaults)', ioredisClient, (c, ttl) => byAcquire(new IoSpinLock(c, { ttl })), ['uncontended', 'contended']);

/** hilok's `ReentrantMutex` through `@hilok/ioredis`. Uncontended and contended only. */
export const hilokReentrantIoredis = hilokContender('hilok ReentrantMutex (ioredis)', 'ioredis', 'ReentrantMutex', MUTEX_WAIT, ioredisClient, (c, ttl) => byAcquire(new IoReentrantMutex(c, { ttl })), ['uncontended', 'contended']);

/** hilok's `ReadWriteLock`, write holds only, through `@hilok/ioredis`. Contended only. */
export const hilokRwWriteIoredis = hilokContender('hilok ReadWriteLock write (ioredis)', 'ioredis', 'ReadWriteLock (write)', MUTEX_WAIT, ioredisClient, (c, ttl) => byWrite(new IoReadWriteLock(c, { ttl })), ['contended']);

/**
 * hilok's `HiLok`, write holds on a one-segment path (the key), through `@hilok/ioredis`:
 * 64 tasks on their own trees (parallel keys) and one contended path. Its depth scaling is the
 * hierarchy scenario's.
 */
export const hilokTreeIoredis = hilokContender('hilok HiLok write (ioredis)', 'ioredis', 'HiLok (write, one path)', MUTEX_WAIT, ioredisClient, (c, ttl) => byWrite(new IoHiLok(c, { ttl })), ['parallel-keys', 'contended']);
