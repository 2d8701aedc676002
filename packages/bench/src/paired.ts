import { rotate } from './stats.js';

/**
 * Paired sampling for a noisy, shared machine: every round, each contender is measured right
 * next to its baseline (the raw limit), in alternating order, so each ratio compares two
 * measurements taken moments apart rather than a whole round apart. A baseline nobody is paired
 * with is still measured once per round. Resolves, per contender, its ratio in each round
 * (1 for the baselines themselves).
 *
 * @param measure - runs one measurement and resolves its throughput (ops/s)
 */
export async function pairedRounds<F>(
  rounds: number,
  contenders: readonly F[],
  baselineOf: (f: F) => F,
  measure: (f: F, round: number) => Promise<number>,
  onRound?: (round: number) => void,
): Promise<Map<F, number[]>> {
  const ratios = new Map<F, number[]>(contenders.map((f) => [f, []]));
  const isBaseline = (f: F) => baselineOf(f) === f;
  const paired = contenders.filter((f) => !isBaseline(f));
  const unpaired = contenders.filter((f) => isBaseline(f) && !paired.some((p) => baselineOf(p) === f));
  for (let r = 0; r < rounds; r++) {
    for (const f of rotate(paired, r)) {
      const base = baselineOf(f);
      let ops: number;
      let baseOps: number;
      if (r % 2 === 0) {
        baseOps = await measure(base, r);
        ops = await measure(f, r);
      } else {
        ops = await measure(f, r);
        baseOps = await measure(base, r);
      }
      ratios.get(f)?.push(ops / baseOps);
      ratios.get(base)?.push(1);
    }
    for (const b of unpaired) {
      await measure(b, r);
      ratios.get(b)?.push(1);
    }
    onRound?.(r);
  }
  return ratios;
}
