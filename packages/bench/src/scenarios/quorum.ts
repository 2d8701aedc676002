import { startRedisInstances } from '@hilok/testing';
import { QUORUM_CONTENDERS, type QuorumContenderFactory } from '../contenders/quorum.js';
import type { Contender } from '../contenders/types.js';
import type { Integrity, ScenarioContext } from '../scenario.js';
import { pairedRounds } from '../paired.js';
import { cpuSnapshot, median, round } from '../stats.js';
import { loop } from './throughput.js';

/** Independent instances of the Redlock scenario. */
export const QUORUM_INSTANCES = 3;

/** One contender at one concurrency in the Redlock scenario. */
export interface QuorumRow {
  contender: string;
  tasks: number;
  /** Set for the probe of hilok's scripts without the library ({@link QuorumContenderFactory.probe}). */
  probe?: boolean;
  /** Median over measured slices of acquire+release pairs per second. */
  opsPerSec: number;
  /** Median over rounds of (this contender / the raw parallel limit, measured interleaved with it). */
  ratioToRaw: number;
  /** Median CPU per 1 000 pairs, ms: this Node process, and all instances together. */
  nodeCpuMsPer1k: number;
  redisCpuMsPer1k: number;
  settings: Record<string, unknown>;
}

/** Result of the Redlock scenario. */
export interface QuorumResult extends Integrity {
  instances: number;
  rows: QuorumRow[];
}

/**
 * Redlock on {@link QUORUM_INSTANCES} independent throwaway instances: acquire+release loops
 * with 1 task and with `parallel` tasks on their own keys, for hilok's Redlock, redlock v5 and
 * @sesamecare-oss/redlock, each as a ratio to the raw parallel limit measured in the same round
 * (target: hilok ≥ 0.95×).
 */
export async function quorum(ctx: ScenarioContext, parallel = 16, contenders: readonly QuorumContenderFactory[] = QUORUM_CONTENDERS): Promise<QuorumResult> {
  const instances = await startRedisInstances(QUORUM_INSTANCES);
  const live = new Map<QuorumContenderFactory, Contender>();
  const samples = new Map<string, { ops: number; nodeMs: number; redisMs: number }[]>();
  const mode = { waiting: false, ttl: 30_000 };
  const cpu = async () => {
    const snaps = await Promise.all(instances.servers.map(cpuSnapshot));
    return { node: snaps[0]?.nodeMicros ?? 0, redis: snaps.reduce((n, s) => n + s.redisSeconds, 0) };
  };
  const prefix = (f: QuorumContenderFactory) => `bench:redlock:${f.name.replace(/[^a-z0-9]+/gi, '-')}`;
  let keysLeft = 0;
  const ratioSamples = new Map<string, number[]>();
  try {
    for (const f of contenders) {
      const c = await f.create(instances.urls, mode);
      live.set(f, c);
      await loop(c, parallel, prefix(f), Math.min(200, ctx.durationMs / 4)); // warm-up
    }
    const raw = contenders.find((f) => f.raw) ?? (contenders[0] as QuorumContenderFactory);
    for (const tasks of [1, parallel]) {
      // The probe runs at 1 task only: it has no batching, so at 16 it would measure that instead.
      const measured = contenders.filter((f) => tasks === 1 || !f.probe);
      const measure = async (f: QuorumContenderFactory, r: number, durationMs: number): Promise<number> => {
        const before = await cpu();
        const started = performance.now();
        const ops = await loop(live.get(f) as Contender, tasks, prefix(f), durationMs);
        const elapsed = performance.now() - started;
        const after = await cpu();
        const opsPerSec = (ops / elapsed) * 1000;
        const key = `${f.name}\0${tasks}`;
        samples.set(key, [...(samples.get(key) ?? []), { ops: opsPerSec, nodeMs: (after.node - before.node) / ops, redisMs: ((after.redis - before.redis) * 1e6) / ops }]);
        ctx.record({ type: 'sample', scenario: 'redlock', contender: f.name, round: r, tasks, ops, elapsedMs: round(elapsed, 1), opsPerSec: round(opsPerSec, 1) });
        return opsPerSec;
      };
      const ratios = await pairedRounds({ rounds: ctx.rounds, durationMs: ctx.durationMs }, measured, (f) => (f.raw ? f : raw), measure, (r) => ctx.log(`  redlock (${tasks} task${tasks > 1 ? 's' : ''}): round ${r + 1}/${ctx.rounds} done`));
      for (const [f, list] of ratios) ratioSamples.set(`${f.name}\0${tasks}`, list);
    }
  } finally {
    for (const c of live.values()) await c.close().catch(() => undefined);
    for (const s of instances.servers) keysLeft += (await s.dbsize().catch(() => 0)) as number;
    await instances.stopAll();
  }
  const rows: QuorumRow[] = [1, parallel].flatMap((tasks) =>
    contenders.filter((f) => tasks === 1 || !f.probe).map((f) => {
      const mine = samples.get(`${f.name}\0${tasks}`) ?? [];
      return {
        contender: f.name,
        tasks,
        ...(f.probe ? { probe: true } : {}),
        opsPerSec: round(median(mine.map((s) => s.ops)), 0),
        ratioToRaw: round(median(ratioSamples.get(`${f.name}\0${tasks}`) ?? []), 3),
        nodeCpuMsPer1k: round(median(mine.map((s) => s.nodeMs)), 1),
        redisCpuMsPer1k: round(median(mine.map((s) => s.redisMs)), 1),
        settings: live.get(f)?.settings ?? {},
      };
    }),
  );
  const result: QuorumResult = { instances: QUORUM_INSTANCES, rows, overlaps: 0, keysLeft };
  ctx.record({ type: 'summary', scenario: 'redlock', ...result });
  return result;
}
