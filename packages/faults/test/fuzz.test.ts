import { expect, it } from 'vitest';
import { fuzzSchedule } from '../src/index.js';
import { FULL, useServer } from './env.js';

const ctx = useServer();

it('fast-check schedules of acquire/release/extend/increment × faults keep every invariant', { timeout: 900_000 }, async () => {
  const seed = process.env.FAULTS_SEED === undefined ? undefined : Number(process.env.FAULTS_SEED);
  const r = await fuzzSchedule({ server: ctx.server, runs: FULL ? 60 : 6, maxSteps: FULL ? 120 : 60, seed, path: process.env.FAULTS_PATH });
  console.log(`FAULTS ${JSON.stringify({ scenario: 'fast-check schedules', ...r })}`);
  expect(r.violations).toBe(0);
  expect(r.acquisitions).toBeGreaterThan(0);
});
