import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisInstances, waitFor, type RedisInstances } from '@hilok/testing';
import type { RedisAdapter } from '@hilok/core';
import { LockBusyError, QuorumError, Redlock, RedisUnavailableError } from '@hilok/redlock';
import { leftoverKeys, mixedAdapters } from './helpers.js';

const INSTANCE_TIMEOUT = 300;
let instances: RedisInstances;
let redlock: Redlock;
let adapters: RedisAdapter[];

beforeAll(async () => {
  instances = await startRedisInstances(5);
  adapters = mixedAdapters(instances.urls);
  redlock = new Redlock(adapters, {
    closeAdapters: true,
    ttl: 3_000,
    instanceTimeout: INSTANCE_TIMEOUT,
    retryCount: 1,
    retryDelayMin: 20,
    retryDelayMax: 50,
  });
});
afterAll(async () => {
  await Promise.allSettled(instances.servers.map((s) => s.resume()));
  await redlock?.close();
  await instances?.stopAll();
});
// Every test starts with all five up and empty.
beforeEach(async () => {
  for (const s of instances.servers) {
    if (!s.running) await s.restart();
  }
  await Promise.allSettled(instances.servers.map((s) => s.resume()));
  await Promise.all(instances.servers.map((s) => s.flushall()));
  // A restarted instance's client reconnects on its own schedule (up to ~2 s), and while it is
  // down its calls fail fast: wait until every instance answers, so a test starts with all five.
  await waitFor(async () => (await Promise.all(adapters.map((a) => a.eval('return 1', [], []).then(() => true, () => false)))).every(Boolean), { timeout: 10_000, message: 'every instance answering' });
});

async function fullCycle(name: string): Promise<void> {
  const lease = await redlock.lock(name);
  expect(lease.valid).toBe(true);
  await lease.extend();
  expect(lease.valid).toBe(true);
  expect(await redlock.isLocked(name)).toBe(true);
  expect(await lease.release()).toBe(true);
}

