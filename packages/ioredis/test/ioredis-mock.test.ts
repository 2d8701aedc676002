import { describe, expect, it } from 'vitest';
import RedisMock from 'ioredis-mock';
import { FairLock, HiLok, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, RedisUnavailableError, SpinLock } from '@hilok/ioredis';
import { checkMutualExclusion } from '@hilok/contract-tests';

/**
 * Unit tests without a Redis (docs/testing.md): @hilok/ioredis on ioredis-mock, which runs the
 * Lua scripts in a JS Lua VM (fengari) over an in-memory keyspace. What it runs is checked here;
 * what it cannot run (HiLok, ReadWriteLock: no `struct` library in its VM; re-entering a
 * ReentrantMutex) is checked to fail loudly, so this test tells when the mock catches up and the docs must change.
 */
describe('ioredis-mock (testing without a Redis)', () => {
  // Every `new RedisMock()` in a process shares one keyspace (like clients of one server): a
  // fresh prefix per test keeps tests apart.
  let n = 0;
  const prefix = () => `mock${++n}:`;

  it('Mutex: exclusion between tasks, hand-off, extend, a fence (not ordered on the mock), busy', async () => {
    const redis = new RedisMock();
    const mutex = new Mutex(redis as never, { prefix: prefix() });
    const result = await checkMutualExclusion({ tasks: 4, rounds: 3, acquire: () => mutex.acquire('counter', { ttl: 5_000, timeout: 10_000 }) });
    expect(result).toEqual({ maxConcurrent: 1, counter: 12 });

    const first = await mutex.acquire('job', { ttl: 10_000 });
    await expect(mutex.acquire('job', { block: false })).rejects.toBeInstanceOf(LockBusyError);
    const waiting = mutex.acquire('job', { timeout: 5_000 });
    await first.extend();
    setTimeout(() => void first.release(), 50);
    const second = await waiting;
    // A fence is issued, but on the mock it is not increasing: its TIME pairs Date seconds
    // (rounded) with the nanosecond part of process.hrtime (a different clock) — docs/testing.md.
    expect(second.fence).toBeGreaterThan(0);
    expect(second.fence).not.toBe(first.fence);
    expect(await second.release()).toBe(true);

    await redis.quit();
  });

  it('SpinLock and FairLock run on it', async () => {
    const redis = new RedisMock();
    const p = prefix();
    const spin = await new SpinLock(redis as never, { prefix: p }).acquire('s', { ttl: 5_000 });
    expect(await spin.release()).toBe(true);
    const fair = new FairLock(redis as never, { prefix: p });
    const held = await fair.acquire('f', { ttl: 5_000 });
    const next = fair.acquire('f', { timeout: 5_000 });
    setTimeout(() => void held.release(), 50);
    expect(await (await next).release()).toBe(true);
    await redis.quit();
  });

  it('HiLok and ReadWriteLock do not run on it (its Lua VM has no struct library), nor does re-entering a ReentrantMutex', async () => {
    const redis = new RedisMock();
    const p = prefix();
    const reentrant = new ReentrantMutex(redis as never, { prefix: p });
    const outer = await reentrant.acquire('r', { owner: 'owner-1' });
    // The second entry resolves, but the mock's Lua stores a malformed hold count: the next call
    // on that name finds no hilok mutex there.
    await reentrant.acquire('r', { owner: 'owner-1' });
    await expect(reentrant.acquire('r', { owner: 'owner-2', block: false })).rejects.toThrow(/not a hilok mutex/);
    await outer.release().catch(() => undefined);
    await expect(new HiLok(redis as never, { prefix: p }).write('a/b')).rejects.toThrow(RedisUnavailableError);
    await expect(new ReadWriteLock(redis as never, { prefix: p }).read('x')).rejects.toThrow(/global 'struct'/);
    await redis.quit();
  });
});
