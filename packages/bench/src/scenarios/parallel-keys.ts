import type { ScenarioContext } from '../scenario.js';
import { runThroughput, type ThroughputResult } from './throughput.js';

/** Number of concurrent tasks in {@link parallelKeys}. */
export const PARALLEL_TASKS = 64;

/** 64 concurrent tasks, each on its own key, all on one connection (target: hilok ≥ 0.90× raw of its driver). */
export function parallelKeys(ctx: ScenarioContext, tasks = PARALLEL_TASKS): Promise<ThroughputResult> {
  return runThroughput(ctx, { scenario: 'parallel-keys', tasks });
}
