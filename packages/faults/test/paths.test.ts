import { describe, expect, it } from 'vitest';
import { clientPause, clientPauseGhost, connectionReset, holderCrash, latencyContention, pubsubKill, redisRestart, type RunOptions, type ScenarioReport, type Volume } from '../src/index.js';
import { FULL, MAX_MS, print, scale, useLoadPool, useServer, VOLUME } from './env.js';

// HiLok multi-path holds (`hilok.acquire([...])`) under the faults the other kinds face: the
// scenarios' own pair (targetsFor('paths'): two holds over two trees, conflicting in both) and a
// background load of multi-path requests mixing reads and writes over overlapping paths of two
// trees (pathsGroupTargets), every hold checked as the set of its parts. In a file of its own,
// not in the describe.each of scenarios.test.ts / restart.test.ts: those files are the short
// run's longest (≈ 90 s each), and a fifth kind there would lengthen the run by ≈ 20 s; as a file
// of its own it runs on the worker that has the short files (≈ 25 s more there).
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
