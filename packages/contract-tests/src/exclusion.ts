import type { Lease } from '@hilok/core';
import { delay } from './driver.js';

/** What {@link checkMutualExclusion} observed. */
export interface ExclusionResult {
  /** Largest number of tasks that were inside the critical section at once (must be 1). */
  maxConcurrent: number;
  /** Final value of the read-modify-write counter (must equal tasks × rounds). */
  counter: number;
}

/**
 * Many tasks each take the lock `rounds` times and do a deliberately slow read-modify-write of
 * a shared counter inside; any overlap shows up as `maxConcurrent > 1` or as lost increments.
 */
export async function checkMutualExclusion(options: {
  tasks: number;
  rounds: number;
  acquire: (task: number) => Promise<Lease>;
  holdMs?: number;
}): Promise<ExclusionResult> {
  let inside = 0;
  let maxConcurrent = 0;
  let counter = 0;
  await Promise.all(
    Array.from({ length: options.tasks }, async (_, task) => {
      for (let round = 0; round < options.rounds; round++) {
        const lease = await options.acquire(task);
        inside++;
        maxConcurrent = Math.max(maxConcurrent, inside);
        const read = counter;
        await delay(options.holdMs ?? 1);
        counter = read + 1;
        inside--;
        await lease.release();
      }
    }),
  );
  return { maxConcurrent, counter };
}
