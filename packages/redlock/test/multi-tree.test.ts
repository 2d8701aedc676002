import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createIoredisAdapter } from '@hilok/ioredis';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { LockBusyError, LockLostError, Redlock } from '@hilok/redlock';
import { leftoverKeys, mixedAdapters } from './helpers.js';

// redlock.lockPaths(parts) with parts in several trees: the trees taken one after the other in
// the order of their keys, each on its own quorum; rolled back on failure; one lease.

let five: RedisInstances;
let three: RedisInstances;
const opened: Redlock[] = [];

beforeAll(async () => {
  [five, three] = await Promise.all([startRedisInstances(5), startRedisInstances(3)]);
});
afterAll(async () => {
  await Promise.allSettled(opened.map((r) => r.close()));
  await Promise.allSettled([five?.stopAll(), three?.stopAll()]);
});

function redlockOn(set: RedisInstances, options = {}): Redlock {
  // Mixed drivers (ioredis, node-redis alternating), as every Redlock test.
  const r = new Redlock(mixedAdapters(set.urls), { closeAdapters: true, retryCount: 0, instanceTimeout: 300, ...options });
  opened.push(r);
  return r;
}

const w = (path: string) => ({ path, mode: 'write' as const });
const r = (path: string) => ({ path, mode: 'read' as const });

