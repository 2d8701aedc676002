import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '@hilok/testing';
import { clusterScenario } from '../src/index.js';
import { FULL } from './env.js';

// 3 masters, no replicas. `cluster-require-full-coverage no`: with the default (yes) the whole
// cluster answers CLUSTERDOWN once one master is flagged FAIL (see docs/reliability.md).
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ masters: 3, args: ['--cluster-require-full-coverage', 'no'] });
});
afterAll(async () => {
  await cluster?.stop();
});

it('(C) every lock kind under contention on a 3-master cluster; a master killed and restarted', { timeout: 600_000 }, async () => {
  const r = await clusterScenario({ cluster, rounds: FULL ? 120 : 3, killMaster: true });
  console.log(`FAULTS ${JSON.stringify({ scenario: 'cluster: 5 lock kinds, master SIGKILL + restart', acquisitions: r.check.acquisitions, indeterminate: r.check.indeterminate, calls: r.check.calls, violations: r.check.violations.length, failures: r.failures.length, ...r.notes })}`);
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.check.acquisitions).toBeGreaterThan(0);
});
