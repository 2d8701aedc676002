import { rawOf, runsIn, type Contender, type ContenderFactory } from '../contenders/index.js';
import type { Integrity, ScenarioContext } from '../scenario.js';
import { pairedRounds } from '../paired.js';
import { cpuSnapshot, cpuUsed, median, round, type CpuUsed } from '../stats.js';

/** Summary of one contender in a throughput scenario. */
export interface ThroughputRow {
  contender: string;
  driver: string;
  /** Median over measured slices of acquire+release pairs per second. */
  opsPerSec: number;
  /** Median over rounds of (this contender / raw limit of its driver, measured interleaved with it). */
  ratioToRaw: number;
  /** Median CPU per 1 000 acquire+release pairs, ms (Node process, redis-server). */
  nodeCpuMsPer1k: number;
  redisCpuMsPer1k: number;
  settings: Record<string, unknown>;
  /** Set for the probe of hilok's scripts without the library ({@link ContenderFactory.probe}). */
  probe?: boolean;
}

/** Result of a throughput scenario. */
export interface ThroughputResult extends Integrity {
  scenario: string;
  tasks: number;
  rows: ThroughputRow[];
}

/** Shape of a throughput scenario: `tasks` concurrent loops on one connection, task i on `key(i)`. */
export interface ThroughputSpec {
  scenario: string;
  tasks: number;
}

/**
 * Runs `spec.tasks` concurrent acquire+release loops per contender (one connection each, task
 * i on its own key, never contended) for `ctx.durationMs`, `ctx.rounds` times; each contender is
 * measured interleaved with the raw limit of its driver in short slices ({@link pairedRounds}), and the raw limits
 * of both drivers always run too.
 */
export async function runThroughput(ctx: ScenarioContext, spec: ThroughputSpec): Promise<ThroughputResult> {
  const factories = withRaw(ctx.contenders.filter((f) => runsIn(f, spec.scenario)));
  const instances = new Map<ContenderFactory, Contender>();
  const samples = new Map<ContenderFactory, { ops: number; cpu: CpuUsed }[]>();
  const mode = { waiting: false, ttl: 30_000 };
  let keysLeft = 0;
  let ratios = new Map<ContenderFactory, number[]>();
  try {
    for (const f of factories) {
      const c = await f.create(ctx.server.url, mode);
      instances.set(f, c);
      samples.set(f, []);
      await loop(c, spec.tasks, keyPrefix(spec.scenario, f), Math.min(200, ctx.durationMs / 4)); // warm-up
    }
    const measure = async (f: ContenderFactory, r: number, durationMs: number): Promise<number> => {
      const before = await cpuSnapshot(ctx.server);
      const started = performance.now();
      const ops = await loop(instances.get(f) as Contender, spec.tasks, keyPrefix(spec.scenario, f), durationMs);
      const elapsed = performance.now() - started;
      const cpu = cpuUsed(before, await cpuSnapshot(ctx.server));
      const left = await ctx.server.dbsize();
      keysLeft = Math.max(keysLeft, left);
      const opsPerSec = (ops / elapsed) * 1000;
      samples.get(f)?.push({ ops: opsPerSec, cpu: { nodeMs: (cpu.nodeMs / ops) * 1000, redisMs: (cpu.redisMs / ops) * 1000 } });
      ctx.record({ type: 'sample', scenario: spec.scenario, contender: f.name, driver: f.driver, round: r, tasks: spec.tasks, ops, elapsedMs: round(elapsed, 1), opsPerSec: round(opsPerSec, 1), cpu, keysLeft: left });
      return opsPerSec;
    };
    ratios = await pairedRounds({ rounds: ctx.rounds, durationMs: ctx.durationMs }, factories, (f) => rawOf(f.driver), measure, (r) => ctx.log(`  ${spec.scenario}: round ${r + 1}/${ctx.rounds} done`));
  } finally {
    for (const c of instances.values()) await c.close().catch(() => undefined);
  }
  keysLeft = Math.max(keysLeft, await ctx.server.dbsize());
  const rows = factories.map((f): ThroughputRow => {
    const mine = samples.get(f) ?? [];
    return {
      contender: f.name,
      driver: f.driver,
      opsPerSec: round(median(mine.map((s) => s.ops)), 0),
      ratioToRaw: round(median(ratios.get(f) ?? []), 3),
      nodeCpuMsPer1k: round(median(mine.map((s) => s.cpu.nodeMs)), 1),
      redisCpuMsPer1k: round(median(mine.map((s) => s.cpu.redisMs)), 1),
      settings: instances.get(f)?.settings ?? {},
      ...(f.probe ? { probe: true } : {}),
    };
  });
  const result: ThroughputResult = { scenario: spec.scenario, tasks: spec.tasks, rows, overlaps: 0, keysLeft };
  ctx.record({ type: 'summary', ...result });
  return result;
}

function withRaw(contenders: readonly ContenderFactory[]): ContenderFactory[] {
  const all = [...contenders];
  for (const d of ['ioredis', 'node-redis', 'valkey-glide'] as const) if (!all.includes(rawOf(d))) all.unshift(rawOf(d));
  return all;
}

function keyPrefix(scenario: string, f: ContenderFactory): string {
  return `bench:${scenario}:${f.name.replace(/[^a-z0-9]+/gi, '-')}`;
}

/** Runs `tasks` acquire+release loops on `c` for `durationMs` (task i on `prefix:i`); resolves the pairs done. */
export async function loop(c: Contender, tasks: number, prefix: string, durationMs: number): Promise<number> {
  const deadline = performance.now() + durationMs;
  let ops = 0;
  const task = async (i: number): Promise<void> => {
    const key = `${prefix}:${i}`;
    while (performance.now() < deadline) {
      const release = await c.acquire(key);
      await release();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: tasks }, (_, i) => task(i)));
  return ops;
}