describe('several trees as one hold over 5 instances', () => {
  it('every part of every tree held; reads shared; one extend and one release over every tree', async () => {
    const redlock = redlockOn(five);
    const other = redlockOn(five);
    const lease = await redlock.lockPaths([w('tb/x'), r('ta/y'), w('ta/z'), r('tc')], { ttl: 10_000 });
    expect(lease.resource).toBe('ta/y,ta/z,tb/x,tc');
    // Each part excludes what it should, in its own tree; reads coexist.
    await expect(other.write('tb')).rejects.toBeInstanceOf(LockBusyError);
    await expect(other.write('ta/y/k')).rejects.toBeInstanceOf(LockBusyError);
    await expect(other.read('ta/z')).rejects.toBeInstanceOf(LockBusyError);
    await expect(other.write('tc/q')).rejects.toBeInstanceOf(LockBusyError);
    await (await other.read('ta/y')).release();
    await (await other.read('tc/q')).release();
    await (await other.write('tb/w')).release(); // a sibling is free
    // The keys of every tree are on every instance.
    for (const s of five.servers) for (const t of ['ta', 'tb', 'tc']) expect((await s.keys(`*{${t}}*`)).length).toBeGreaterThan(0);
    const before = lease.validUntil;
    await lease.extend(20_000);
    expect(lease.validUntil).toBeGreaterThan(before + 5_000);
    expect(lease.valid).toBe(true);
    expect(await lease.release()).toBe(true);
    expect(await leftoverKeys(five.servers)).toEqual([]);
    // usingPaths over several trees.
    expect(await redlock.usingPaths([w('tb/x'), w('ta')], async (_signal, l) => l.valid)).toBe(true);
    expect(await leftoverKeys(five.servers)).toEqual([]);
  });

  it('all or none: a later tree busy → LockBusyError, the trees taken before it given back on every instance', async () => {
    const redlock = redlockOn(five);
    const other = redlockOn(five);
    // Trees are taken in key order: ta first, then tb (busy).
    const blocker = await other.read('tb/x', { ttl: 10_000 });
    await expect(redlock.lockPaths([w('tb/x'), w('ta/y')])).rejects.toBeInstanceOf(LockBusyError);
    // ta/y is free everywhere at once (not left to its ttl).
    await (await other.write('ta')).release();
    await blocker.release();
    expect(await leftoverKeys(five.servers)).toEqual([]);
    // With retries, the same call is granted once the blocker goes, within the bound of its attempts.
    const held = await other.write('tb', { ttl: 10_000 });
    setTimeout(() => void held.release(), 300);
    const lease = await redlock.lockPaths([w('tb/x'), w('ta/y')], { retryCount: 40, retryDelayMin: 20, retryDelayMax: 50 });
    expect(lease.valid).toBe(true);
    expect(await lease.release()).toBe(true);
    expect(await leftoverKeys(five.servers)).toEqual([]);
  });

  it('the trees taken first are kept alive while a later one is being taken (past their ttl), and renewed with it', async () => {
    const redlock = redlockOn(five);
    const other = redlockOn(five);
    const held = await other.write('kb', { ttl: 10_000 });
    const taking = redlock.lockPaths([w('ka/x'), w('kb/y')], { ttl: 1_000, retryCount: 100, retryDelayMin: 20, retryDelayMax: 40 });
    // 1.5 ttl later, ka/x (taken first) is still held: extended while kb is being waited for.
    await new Promise((res) => setTimeout(res, 1_500));
    await expect(other.write('ka')).rejects.toBeInstanceOf(LockBusyError);
    await held.release();
    const lease = await taking;
    // Every tree's validity restarted with the last one's: close to a full ttl left.
    expect(lease.remaining).toBeGreaterThan(500);
    await expect(other.write('ka')).rejects.toBeInstanceOf(LockBusyError);
    expect(await lease.release()).toBe(true);
    expect(await leftoverKeys(five.servers)).toEqual([]);
  });

  it('a failing call with n trees ends within n × maxAcquireTime() + the give-back', async () => {
    const redlock = redlockOn(five);
    const other = redlockOn(five);
    const blocker = await other.write('tz', { ttl: 10_000 });
    const retry = { retryCount: 3, retryDelayMin: 50, retryDelayMax: 100 };
    const t = performance.now();
    await expect(redlock.lockPaths([w('ta/a'), w('tb/b'), w('tz/c')], retry)).rejects.toBeInstanceOf(LockBusyError);
    // A bound that catches a hang, not a speed assertion.
    expect(performance.now() - t).toBeLessThan(3 * redlock.maxAcquireTime(retry) + redlock.options.instanceTimeout + 1_000);
    await blocker.release();
    expect(await leftoverKeys(five.servers)).toEqual([]);
  });

  it('a tree lost → extend throws LockLostError, the signal aborts, and the other trees are released at once', async () => {
    const redlock = redlockOn(five);
    const lease = await redlock.lockPaths([w('la/x'), w('lb/y')], { ttl: 10_000 });
    const signal = lease.signal;
    // Tree la's holds vanish on every instance (as after an expiry someone else may take them).
    await Promise.all(
      five.servers.map(async (s) => {
        const c = new Redis(s.url);
        const keys = await c.keys('*{la}*');
        if (keys.length > 0) await c.del(...keys);
        c.disconnect();
      }),
    );
    await expect(lease.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(signal.aborted).toBe(true);
    expect(lease.valid).toBe(false);
    expect(await leftoverKeys(five.servers)).toEqual([]);
    expect(await lease.release()).toBe(false);
  });

  it('two callers asking for overlapping trees in opposite orders: both always get through (no deadlock), never together', async () => {
    const a = redlockOn(five);
    const b = redlockOn(five);
    const retry = { ttl: 5_000, retryCount: 200, retryDelayMin: 5, retryDelayMax: 30 };
    let inside = 0;
    let overlaps = 0;
    const rounds = 15;
    const caller = async (redlock: Redlock, parts: { path: string; mode: 'read' | 'write' }[]) => {
      for (let i = 0; i < rounds; i++) {
        await redlock.usingPaths(parts, async () => {
          if (++inside > 1) overlaps++;
          await new Promise((res) => setTimeout(res, 2 + Math.random() * 5));
          inside--;
        }, retry);
      }
    };
    const t = performance.now();
    await Promise.all([caller(a, [w('ob/x'), w('oa/y')]), caller(b, [w('oa/y'), r('oc'), w('ob/x')])]);
    expect(overlaps).toBe(0);
    // A bound against a hang (30 rounds of a few ms each): not a speed assertion.
    expect(performance.now() - t).toBeLessThan(30_000);
    expect(await leftoverKeys(five.servers)).toEqual([]);
  });
});

describe('several trees as one hold over 3 instances, one of them down', () => {
  it('granted on the 2 live ones (every tree), extended and released there; a later tree busy rolls back the earlier ones', async () => {
    const redlock = redlockOn(three);
    const other = new Redlock(three.urls.map((u) => createIoredisAdapter(u)), { closeAdapters: true, retryCount: 0, instanceTimeout: 300 });
    opened.push(other);
    await three.servers[2]!.kill();
    const lease = await redlock.lockPaths([w('da/x'), r('db/y'), w('dc')], { ttl: 10_000 });
    expect(lease.valid).toBe(true);
    for (const s of three.servers.slice(0, 2)) for (const t of ['da', 'db', 'dc']) expect((await s.keys(`*{${t}}*`)).length).toBeGreaterThan(0);
    await expect(other.read('da/x/k')).rejects.toBeInstanceOf(LockBusyError);
    await lease.extend(15_000);
    expect(await lease.release()).toBe(true);
    expect(await leftoverKeys(three.servers)).toEqual([]);
    // Rollback with one instance down: the last tree is busy, the first two are given back.
    const blocker = await other.write('dc/q', { ttl: 10_000 });
    await expect(redlock.lockPaths([w('da/x'), w('db/y'), w('dc')])).rejects.toBeInstanceOf(LockBusyError);
    await blocker.release();
    expect(await leftoverKeys(three.servers)).toEqual([]);
  });
});
