import type { RedisServer } from '@hilok/testing';
import type { ContenderFactory } from './contenders/types.js';

/** One JSON line of the raw results. */
export type ResultLine = Record<string, unknown> & { type: string };

/** What every scenario function receives. */
export interface ScenarioContext {
  /** A throwaway redis-server of this scenario (empty at the start). */
  server: RedisServer;
  /** The contenders to run (a scenario ignores those it cannot run, e.g. raw ones when waiting). */
  contenders: readonly ContenderFactory[];
  /** Rounds; contenders are interleaved round by round. */
  rounds: number;
  /** Length of one measurement in ms. */
  durationMs: number;
  /** Appends one raw result line. */
  record(line: ResultLine): void;
  /** Progress output. */
  log(message: string): void;
}

/** Mutual exclusion and cleanliness checks every scenario reports. */
export interface Integrity {
  /** Times two holders overlapped (any > 0 invalidates the run). */
  overlaps: number;
  /** Keys left in Redis after everything was released. */
  keysLeft: number;
}

/** Raised (and printed loudly) when mutual exclusion was violated. */
export function reportOverlap(ctx: ScenarioContext, scenario: string, contender: string, overlaps: number): void {
  if (overlaps === 0) return;
  const bar = '!'.repeat(78);
  ctx.log(`\n${bar}\n!!! MUTUAL EXCLUSION VIOLATED: ${scenario} / ${contender}: ${overlaps} overlapping critical sections\n!!! THIS RUN IS INVALID\n${bar}\n`);
}
