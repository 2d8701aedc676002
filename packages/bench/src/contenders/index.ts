import { hilokFairIoredis, hilokGlide, hilokIoredis, hilokNodeRedis, hilokReentrantIoredis, hilokRwWriteIoredis, hilokSemaphoreIoredis, hilokSpinIoredis, hilokTreeIoredis } from './hilok.js';
import { hilokScriptsIoredis, rawGlide, rawIoredis, rawNodeRedis } from './raw.js';
import { redisSemaphore } from './redis-semaphore.js';
import { redlockUniversalGlide, redlockUniversalIoredis, redlockUniversalNodeRedis } from './redlock-universal.js';
import { redlockV5 } from './redlock-v5.js';
import { sesameRedlock } from './sesame-redlock.js';
import type { ContenderFactory, Driver } from './types.js';

export * from './types.js';
export {
  hilokFairIoredis,
  hilokGlide,
  hilokIoredis,
  hilokNodeRedis,
  hilokReentrantIoredis,
  hilokRwWriteIoredis,
  hilokScriptsIoredis,
  hilokSemaphoreIoredis,
  hilokSpinIoredis,
  hilokTreeIoredis,
  rawGlide,
  rawIoredis,
  rawNodeRedis,
  redisSemaphore,
  redlockUniversalGlide,
  redlockUniversalIoredis,
  redlockUniversalNodeRedis,
  redlockV5,
  sesameRedlock,
};

/**
 * Every contender, raw limits first (and the probe of hilok's scripts, for the throughput
 * scenarios); some run in a few scenarios only ({@link ContenderFactory.scenarios}).
 */
export const ALL_CONTENDERS: readonly ContenderFactory[] = [
  rawIoredis,
  rawNodeRedis,
  rawGlide,
  hilokIoredis,
  hilokNodeRedis,
  hilokGlide,
  hilokSpinIoredis,
  hilokReentrantIoredis,
  hilokRwWriteIoredis,
  hilokTreeIoredis,
  hilokFairIoredis,
  hilokSemaphoreIoredis,
  hilokScriptsIoredis,
  redlockV5,
  sesameRedlock,
  redisSemaphore,
  redlockUniversalIoredis,
  redlockUniversalNodeRedis,
  redlockUniversalGlide,
];

/** The raw limit of `driver`. */
export function rawOf(driver: Driver): ContenderFactory {
  return driver === 'ioredis' ? rawIoredis : driver === 'node-redis' ? rawNodeRedis : rawGlide;
}

/** Whether `c` is one of hilok's contenders. */
export function isHilok(c: ContenderFactory): boolean {
  return c.name.startsWith('hilok') && !c.raw && !c.probe;
}
