import { rotate } from './stats.js';

/** How {@link pairedRounds} spends each round. */
export interface PairedSchedule {
  rounds: number;
  /** Time each contender gets per round, ms. */
  durationMs: number;
  /**
   * Pieces each pair's time is cut into, run in A B B A order (default 10). The machine's
   * speed drifts over seconds (other tenants, CPU steal); slices of 100 ms interleaved this way
   * put both sides of a ratio through the same drift, where two 1 s runs back to back did not.
   */
  slices?: number;
}

/** Default number of interleaved slices per pair and round. */
export const DEFAULT_SLICES = 10;

/**
 * Paired sampling for a noisy, shared machine: every round, each contender is measured
 * interleaved with its baseline (the raw limit) in short slices, A B B A …, so each ratio
 * compares two measurements taken under the same conditions. A baseline nobody is paired with
 * is still measured once per round. Resolves, per contender, its ratio in each round (1 for
 * the baselines themselves): the mean of its slices' throughput over the mean of its
 * baseline's.
 *
 * @param measure - runs one measurement of `durationMs` and resolves its throughput (ops/s)
 */
export async function pairedRounds<F>(
  schedule: PairedSchedule,
  contenders: readonly F[],
  baselineOf: (f: F) => F,
  measure: (f: F, round: number, durationMs: number) => Promise<number>,
  onRound?: (round: number) => void,
): Promise<Map<F, number[]>> {
  const slices = Math.max(1, schedule.slices ?? DEFAULT_SLICES);
  const sliceMs = schedule.durationMs / slices;
  const ratios = new Map<F, number[]>(contenders.map((f) => [f, []]));
  const isBaseline = (f: F) => baselineOf(f) === f;
  const paired = contenders.filter((f) => !isBaseline(f));
  const unpaired = contenders.filter((f) => isBaseline(f) && !paired.some((p) => baselineOf(p) === f));
  for (let r = 0; r < schedule.rounds; r++) {
    for (const f of rotate(paired, r)) {
      const base = baselineOf(f);
      let ops = 0;
      let baseOps = 0;
      for (let s = 0; s < slices; s++) {
        // A B B A, starting with the other side every other round.
        const baseFirst = (s % 4 === 0 || s % 4 === 3) !== (r % 2 === 1);
        if (baseFirst) {
          baseOps += await measure(base, r, sliceMs);
          ops += await measure(f, r, sliceMs);
        } else {
          ops += await measure(f, r, sliceMs);
          baseOps += await measure(base, r, sliceMs);
        }
      }
      ratios.get(f)?.push(ops / baseOps);
      ratios.get(base)?.push(1);
    }
    for (const b of unpaired) {
      await measure(b, r, schedule.durationMs);
      ratios.get(b)?.push(1);
    }
    onRound?.(r);
  }
  return ratios;
}
