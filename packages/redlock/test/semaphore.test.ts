import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { InvalidArgumentError, LockBusyError, LockLostError, QuorumError, Redlock, semaphoreQuorumOf, type RedlockLease } from '@hilok/redlock';
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

describe('Redlock semaphore: withPermits (scoped), as core\'s Semaphore.withPermits and redlock.using', () => {
  it('runs fn holding the permits, extends past the ttl, releases after, and returns fn\'s value', async () => {
    const seen: number[] = [];
    const result = await redlock.withPermits(
      'scoped',
      async (signal, lease) => {
        expect(signal.aborted).toBe(false);
        expect(lease.valid).toBe(true);
        const status = await redlock.semaphoreStatus('scoped', { limit: 3 });
        seen.push(status.used, status.available);
        expect(status.holders).toEqual([expect.objectContaining({ id: lease.token, permits: 2, valid: true, on: [0, 1, 2] })]);
        await new Promise((r) => setTimeout(r, 1_200)); // past the 600 ms ttl: the scope extends it
        expect(lease.valid).toBe(true);
        return 'done';
      },
      { limit: 3, permits: 2, ttl: 600, extendInterval: 150 },
    );
    expect(result).toBe('done');
    expect(seen).toEqual([2, 1]);
    expect((await redlock.semaphoreStatus('scoped', { limit: 3 })).holders).toEqual([]);
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('an exception from fn propagates unchanged and the permits are released', async () => {
    const body = new Error('body failed');
    const err = await redlock.withPermits('scoped-err', () => Promise.reject(body), { limit: 1 }).catch((e: unknown) => e);
    expect(err).toBe(body);
    const again = await redlock.semaphore('scoped-err', { limit: 1 }); // free again at once
    await again.release();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('a clean body whose hold was lost meanwhile throws LockLostError', async () => {
    const err = await redlock
      .withPermits(
        'scoped-lost',
        async (signal) => {
          await Promise.all(instances.servers.map((s) => s.command('FLUSHALL')));
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return 1;
        },
        { limit: 2, ttl: 3_000, extendInterval: 100 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
  });

  it('busy when the limit is reached: fn never runs', async () => {
    const held = await redlock.semaphore('scoped-busy', { limit: 1 });
    let ran = false;
    await expect(redlock.withPermits('scoped-busy', () => (ran = true), { limit: 1 })).rejects.toBeInstanceOf(LockBusyError);
    expect(ran).toBe(false);
    await held.release();
  });

  it('rejects bad input before any Redis call (and never runs fn)', async () => {
    const fn = () => {
      throw new Error('must not run');
    };
    await expect(redlock.withPermits('x', 'nope' as never, { limit: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const options of [undefined, {}, { limit: 0 }, { limit: 2, permits: 3 }, { limit: 2, extendInterval: 5_000 }, { limit: 2, extendInterval: 0 }, { limit: 2, permit: 1 }]) {
      await expect(redlock.withPermits('x', fn, options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(redlock.withPermits('', fn, { limit: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('Redlock semaphore: semaphoreStatus on 3 instances', () => {
  it('per-instance holders, each hold\'s instances and validity, and the permits a new hold could get', async () => {
    const a = await redlock.semaphore('st', { limit: 3, permits: 2, ttl: 5_000 });
    // A hold on instance 0 only (a Redlock over that instance alone): no valid hold on the quorum.
    const lone = new Redlock(mixedAdapters(instances.urls.slice(0, 1)), { closeAdapters: true, retryCount: 0, ttl: 5_000 });
    const b = await lone.semaphore('st', { limit: 3 });
    const status = await redlock.semaphoreStatus('st', { limit: 3 });
    expect(status.limit).toBe(3);
    expect(status.quorum).toBe(semaphoreQuorumOf(3, 3));
    expect(status.holders).toEqual([
      { id: a.token, permits: 2, on: [0, 1, 2], valid: true, ttl: expect.any(Number), fence: a.fence, ownerInfo: expect.objectContaining({ pid: process.pid }) },
      { id: b.token, permits: 1, on: [0], valid: false, ttl: expect.any(Number), fence: b.fence, ownerInfo: expect.objectContaining({ pid: process.pid }) },
    ]);
    expect(status.holders[0]!.ttl).toBeGreaterThan(4_000);
    expect(status.holders[0]!.ttl).toBeLessThanOrEqual(5_000);
    expect(status.instances.map((x) => x.ok && [x.used, x.available])).toEqual([[3, 0], [2, 1], [2, 1]]);
    expect(status.used).toBe(2);
    // A new hold needs all 3 instances at limit 3: instance 0 is full.
    expect(status.available).toBe(0);
    await expect(redlock.semaphore('st', { limit: 3 })).rejects.toBeInstanceOf(LockBusyError);
    await b.release();
    await lone.close();
    expect((await redlock.semaphoreStatus('st', { limit: 3 })).available).toBe(1);
    // The limit is the caller's: under limit 5 the same holds leave 3.
    expect((await redlock.semaphoreStatus('st', { limit: 5 })).available).toBe(3);
    await a.release();
    expect(await redlock.semaphoreStatus('st', { limit: 3 })).toMatchObject({ holders: [], used: 0, available: 3 });
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('one instance down: it is listed with its error; a limit-1 hold is still valid on 2 of 3', async () => {
    const a = await redlock.semaphore('st-down', { limit: 1 });
    await instances.servers[1]!.pause();
    try {
      const status = await redlock.semaphoreStatus('st-down', { limit: 1 });
      expect(status.quorum).toBe(2);
      expect(status.instances.map((x) => x.ok)).toEqual([true, false, true]);
      const down = status.instances[1]!;
      expect(down.ok === false && down.index === 1 && down.error).toBeInstanceOf(Error);
      expect(status.holders).toEqual([expect.objectContaining({ id: a.token, on: [0, 2], valid: true })]);
      expect(status.available).toBe(0);
      await a.release();
      expect((await redlock.semaphoreStatus('st-down', { limit: 1 })).available).toBe(1);
      // Limit 2 needs all three instances: with one down no new hold can be granted.
      expect((await redlock.semaphoreStatus('st-down', { limit: 2 })).available).toBe(0);
    } finally {
      await instances.servers[1]!.resume();
    }
    await new Promise((r) => setTimeout(r, 100)); // the paused instance's late replies
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('too few instances answer: QuorumError', async () => {
    await Promise.all(instances.servers.slice(0, 2).map((s) => s.pause()));
    try {
      await expect(redlock.semaphoreStatus('st-q', { limit: 1 })).rejects.toBeInstanceOf(QuorumError);
    } finally {
      await Promise.all(instances.servers.slice(0, 2).map((s) => s.resume()));
    }
  });

  it('rejects bad input before any Redis call', async () => {
    for (const options of [undefined, {}, { limit: 0 }, { limit: 1.5 }, { limit: '2' }, { limit: 2, permits: 1 }]) {
      await expect(redlock.semaphoreStatus('x', options as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    await expect(redlock.semaphoreStatus('', { limit: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('Redlock semaphore on 5 instances, one killed', () => {
  let five: RedisInstances;
  let r5: Redlock;
  beforeAll(async () => {
    five = await startRedisInstances(5);
    r5 = new Redlock(mixedAdapters(five.urls), { closeAdapters: true, retryCount: 0, instanceTimeout: 300, ttl: 5_000 });
  });
  afterAll(async () => {
    await r5?.close();
    await five?.stopAll();
  });

  it('limit 3 needs 4 of 5: holds, withPermits and status go on with one instance down', async () => {
    await five.servers[4]!.kill();
    const a = await r5.semaphore('five', { limit: 3, permits: 2 });
    const lone = new Redlock(mixedAdapters(five.urls.slice(0, 1)), { closeAdapters: true, retryCount: 0, ttl: 5_000 });
    const b = await lone.semaphore('five', { limit: 3 });
    const status = await r5.semaphoreStatus('five', { limit: 3 });
    expect(status.quorum).toBe(4);
    expect(status.instances.map((x) => x.ok)).toEqual([true, true, true, true, false]);
    expect(status.holders).toEqual([
      expect.objectContaining({ id: a.token, permits: 2, on: [0, 1, 2, 3], valid: true }),
      expect.objectContaining({ id: b.token, permits: 1, on: [0], valid: false }),
    ]);
    // Instances 1–3 have one permit free, 0 none, 4 is down: only 3 < 4 instances could grant.
    expect(status.available).toBe(0);
    await expect(r5.withPermits('five', () => 1, { limit: 3 })).rejects.toBeInstanceOf(LockBusyError);
    await b.release();
    await lone.close();
    expect((await r5.semaphoreStatus('five', { limit: 3 })).available).toBe(1);
    expect(await r5.withPermits('five', async (_signal, lease) => (await r5.semaphoreStatus('five', { limit: 3 })).holders.find((h) => h.id === lease.token)?.on, { limit: 3 })).toEqual([0, 1, 2, 3]);
    await a.release();
    expect(await r5.semaphoreStatus('five', { limit: 3 })).toMatchObject({ holders: [], used: 0, available: 3 });
    expect(await leftoverKeys(five.servers)).toEqual([]);
  });
});
