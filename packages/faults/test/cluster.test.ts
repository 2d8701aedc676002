import { afterAll, beforeAll, expect, it } from 'vitest';
import { startCluster, type Cluster } from '@hilok/testing';
import { clusterScenario } from '../src/index.js';
import { FULL, print, VOLUME } from './env.js';

// 3 masters, no replicas. `cluster-require-full-coverage no`: with the default (yes) the whole
// cluster answers CLUSTERDOWN once one master is flagged FAIL (see docs/reliability.md).
let cluster: Cluster;
beforeAll(async () => {
  cluster = await startCluster({ masters: 3, args: ['--cluster-require-full-coverage', 'no'] });
});
afterAll(async () => {
  await cluster?.stop();
});

it('(C) every lock kind under contention on a 3-master cluster; each master killed and restarted in turn', { timeout: 900_000 }, async () => {
  const t = performance.now();
  // Each contention phase: 3 clients × rounds × 5 kinds × 6 names acquisitions.
  const r = await clusterScenario({ cluster, rounds: FULL ? 40 : 3, kills: FULL ? 3 : 1 });
  print({ scenario: 'cluster: 5 lock kinds, master SIGKILL + restart', kind: 'all 5', check: r.check, failures: r.failures, notes: r.notes }, t);
  expect(r.failures).toEqual([]);
  expect(r.check.violations).toEqual([]);
  expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
});