describe('a minority down', () => {
  it('2 of 5 killed: acquire, extend, release still work', async () => {
    await Promise.all(instances.servers.slice(3).map((s) => s.kill()));
    await fullCycle('minority-killed');
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('2 of 5 frozen (SIGSTOP): every call is bounded by the per-instance timeout', async () => {
    await Promise.all(instances.servers.slice(0, 2).map((s) => s.pause()));
    let t = performance.now();
    const lease = await redlock.lock('minority-frozen');
    // The attempt waits for the frozen ones only up to the per-instance timeout.
    expect(performance.now() - t).toBeLessThan(INSTANCE_TIMEOUT + 1_500);
    t = performance.now();
    await lease.extend();
    expect(performance.now() - t).toBeLessThan(INSTANCE_TIMEOUT + 1_500);
    t = performance.now();
    expect(await lease.release()).toBe(true);
    expect(performance.now() - t).toBeLessThan(INSTANCE_TIMEOUT + 1_500);
    // The frozen ones run the queued commands once resumed; nothing of ours may remain.
    await Promise.all(instances.servers.slice(0, 2).map((s) => s.resume()));
    await new Promise((r) => setTimeout(r, 200));
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('2 of 5 frozen: acquire and release return once 3 answered, without waiting for the frozen ones', async () => {
    // A long per-instance timeout: an acquire that waited for the frozen two would take 20 s.
    const patient = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, ttl: 30_000, instanceTimeout: 20_000, retryCount: 0 });
    await Promise.all(instances.servers.slice(0, 2).map((s) => s.pause()));
    const t = performance.now();
    const lease = await patient.lock('early-quorum');
    expect(performance.now() - t).toBeLessThan(10_000);
    expect(lease.valid).toBe(true);
    // Busy is decided early too: 3 live instances say "held", so a majority is out of reach.
    const busyAt = performance.now();
    await expect(patient.lock('early-quorum')).rejects.toBeInstanceOf(LockBusyError);
    expect(performance.now() - busyAt).toBeLessThan(10_000);
    // Release is decided early too: the 3 live instances removed the hold.
    const releaseAt = performance.now();
    expect(await lease.release()).toBe(true);
    expect(performance.now() - releaseAt).toBeLessThan(10_000);
    await Promise.all(instances.servers.slice(0, 2).map((s) => s.resume()));
    // Resumed, the frozen two run the queued grant (ours), refusal and releases; close() waits
    // for those calls still in flight, so nothing is left once it resolves.
    await patient.close();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });
});

describe('a majority down', () => {
  it('3 of 5 killed: acquire fails within its bound with a QuorumError and leaves no key', async () => {
    await Promise.all(instances.servers.slice(0, 3).map((s) => s.kill()));
    const t = performance.now();
    const err = await redlock.lock('majority-down').catch((e: unknown) => e);
    const took = performance.now() - t;
    expect(err).toBeInstanceOf(QuorumError);
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect((err as QuorumError).failures).toHaveLength(3);
    expect((err as QuorumError).agreed).toBe(2);
    expect(took).toBeLessThan(redlock.maxAcquireTime() + 1_500);
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('3 of 5 frozen: same, and the late grants are undone once they resume', async () => {
    await Promise.all(instances.servers.slice(2).map((s) => s.pause()));
    const t = performance.now();
    await expect(redlock.lock('majority-frozen', { retryCount: 0 })).rejects.toBeInstanceOf(QuorumError);
    expect(performance.now() - t).toBeLessThan(redlock.maxAcquireTime({ retryCount: 0 }) + 1_500);
    expect(await leftoverKeys(instances.servers.slice(0, 2))).toEqual([]);
    await Promise.all(instances.servers.slice(2).map((s) => s.resume()));
    await new Promise((r) => setTimeout(r, 300));
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('revived instances (restart) make it work again', async () => {
    await Promise.all(instances.servers.slice(0, 3).map((s) => s.kill()));
    await expect(redlock.lock('revive', { retryCount: 0 })).rejects.toBeInstanceOf(QuorumError);
    await Promise.all(instances.servers.slice(0, 3).map((s) => s.restart()));
    // Clients reconnect on their own; allow a few attempts for that.
    const lease = await redlock.lock('revive', { retryCount: 20, retryDelayMin: 50, retryDelayMax: 100 });
    expect(lease.valid).toBe(true);
    await lease.release();
  });

  it('extension and release without a majority say so; the lease stays valid until its validity', async () => {
    const lease = await redlock.lock('lose-majority');
    await Promise.all(instances.servers.slice(0, 3).map((s) => s.kill()));
    const err = await lease.extend().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QuorumError);
    expect(lease.valid).toBe(true);
    await expect(lease.release()).rejects.toThrow(/release/);
  });
});

describe('clean-up of a failed partial acquire', () => {
  it('keys granted on a minority are removed, and busy beats quorum', async () => {
    // Another owner holds the lock on 3 instances: we can only get 2, so we must undo them.
    // A mutex value is "fence:count:waited:owner" (core's mutex/acquire.lua).
    await Promise.all(instances.servers.slice(0, 3).map((s) => s.command('SET', 'hilok:redlock:mutex:{partial}', '1:1:0:someone', 'PX', '5000')));
    const err = await redlock.lock('partial', { retryCount: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBusyError);
    for (const s of instances.servers.slice(3)) expect(await s.keys('hilok:redlock:*')).toEqual([]);
    for (const s of instances.servers.slice(0, 3)) expect(await s.command('GET', 'hilok:redlock:mutex:{partial}')).toBe('1:1:0:someone');
  });

  it('busy on some and down on others: the busy answer wins while a majority answered', async () => {
    const other = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 0, instanceTimeout: INSTANCE_TIMEOUT });
    const held = await other.lock('busy-or-down');
    await instances.servers[4]!.kill();
    await expect(redlock.lock('busy-or-down', { retryCount: 0 })).rejects.toBeInstanceOf(LockBusyError);
    await held.release();
    await other.close();
  });
});
