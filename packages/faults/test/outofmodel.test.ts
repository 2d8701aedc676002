import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redlockRestartDemo, sentinelFailoverDemo, startQuorum, type DemoReport, type Quorum } from '../src/index.js';

/**
 * Out-of-model demonstrations: each asserts that the DEMONSTRATED failure happens (two holders,
 * reported by the checker as an overlap) and that fencing tokens let a resource reject the
 * stale holder. See docs/reliability.md, "Out of the model".
 */
function show(name: string, r: DemoReport): void {
  console.log(`FAULTS ${JSON.stringify({ scenario: name, twoHolders: r.twoHolders, overlapsReported: r.check.violations.filter((v) => v.rule === 'overlap').length, staleWriteRejected: r.staleWriteRejected, ...r.fences, ...r.notes })}`);
}

describe('out of the model (demonstrated, not hidden)', () => {
  let quorum: Quorum;
  beforeAll(async () => {
    quorum = await startQuorum(5);
  });
  afterAll(async () => {
    await quorum?.stop();
  });

  it('(X1) a Redlock instance restarted at once without persistence → two clients hold the lock', { timeout: 60_000 }, async () => {
    const r = await redlockRestartDemo(quorum);
    show('redlock instance restarted without persistence', r);
    expect(r.notes.keysPerInstanceAfterA).toBe('1,1,1,0,0');
    expect(r.twoHolders).toBe(true);
    expect(r.check.violations.map((v) => v.rule)).toContain('overlap');
    expect(r.fences.b).toBeGreaterThan(r.fences.a);
    expect(r.staleWriteRejected).toBe(true);
  });

  it('(X2) a Sentinel failover before replication → the lock is lost on the new master, two holders', { timeout: 180_000 }, async () => {
    // The failover itself is set-up, not the demonstration: on a loaded machine (the whole test
    // suite in parallel) Sentinel occasionally does not complete it within 30 s; then the demo
    // runs once more on a fresh group. Everything asserted below is asserted on that run.
    const r = await sentinelFailoverDemo().catch((err: unknown) => {
      if (!/to become master/.test(String(err))) throw err;
      console.log(`FAULTS-NOTE X2: failover not completed (${String(err)}); running the demonstration again`);
      return sentinelFailoverDemo();
    });
    show('sentinel failover before replication', r);
    expect(r.notes.replicaHadKey).toBe(false);
    expect(r.notes.newMasterHasKey).toBe(false);
    expect(r.twoHolders).toBe(true);
    expect(r.check.violations.map((v) => v.rule)).toContain('overlap');
    expect(r.fences.b).toBeGreaterThan(r.fences.a);
    expect(r.staleWriteRejected).toBe(true);
  });
});
