import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import { redlockChaos, redlockFaults, redlockPartition, startQuorum, type Quorum, type RedlockReport, type RedlockVolume } from '../src/index.js';
import { FULL, MAX_MS, print, scale, useLoadPool, VOLUME } from './env.js';

// Five independent instances, each behind its own TCP proxy, plus one server for the guarded counters.
let quorum: Quorum;
let resource: RedisServer;
beforeAll(async () => {
  [quorum, resource] = await Promise.all([startQuorum(5), startRedis()]);
});
afterAll(async () => {
  await quorum?.stop();
  await resource?.stop();
});
const load = useLoadPool();

/**
 * The background load: 12 clients in each of 2 worker processes (full run), on 16 names
 * (trees). None in this process: it runs the five proxies, whose latency must stay well under
 * the instance timeout for the scenario's own clients. (Since Redlock decides an attempt as soon
 * as a majority answered, a stalled instance no longer costs each attempt its timeout, so more
 * clients would only saturate the workers' event loops — and then their calls overrun their
 * bounds for want of CPU, not because of Redlock.)
 */
function volume(minIterations: number): RedlockVolume {
  return { pool: load.pool, inProcess: 0, clients: scale(12), groups: 16, acquisitions: VOLUME, minIterations, maxMs: MAX_MS };
}

function expectClean(r: RedlockReport, t: number): void {
  print(r, t);
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.keysLeft).toBe(0);
  expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
}

const faults = ['kill', 'stop', 'blackhole'] as const;

// `multi`: `redlock.lock([a, b])`; `semaphore`: `redlock.semaphore(name, { limit: 3 })`, whose
// quorum is 4 of 5 (semaphoreQuorumOf: a majority would let limit + 1 holds in), so the
// minority it survives is 1 instance — R1 takes 1 down for it, 2 for the others.
describe.each(['mutex', 'hilok', 'semaphore', 'multi'] as const)('Redlock (%s) on 5 proxied instances, with a checked background load', (kind) => {
  const minority = kind === 'semaphore' ? 1 : 2;
  it.each(faults)(`(R1) a minority (${minority}/5) %s → still acquires, each attempt bounded; recovers`, { timeout: MAX_MS + 120_000 }, async (fault) => {
    const t = performance.now();
    expectClean(await redlockFaults({ quorum, resource, kind, fault, down: minority, iterations: FULL ? 2 : 3, volume: volume(FULL ? 10 : 1) }), t);
  });
  it.each(faults)('(R2) a majority (3/5) %s → QuorumError within maxAcquireTime(), nothing left on the live ones; recovers', { timeout: MAX_MS + 120_000 }, async (fault) => {
    const t = performance.now();
    expectClean(await redlockFaults({ quorum, resource, kind, fault, down: 3, iterations: 2, healedMs: FULL ? 3_000 : 500, volume: volume(FULL ? 10 : 1) }), t);
  });
  it('(R3) rotating minority faults, clients in 3 processes → no overlap, no lost update, fences increase', { timeout: MAX_MS + 120_000 }, async () => {
    const t = performance.now();
    const r = await redlockChaos({ quorum, resource, kind, volume: volume(FULL ? 50 : 5) });
    expectClean(r, t);
  });
  // R4 measures the lead of the partitioned holder's signal over the next grant of *its* lock. A
  // semaphore (limit 3) may legally grant others while it holds, so "the next grant" does not mean
  // a conflict; the multi-name target's grant spans several keys, which this one-key partition
  // harness does not model. Both kinds face R1–R3 above; R4 runs for the Mutex and HiLok.
  it.skipIf(kind === 'semaphore' || kind === 'multi')('(R4) the holder partitioned from a majority, extensions on → its signal aborts before any other client is granted the lock (signal lead ≥ 0)', { timeout: MAX_MS + 120_000 }, async () => {
    const t = performance.now();
    // The partition scenario takes a single name (its signal path is the same lease for every kind).
    const r = await redlockPartition({ quorum, resource, kind: kind as 'mutex' | 'hilok', volume: volume(FULL ? 10 : 1) });
    expectClean(r, t);
    expect(r.notes.holderLeads).toBe(r.notes.faultIterations);
    expect(Math.min(...r.check.signalLeads.map((l) => l.leadMs))).toBeGreaterThanOrEqual(0);
  });
});
