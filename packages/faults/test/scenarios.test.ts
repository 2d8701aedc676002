import { describe, expect, it } from 'vitest';
import { clientPause, clientPauseGhost, connectionReset, holderCrash, latencyContention, pubsubKill, type ScenarioReport } from '../src/index.js';
import { FULL, print, useServer } from './env.js';

const ctx = useServer();
const kinds = ['mutex', 'hilok'] as const;

function expectClean(r: ScenarioReport): void {
  print(r);
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.keysLeft).toBe(0);
  expect(r.check.acquisitions).toBeGreaterThan(0);
}

describe.each(kinds)('%s under faults (single instance)', (kind) => {
  it('(1) holder process SIGKILLed → freed at its ttl', { timeout: 120_000 }, async () => {
    expectClean(await holderCrash({ server: ctx.server, kind, iterations: FULL ? 20 : 2 }));
  });
  it('(3) CLIENT KILL TYPE pubsub while waiting → waiters acquire within the fallback bound', { timeout: 120_000 }, async () => {
    expectClean(await pubsubKill({ server: ctx.server, kind, iterations: FULL ? 20 : 2 }));
  });
  it('(4) connection reset mid-hold → no second holder, released or expired', { timeout: 120_000 }, async () => {
    expectClean(await connectionReset({ server: ctx.server, kind, iterations: FULL ? 10 : 1 }));
  });
  it('(5) CLIENT PAUSE ALL > ttl with an acquire in flight → ghost hold never a second holder, no key left', { timeout: 120_000 }, async () => {
    const r = await clientPauseGhost({ server: ctx.server, kind, iterations: FULL ? 10 : 1 });
    expectClean(r);
    expect(r.check.indeterminate).toBeGreaterThan(0);
  });
  it('(6) client process SIGSTOPped past its ttl → signal aborts, larger fence next, stale write rejected', { timeout: 120_000 }, async () => {
    expectClean(await clientPause({ server: ctx.server, kind, iterations: FULL ? 10 : 1 }));
  });
  it('(7) proxy latency 20–50 ms under contention → no overlap, no lost update', { timeout: 300_000 }, async () => {
    const r = await latencyContention({ server: ctx.server, kind, iterations: FULL ? 300 : 8 });
    expectClean(r);
    expect(r.notes.counter).toBe(r.check.acquisitions);
  });
});

describe('FairLock under faults (single instance)', () => {
  it('(7f) proxy latency 20–50 ms under contention, FairLock → no overlap, no lost update, no give-up', { timeout: 600_000 }, async () => {
    const r = await latencyContention({ server: ctx.server, kind: 'mutex', fair: true, iterations: FULL ? 300 : 8 });
    expectClean(r);
    // FIFO: every waiter gets in within its 20 s timeout (Mutex barging can starve one; see docs).
    expect(Object.keys(r.notes).filter((k) => k.startsWith('gaveUp:'))).toEqual([]);
    expect(r.check.acquisitions).toBe(4 * (FULL ? 300 : 8));
    expect(r.notes.counter).toBe(r.check.acquisitions);
  });
});
