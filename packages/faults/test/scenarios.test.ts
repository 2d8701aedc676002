import { describe, expect, it } from 'vitest';
import { clientPause, clientPauseGhost, connectionReset, holderCrash, latencyContention, pubsubKill, type RunOptions, type ScenarioReport, type Volume } from '../src/index.js';
import { FULL, MAX_MS, print, scale, useLoadPool, useServer, VOLUME } from './env.js';

const ctx = useServer();
// The load's shared counters live on a server no fault touches.
const res = useServer();
const load = useLoadPool();
// `multi`: two names as one Mutex hold (`mutex.acquire([a, b])`); `semaphore`: limit 3, holds of 1 to 3 permits.
const kinds = ['mutex', 'hilok', 'semaphore', 'multi'] as const;

/** The background load: (full run) 4 clients here and 4 in each of 2 worker processes on 4 names (trees). */
function volume(more: Partial<Volume> = {}): Volume {
  return { resource: res.server, pool: load.pool, inProcess: scale(4), clients: scale(4), groups: 4, acquisitions: VOLUME, maxMs: MAX_MS, ...more };
}

async function run(f: (o: RunOptions) => Promise<ScenarioReport>, o: Omit<RunOptions, 'server' | 'volume'>, more?: Partial<Volume>): Promise<ScenarioReport> {
  const t = performance.now();
  const r = await f({ server: ctx.server, volume: volume(more), ...o });
  print(r, t);
  return r;
}

function expectClean(r: ScenarioReport): void {
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.keysLeft).toBe(0);
  expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
}

describe.each(kinds)('%s under faults (single instance) with a checked background load', (kind) => {
  it('(1) holder process SIGKILLed → freed at its ttl', { timeout: MAX_MS + 120_000 }, async () => {
    expectClean(await run(holderCrash, { kind, iterations: FULL ? 20 : 2 }));
  });
  it('(3) CLIENT KILL TYPE pubsub while waiting → waiters acquire within the fallback bound', { timeout: MAX_MS + 120_000 }, async () => {
    expectClean(await run(pubsubKill, { kind, iterations: FULL ? 20 : 2 }));
  });
  it('(4) connection reset mid-hold → no second holder, released or expired', { timeout: MAX_MS + 120_000 }, async () => {
    expectClean(await run(connectionReset, { kind, iterations: FULL ? 10 : 1 }));
  });
  it('(5) CLIENT PAUSE ALL > ttl with an acquire in flight → ghost hold never a second holder, no key left', { timeout: MAX_MS + 120_000 }, async () => {
    const r = await run(clientPauseGhost, { kind, iterations: FULL ? 10 : 1 });
    expectClean(r);
    expect(r.check.indeterminate).toBeGreaterThan(0);
  });
  it('(6) client process SIGSTOPped past its ttl → signal aborts, larger fence next, stale write rejected', { timeout: MAX_MS + 120_000 }, async () => {
    const r = await run(clientPause, { kind, iterations: FULL ? 10 : 1 });
    expectClean(r);
    expect(r.notes.staleWritesRejected).toBe(r.iterations);
  });
  it('(7) proxy latency 20–50 ms under contention → no overlap, no lost update', { timeout: MAX_MS + 300_000 }, async () => {
    // Every acquisition costs round trips of 20–50 ms: more clients on more names for the volume.
    const r = await run(latencyContention, { kind, iterations: FULL ? 100 : 8 }, { inProcess: scale(12), clients: scale(12), groups: 18 });
    expectClean(r);
    expect(r.notes.counter).toBe(r.notes.scenarioWrites);
  });
});

describe('FairLock under faults (single instance)', () => {
  it('(7f) proxy latency 20–50 ms under contention, FairLock → no overlap, no lost update, no give-up', { timeout: MAX_MS + 300_000 }, async () => {
    const iterations = FULL ? 100 : 8;
    const r = await run((o) => latencyContention({ ...o, fair: true }), { kind: 'mutex', iterations }, { inProcess: scale(12), clients: scale(12), groups: 18 });
    expectClean(r);
    // FIFO: every waiter gets in within its 20 s timeout — the scenario's and the load's (Mutex barging can starve one; see docs).
    expect(Object.keys(r.notes).filter((k) => k.startsWith('gaveUp:'))).toEqual([]);
    expect(r.notes.loadGaveUp).toBe(0);
    expect((r.notes.scenarioAcquisitions as number) % (4 * iterations)).toBe(0);
    expect(r.notes.counter).toBe(r.notes.scenarioAcquisitions);
  });
});
