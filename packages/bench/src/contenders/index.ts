import { hilokFairIoredis, hilokIoredis, hilokNodeRedis } from './hilok.js';
import { hilokScriptsIoredis, rawIoredis, rawNodeRedis } from './raw.js';
import { redisSemaphore } from './redis-semaphore.js';
import { redlockV5 } from './redlock-v5.js';
import { sesameRedlock } from './sesame-redlock.js';
import type { ContenderFactory, Driver } from './types.js';

export * from './types.js';
export { hilokFairIoredis, hilokIoredis, hilokNodeRedis, hilokScriptsIoredis, rawIoredis, rawNodeRedis, redisSemaphore, redlockV5, sesameRedlock };

/** Every contender, raw limits first (and the probe of hilok's scripts, for the throughput scenarios). */
export const ALL_CONTENDERS: readonly ContenderFactory[] = [rawIoredis, rawNodeRedis, hilokIoredis, hilokNodeRedis, hilokFairIoredis, hilokScriptsIoredis, redlockV5, sesameRedlock, redisSemaphore];

/** The raw limit of `driver`. */
export function rawOf(driver: Driver): ContenderFactory {
  return driver === 'ioredis' ? rawIoredis : rawNodeRedis;
}

/** Whether `c` is one of hilok's contenders. */
export function isHilok(c: ContenderFactory): boolean {
  return c === hilokIoredis || c === hilokNodeRedis || c === hilokFairIoredis;
}
