import { expect, it } from 'vitest';
import { checkHistory, fuzzSchedule, now, Recorder, startLoad, type FuzzReport } from '../src/index.js';
import { FULL, MAX_MS, print, scale, useLoadPool, useServer, VOLUME } from './env.js';

const ctx = useServer();
const res = useServer();
const pool = useLoadPool();

it('fast-check schedules of acquire/release/extend/increment × faults keep every invariant, with a checked background load', { timeout: MAX_MS + 900_000 }, async () => {
  const t = performance.now();
  const seed = process.env.FAULTS_SEED === undefined ? undefined : Number(process.env.FAULTS_SEED);
  // The load (mutex and HiLok on their own names) runs while the schedules' faults hit the same server.
  const rec = new Recorder('load');
  const spec = { impl: 'single' as const, urls: [ctx.server.url], counterUrl: res.server.url, groups: 4, clients: scale(4), ttl: 2_000, timeout: 5_000 };
  const loads = [await startLoad(rec, { ...spec, kind: 'mutex', tag: 'fzm-' }, { inProcess: scale(2), pool: pool.pool }), await startLoad(rec, { ...spec, kind: 'hilok', tag: 'fzh-' }, { inProcess: scale(2) })];
  const totals: FuzzReport = { runs: 0, acquisitions: 0, indeterminate: 0, faults: 0, violations: 0 };
  // One batch of schedules at least (replayable with FAULTS_SEED / FAULTS_PATH), more until the load's volume.
  for (const until = now() + MAX_MS; totals.runs === 0 || (seed === undefined && (rec.counts['acquire:ok'] ?? 0) < VOLUME && now() < until); ) {
    const r = await fuzzSchedule({ server: ctx.server, runs: FULL ? 60 : 6, maxSteps: FULL ? 120 : 60, seed, path: process.env.FAULTS_PATH });
    for (const k of Object.keys(totals) as (keyof FuzzReport)[]) totals[k] += r[k];
  }
  const counters = Object.assign({}, ...(await Promise.all(loads.map((l) => l.stop()))).map((s) => s.counters)) as Record<string, number>;
  const check = checkHistory(rec.events, { counters });
  print({ scenario: 'fast-check schedules + background load', kind: 'both', check, failures: [], notes: { schedules: totals.runs, scheduleAcquisitions: totals.acquisitions, scheduleIndeterminate: totals.indeterminate, faults: totals.faults } }, t);
  expect(totals.violations).toBe(0);
  expect(totals.acquisitions).toBeGreaterThan(0);
  expect(check.violations).toEqual([]);
  expect(check.acquisitions + totals.acquisitions).toBeGreaterThanOrEqual(VOLUME);
});
