import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { InvalidArgumentError, LockBusyError, QuorumError, Redlock, semaphoreQuorumOf, type RedlockLease } from '@hilok/redlock';
import { leftoverKeys, mixedAdapters } from './helpers.js';

// The counting semaphore on a quorum (issue 19): core's semaphore scripts on 3 independent
// instances, both drivers mixed.
let instances: RedisInstances;
let redlock: Redlock;

beforeAll(async () => {
  instances = await startRedisInstances(3);
  redlock = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 0, instanceTimeout: 300, ttl: 5_000 });
});
afterAll(async () => {
  await redlock?.close();
  await instances?.stopAll();
});

describe('Redlock semaphore', () => {
  it('needs more than a majority once limit ≥ 2: a majority would let limit + 1 holds in', () => {
    // 3 instances, limit 2: holds on {1,2}, {2,3}, {1,3} each have a majority and no instance
    // holds more than 2 — 3 permits out. q·(limit+1) > n·limit rules that out.
    expect([1, 2, 3, 10].map((limit) => semaphoreQuorumOf(3, limit))).toEqual([2, 3, 3, 3]);
    expect([1, 2, 3, 4, 100].map((limit) => semaphoreQuorumOf(5, limit))).toEqual([3, 4, 4, 5, 5]);
    for (const n of [1, 2, 3, 4, 5, 7]) {
      for (const limit of [1, 2, 3, 5, 8]) {
        const q = semaphoreQuorumOf(n, limit);
        expect(q * (limit + 1)).toBeGreaterThan(n * limit);
        expect(q).toBeLessThanOrEqual(n);
      }
    }
  });

  it('grants up to the limit, is busy beyond it, frees on release, and leaves no key', async () => {
    const a = await redlock.semaphore('pool', { limit: 3, permits: 2 });
    const b = await redlock.semaphore('pool', { limit: 3 });
    expect(b.fence).toBeGreaterThan(a.fence);
    await expect(redlock.semaphore('pool', { limit: 3 })).rejects.toBeInstanceOf(LockBusyError);
    await a.extend(8_000);
    expect(a.remaining).toBeGreaterThan(7_000);
    expect(await a.release()).toBe(true);
    const c = await redlock.semaphore('pool', { limit: 3, permits: 2 });
    await Promise.all([b.release(), c.release()]);
    {
      await using scoped = await redlock.semaphore('pool', { limit: 1 });
      expect(scoped.valid).toBe(true);
    }
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('never more than the limit across two Redlocks (6 tasks, limit 2, retrying)', async () => {
    const other = new Redlock(mixedAdapters(instances.urls).reverse(), { closeAdapters: true, retryCount: 200, retryDelayMin: 2, retryDelayMax: 10 });
    const mine = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 200, retryDelayMin: 2, retryDelayMax: 10 });
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 6 }, async (_, task) => {
        for (let round = 0; round < 3; round++) {
          const lease: RedlockLease = await (task % 2 ? other : mine).semaphore('shared', { limit: 2, ttl: 5_000 });
          most = Math.max(most, ++inside);
          await new Promise((r) => setTimeout(r, 5));
          inside--;
          await lease.release();
        }
      }),
    );
    expect(most).toBe(2);
    await Promise.all([other.close(), mine.close()]);
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('limit 1 survives one instance down (a majority); limit 2 on 3 instances needs all three', async () => {
    await instances.servers[2]!.pause();
    try {
      const one = await redlock.semaphore('down', { limit: 1 });
      await one.release();
      await expect(redlock.semaphore('down', { limit: 2 })).rejects.toBeInstanceOf(QuorumError);
    } finally {
      await instances.servers[2]!.resume();
    }
    await new Promise((r) => setTimeout(r, 100)); // late releases on the resumed instance
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('rejects bad input before any Redis call', async () => {
    for (const options of [undefined, {}, { limit: 0 }, { limit: 2.5 }, { limit: 2, permits: 3 }, { limit: 2, permits: 0 }, { limit: 2, permit: 1 }]) {
      await expect(redlock.semaphore('x', options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(redlock.semaphore('', { limit: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
