import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import { LoadPool, Recorder, type CheckResult } from '../src/index.js';

/** FAULTS_FULL=1: the long run (10⁴ acquisitions per scenario); otherwise the short CI version. */
export const FULL = process.env.FAULTS_FULL === '1';

/**
 * Acquisitions checked per in-model scenario (scenario + background load): 10⁴ in the full
 * run, a few hundred in CI. `FAULTS_VOLUME` overrides it (a quick soak of a subset).
 */
export const VOLUME = Number(process.env.FAULTS_VOLUME ?? (FULL ? 10_000 : 200));

/** How long a scenario may keep repeating its fault to reach {@link VOLUME} (then it stops and the count is asserted). */
export const MAX_MS = FULL ? 420_000 : 60_000;

/**
 * Size of the background load: `n` clients (or names) in the full run; a quarter of that (at
 * least 1) in CI, where the short run shares two cores with the rest of the test suite.
 */
export const scale = (n: number): number => (FULL ? n : Math.max(1, Math.ceil(n / 4)));

/** Load worker processes per test file. */
export const LOAD_WORKERS = FULL ? 2 : 1;

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

/** Worker processes for the background load of one test file (spawned once, reused by every scenario). */
export function useLoadPool(workers = LOAD_WORKERS): { pool: LoadPool } {
  const holder = {} as { pool: LoadPool };
  beforeAll(async () => {
    holder.pool = await LoadPool.spawn(workers, new Recorder('unused'));
  });
  afterAll(async () => {
    await holder.pool?.stop();
  });
  return holder;
}

/** What every scenario runner reports, as far as printing goes. */
interface Printable {
  scenario: string;
  kind?: string;
  driver?: string;
  iterations?: number;
  check: CheckResult;
  failures: string[];
  notes: Record<string, unknown>;
  keysLeft?: number;
}

/** Print a scenario's figures (one line, greppable: `FAULTS`; `scripts/faults-table.mjs` turns a log of them into the docs' table). */
export function print(r: Printable, startedAt?: number): void {
  const wallS = startedAt === undefined ? undefined : Math.round((performance.now() - startedAt) / 100) / 10;
  const v = r.check.violations.length;
  const rules: Record<string, number> = {};
  for (const x of r.check.violations) rules[x.rule] = (rules[x.rule] ?? 0) + 1;
  const firstViolation = r.check.violations[0] ? `[${r.check.violations[0].rule}] ${r.check.violations[0].detail}` : undefined;
  // Signal lead time (next conflicting grant − signal abort) of every hold that ended by its signal.
  const leads = r.check.signalLeads.map((l) => l.leadMs);
  const lead = leads.length > 0 ? { signalLeads: leads.length, minSignalLeadMs: Math.round(Math.min(...leads) * 10) / 10 } : {};
  console.log(
    `FAULTS ${JSON.stringify({ scenario: r.scenario, kind: r.kind, ...(r.driver ? { driver: r.driver } : {}), mode: FULL ? 'full' : 'short', iterations: r.iterations, acquisitions: r.check.acquisitions, indeterminate: r.check.indeterminate, calls: r.check.calls, violations: v, ...(v > 0 ? { violationRules: rules, firstViolation } : {}), failures: r.failures.length, keysLeft: r.keysLeft, wallS, ...lead, ...r.notes })}`,
  );
}
