import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import { redlockChaos, redlockFaults, startQuorum, type Quorum, type RedlockReport } from '../src/index.js';
import { FULL } from './env.js';

// Five independent instances, each behind its own TCP proxy, plus one server for the guarded counter.
let quorum: Quorum;
let resource: RedisServer;
beforeAll(async () => {
  [quorum, resource] = await Promise.all([startQuorum(5), startRedis()]);
});
afterAll(async () => {
  await quorum?.stop();
  await resource?.stop();
});

function expectClean(r: RedlockReport): void {
  console.log(
    `FAULTS ${JSON.stringify({ scenario: r.scenario, kind: r.kind, acquisitions: r.check.acquisitions, indeterminate: r.check.indeterminate, calls: r.check.calls, violations: r.check.violations.length, failures: r.failures.length, keysLeft: r.keysLeft, ...r.notes })}`,
  );
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.keysLeft).toBe(0);
}

const faults = ['kill', 'stop', 'blackhole'] as const;

describe.each(['mutex', 'hilok'] as const)('Redlock (%s) on 5 proxied instances', (kind) => {
  it.each(faults)('(R1) a minority (2/5) %s → still acquires, each attempt bounded; recovers', { timeout: 300_000 }, async (fault) => {
    const r = await redlockFaults({ quorum, resource, kind, fault, down: 2, iterations: FULL ? 50 : 6 });
    expectClean(r);
    expect(r.check.acquisitions).toBeGreaterThanOrEqual(3 * (FULL ? 50 : 6));
  });
  it.each(faults)('(R2) a majority (3/5) %s → QuorumError within maxAcquireTime(), nothing left on the live ones; recovers', { timeout: 120_000 }, async (fault) => {
    expectClean(await redlockFaults({ quorum, resource, kind, fault, down: 3, iterations: FULL ? 20 : 2 }));
  });
  it('(R3) rotating minority faults, clients in 3 processes → no overlap, no lost update, fences increase', { timeout: 600_000 }, async () => {
    const r = await redlockChaos({ quorum, resource, kind, perClient: FULL ? 300 : 25 });
    expectClean(r);
    expect(r.check.acquisitions).toBeGreaterThanOrEqual(4 * (FULL ? 300 : 25));
    expect(r.notes.counter).toBe(r.notes.increments);
  });
});
