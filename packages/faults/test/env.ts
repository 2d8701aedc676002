import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import type { ScenarioReport } from '../src/index.js';

/** FAULTS_FULL=1: the long run (more iterations); otherwise the short CI version. */
export const FULL = process.env.FAULTS_FULL === '1';

/** A fresh redis-server (no persistence) for one test file. */
export function useServer(): { server: RedisServer } {
  const holder = {} as { server: RedisServer };
  beforeAll(async () => {
    holder.server = await startRedis();
  });
  afterAll(async () => {
    await holder.server?.stop();
  });
  return holder;
}

/** Print a scenario's figures (one line, greppable: `FAULTS`). */
export function print(r: ScenarioReport): void {
  const v = r.check.violations.length;
  console.log(
    `FAULTS ${JSON.stringify({ scenario: r.scenario, kind: r.kind, iterations: r.iterations, acquisitions: r.check.acquisitions, indeterminate: r.check.indeterminate, calls: r.check.calls, violations: v, failures: r.failures.length, keysLeft: r.keysLeft, ...r.notes })}`,
  );
}
