import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import {
  clientPause,
  clientPauseGhost,
  connectionReset,
  holderCrash,
  latencyContention,
  pubsubKill,
  redisRestart,
  redlockChaos,
  redlockFaults,
  startQuorum,
  type Quorum,
  type RedlockReport,
  type RedlockVolume,
  type RunOptions,
  type ScenarioReport,
  type Volume,
} from '../src/index.js';
import { FULL, MAX_MS, print, scale, useLoadPool, useServer, VOLUME } from './env.js';

// HiLok multi-path holds (`hilok.acquire([...])`) under the faults the other kinds face: the
// scenarios' own pair (targetsFor('paths'): two holds over two trees, conflicting in both) and a
// background load of multi-path requests mixing reads and writes over overlapping paths of two
// trees (pathsGroupTargets), every hold checked as the set of its parts; on a Redlock quorum the
// same with `redlock.lockPaths([...])` (two trees: taken tree by tree, each on its own quorum).
// In a file of its own,
// not in the describe.each of scenarios.test.ts / restart.test.ts: those files are the short
// run's longest (≈ 90 s each), and a fifth kind there would lengthen the run by ≈ 20 s; as a file
// of its own it runs on the worker that has the short files (≈ 36 s more there; the short run
// took 85 s with it, 93 s before, on the same shared machine).
const ctx = useServer();
// The load's shared counters live on a server no fault touches; the restart scenario has its own.
const res = useServer();
const restartServer = useServer();
const load = useLoadPool();
const kind = 'paths' as const;

function volume(more: Partial<Volume> = {}): Volume {
  return { resource: res.server, pool: load.pool, inProcess: scale(4), clients: scale(4), groups: 4, acquisitions: VOLUME, maxMs: MAX_MS, ...more };
}

async function run(f: (o: RunOptions) => Promise<ScenarioReport>, o: Omit<RunOptions, 'server' | 'volume' | 'kind'>, more?: Partial<Volume>, server = ctx.server): Promise<ScenarioReport> {
  const t = performance.now();
  const r = await f({ server, kind, volume: volume(more), ...o });
  print(r, t);
  return r;
}

function expectClean(r: ScenarioReport): void {
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.keysLeft).toBe(0);
  expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
}

describe('paths (HiLok multi-path holds) under faults (single instance) with a checked background load', () => {
  it('(1) holder process SIGKILLed → freed at its ttl', { timeout: MAX_MS + 120_000 }, async () => {
    expectClean(await run(holderCrash, { iterations: FULL ? 20 : 2 }));
  });
  it('(2) Redis restarts without persistence while a watched lease is held → the signal aborts, larger fence next', { timeout: MAX_MS + 120_000 }, async () => {
    const r = await run(redisRestart, { iterations: FULL ? 10 : 1 }, {}, restartServer.server);
    expect(r.failures).toEqual([]);
    expect(r.keysLeft).toBe(0);
    expect(r.check.violations).toEqual([]);
    expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
  });
  it('(3) CLIENT KILL TYPE pubsub while waiting → waiters acquire within the fallback bound', { timeout: MAX_MS + 120_000 }, async () => {
    expectClean(await run(pubsubKill, { iterations: FULL ? 20 : 2 }));
  });
  it('(4) connection reset mid-hold → no second holder, released or expired', { timeout: MAX_MS + 120_000 }, async () => {
    expectClean(await run(connectionReset, { iterations: FULL ? 10 : 1 }));
  });
  it('(5) CLIENT PAUSE ALL > ttl with an acquire in flight → ghost hold never a second holder, no key left', { timeout: MAX_MS + 120_000 }, async () => {
    const r = await run(clientPauseGhost, { iterations: FULL ? 10 : 1 });
    expectClean(r);
    expect(r.check.indeterminate).toBeGreaterThan(0);
  });
  it('(6) client process SIGSTOPped past its ttl → signal aborts, larger fence next, stale write rejected', { timeout: MAX_MS + 120_000 }, async () => {
    const r = await run(clientPause, { iterations: FULL ? 10 : 1 });
    expectClean(r);
    expect(r.notes.staleWritesRejected).toBe(r.iterations);
  });
  it('(7) proxy latency 20–50 ms under contention → no overlap, no lost update', { timeout: MAX_MS + 300_000 }, async () => {
    const r = await run(latencyContention, { iterations: FULL ? 100 : 8 }, { inProcess: scale(12), clients: scale(12), groups: 18 });
    expectClean(r);
    expect(r.notes.counter).toBe(r.notes.scenarioWrites);
  });
});

// Redlock: `redlock.lockPaths` over two trees on 5 proxied instances (R4, the partition
// scenario, takes a single name, as for the other multi kinds). The short run takes one fault
// each of R1 and R2, and R3; the full run every fault.
describe('paths: Redlock lockPaths on 5 proxied instances, with a checked background load', () => {
  let quorum: Quorum;
  let resource: RedisServer;
  beforeAll(async () => {
    [quorum, resource] = await Promise.all([startQuorum(5), startRedis()]);
  });
  afterAll(async () => {
    await quorum?.stop();
    await resource?.stop();
  });
  const rlVolume = (minIterations: number): RedlockVolume => ({ pool: load.pool, inProcess: 0, clients: scale(12), groups: 16, acquisitions: VOLUME, minIterations, maxMs: MAX_MS });
  const expectCleanRedlock = (r: RedlockReport, t: number) => {
    print(r, t);
    expect(r.failures).toEqual([]);
    expect(r.check.violations).toEqual([]);
    expect(r.keysLeft).toBe(0);
    expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
  };
  it.each(FULL ? (['kill', 'stop', 'blackhole'] as const) : (['kill'] as const))('(R1) a minority (2/5) %s → still acquires, each attempt bounded; recovers', { timeout: MAX_MS + 120_000 }, async (fault) => {
    const t = performance.now();
    expectCleanRedlock(await redlockFaults({ quorum, resource, kind, fault, down: 2, iterations: FULL ? 2 : 3, volume: rlVolume(FULL ? 10 : 1) }), t);
  });
  it.each(FULL ? (['kill', 'stop', 'blackhole'] as const) : (['stop'] as const))('(R2) a majority (3/5) %s → QuorumError within maxAcquireTime(), nothing left on the live ones; recovers', { timeout: MAX_MS + 120_000 }, async (fault) => {
    const t = performance.now();
    expectCleanRedlock(await redlockFaults({ quorum, resource, kind, fault, down: 3, iterations: 2, healedMs: FULL ? 3_000 : 500, volume: rlVolume(FULL ? 10 : 1) }), t);
  });
  it('(R3) rotating minority faults, clients in 3 processes → no overlap, no lost update, fences increase', { timeout: MAX_MS + 120_000 }, async () => {
    const t = performance.now();
    expectCleanRedlock(await redlockChaos({ quorum, resource, kind, volume: rlVolume(FULL ? 50 : 5) }), t);
  });
});
