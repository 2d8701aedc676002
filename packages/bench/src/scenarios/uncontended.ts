import type { ScenarioContext } from '../scenario.js';
import { runThroughput, type ThroughputResult } from './throughput.js';

/** Uncontended acquire+release loop: one task, one key, one connection (target: hilok ≥ 0.95× raw of its driver). */
export function uncontended(ctx: ScenarioContext): Promise<ThroughputResult> {
  return runThroughput(ctx, { scenario: 'uncontended', tasks: 1 });
}
