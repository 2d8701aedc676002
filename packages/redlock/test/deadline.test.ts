/**
 * Busy vs broken on a quorum, and the caller's deadline: "busy" only when a majority answered;
 * "held" from a minority while the rest is frozen is a QuorumError with per-instance causes; the
 * caller's signal ends lock() without waiting for frozen instances.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { ReplyTimeoutError } from '@hilok/core';
import { LockBusyError, QuorumError, Redlock } from '@hilok/redlock';
import { leftoverKeys, mixedAdapters } from './helpers.js';

let instances: RedisInstances;
let redlock: Redlock;

beforeAll(async () => {
  instances = await startRedisInstances(5);
  redlock = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, ttl: 5_000, instanceTimeout: 300, retryCount: 1, retryDelayMin: 20, retryDelayMax: 50 });
});
afterAll(async () => {
  await Promise.allSettled(instances.servers.map((s) => s.resume()));
  await redlock?.close();
  await instances?.stopAll();
});
beforeEach(async () => {
  await Promise.allSettled(instances.servers.map((s) => s.resume()));
  await Promise.all(instances.servers.map((s) => s.flushall()));
});

/** Another owner's hold of the mutex `name` on the servers `at` (core's `fence:count:waited:owner` value). */
async function heldBySomeone(name: string, at: number[]): Promise<void> {
  await Promise.all(at.map((i) => instances.servers[i]!.command('SET', `hilok:redlock:mutex:{${name}}`, '1:1:0:someone', 'PX', '30000')));
}

/** Run `fn` with the servers `at` frozen (SIGSTOP), resuming them afterwards. */
async function frozen<T>(at: number[], fn: () => Promise<T>): Promise<T> {
  await Promise.all(at.map((i) => instances.servers[i]!.pause()));
  try {
    return await fn();
  } finally {
    await Promise.all(at.map((i) => instances.servers[i]!.resume()));
  }
}

describe('busy only when a majority answered', () => {
  it('3 of 5 frozen, held on the 2 that answer: QuorumError with each frozen instance as a cause, not busy', async () => {
    await heldBySomeone('minority-held', [0, 1]);
    const t = performance.now();
    const err = await frozen([2, 3, 4], () => redlock.lock('minority-held').catch((e: unknown) => e));
    expect(performance.now() - t).toBeLessThan(redlock.maxAcquireTime() + 1_000);
    expect(err).toBeInstanceOf(QuorumError);
    expect(err).not.toBeInstanceOf(LockBusyError);
    const failures = (err as QuorumError).failures;
    expect(failures.map((f) => f.index).sort()).toEqual([2, 3, 4]);
    for (const f of failures) expect(f.error).toBeInstanceOf(ReplyTimeoutError);
  });

  it('2 of 5 frozen, held on 2 of the 3 that answer: a majority answered "held" or granted, so busy', async () => {
    await heldBySomeone('majority-answered', [0, 1]);
    const err = await frozen([3, 4], () => redlock.lock('majority-answered', { retryCount: 0 }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(LockBusyError);
    expect(err).toMatchObject({ reason: 'held' });
    // Our grant on instance 2 was undone; the other owner's holds are untouched.
    expect(await instances.servers[2]!.keys('hilok:redlock:*')).toEqual([]);
  });

  it('held on a majority, the rest frozen: busy at once, without waiting for the frozen ones', async () => {
    await heldBySomeone('majority-held', [0, 1, 2]);
    const t = performance.now();
    const err = await frozen([3, 4], () => redlock.lock('majority-held', { retryCount: 0 }).catch((e: unknown) => e));
    expect(err).toBeInstanceOf(LockBusyError);
    expect(performance.now() - t).toBeLessThan(250); // the instance timeout is 300 ms
  });
});

describe("the caller's signal is a deadline", () => {
  it('lock() with 3 of 5 frozen ends when the signal aborts, not after the instance timeout; no key is left', async () => {
    const slow = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, ttl: 10_000, instanceTimeout: 3_000, retryCount: 0 });
    await slow.lock('warm').then((l) => l.release());
    const t = performance.now();
    const err = await frozen([2, 3, 4], async () => {
      const result = await slow.lock('signal-deadline', { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
      expect(performance.now() - t).toBeLessThan(700);
      return result;
    });
    expect(err).toMatchObject({ name: 'TimeoutError' });
    await new Promise((r) => setTimeout(r, 300));
    expect(await leftoverKeys(instances.servers)).toEqual([]);
    await slow.close();
  });
});
