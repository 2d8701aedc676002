import type { Contender, ContenderFactory } from '../contenders/index.js';
import { reportOverlap, type Integrity, type ScenarioContext } from '../scenario.js';
import { cpuSnapshot, cpuUsed, median, quantile, rotate, round, sleep, type CpuUsed } from '../stats.js';

/** Parameters of {@link contended}. */
export interface ContendedSpec {
  /** Tasks contending for the one key (default 16). */
  tasks: number;
  /** Connections (contender instances) the tasks are spread over, round robin (default 2). */
  connections: number;
  /** Time held per critical section, ms (setTimeout; default 1). */
  holdMs: number;
  /** Pause between a release and the next acquire of the same task, ms (default 2). */
  thinkMs: number;
}

/** The default contended shape: 16 tasks, 2 connections, 1 ms hold, 2 ms think. */
export const CONTENDED_DEFAULTS: ContendedSpec = { tasks: 16, connections: 2, holdMs: 1, thinkMs: 2 };

/** Summary of one contender under contention (medians over rounds). */
export interface ContendedRow {
  contender: string;
  driver: string;
  /** Critical sections per second. */
  sectionsPerSec: number;
  /** Wait from calling acquire to holding, p50 / p99, ms. */
  waitP50Ms: number;
  waitP99Ms: number;
  /** Hand-off: from a release (with a waiter present) to the next holder holding, p50 / p99, ms. */
  handoffP50Ms: number;
  handoffP99Ms: number;
  /** Sections of the busiest task / sections of the least busy task (1 = perfectly even; null = a task starved). */
  fairness: number | null;
  /** Median CPU per 1 000 critical sections, ms (Node process, redis-server). */
  nodeCpuMsPer1k: number;
  redisCpuMsPer1k: number;
  overlaps: number;
  settings: Record<string, unknown>;
}

/** Result of {@link contended}. */
export interface ContendedResult extends Integrity {
  scenario: 'contended';
  spec: ContendedSpec;
  rows: ContendedRow[];
}

interface RoundStats {
  sectionsPerSec: number;
  waits: number[];
  handoffs: number[];
  fairness: number;
  overlaps: number;
  cpu: CpuUsed;
}

/**
 * Many tasks on one key: `spec.tasks` tasks over `spec.connections` connections, each holding
 * `holdMs` and thinking `thinkMs`, for `ctx.durationMs` per round. Measures critical sections/s,
 * wait p50/p99, hand-off latency and fairness, and checks mutual exclusion on every section
 * (tasks share one process, so an overlap is seen exactly). Raw contenders and probes are
 * skipped: they do not wait.
 */
export async function contended(ctx: ScenarioContext, spec: ContendedSpec = CONTENDED_DEFAULTS): Promise<ContendedResult> {
  const factories = ctx.contenders.filter((f) => !f.raw && !f.probe);
  const instances = new Map<ContenderFactory, Contender[]>();
  const perRound = new Map<ContenderFactory, RoundStats[]>();
  let keysLeft = 0;
  try {
    for (const f of factories) {
      const list: Contender[] = [];
      for (let i = 0; i < spec.connections; i++) list.push(await f.create(ctx.server.url, { waiting: true, ttl: 30_000 }));
      instances.set(f, list);
      perRound.set(f, []);
      await runOnce(list, keyOf(f), spec, Math.min(200, ctx.durationMs / 4)); // warm-up (opens the subscribers)
    }
    for (let r = 0; r < ctx.rounds; r++) {
      for (const f of rotate(factories, r)) {
        const before = await cpuSnapshot(ctx.server);
        const s = await runOnce(instances.get(f) as Contender[], keyOf(f), spec, ctx.durationMs);
        s.cpu = cpuUsed(before, await cpuSnapshot(ctx.server));
        perRound.get(f)?.push(s);
        reportOverlap(ctx, 'contended', f.name, s.overlaps);
        const left = await ctx.server.dbsize();
        keysLeft = Math.max(keysLeft, left);
        ctx.record({
          type: 'sample', scenario: 'contended', contender: f.name, driver: f.driver, round: r, ...spec,
          sections: s.waits.length, sectionsPerSec: round(s.sectionsPerSec, 1),
          waitP50Ms: round(quantile(s.waits, 0.5)), waitP99Ms: round(quantile(s.waits, 0.99)),
          handoffP50Ms: round(quantile(s.handoffs, 0.5)), handoffP99Ms: round(quantile(s.handoffs, 0.99)),
          fairness: Number.isFinite(s.fairness) ? round(s.fairness) : null, overlaps: s.overlaps, cpu: s.cpu, keysLeft: left,
        });
      }
      ctx.log(`  contended: round ${r + 1}/${ctx.rounds} done`);
    }
  } finally {
    for (const list of instances.values()) for (const c of list) await c.close().catch(() => undefined);
  }
  keysLeft = Math.max(keysLeft, await ctx.server.dbsize());
  const rows = factories.map((f): ContendedRow => {
    const rs = perRound.get(f) ?? [];
    const med = (pick: (s: RoundStats) => number, digits = 2) => round(median(rs.map(pick)), digits);
    const fair = median(rs.map((s) => s.fairness));
    const sections = rs.map((s) => s.waits.length);
    return {
      contender: f.name,
      driver: f.driver,
      sectionsPerSec: med((s) => s.sectionsPerSec, 0),
      waitP50Ms: med((s) => quantile(s.waits, 0.5)),
      waitP99Ms: med((s) => quantile(s.waits, 0.99)),
      handoffP50Ms: med((s) => quantile(s.handoffs, 0.5)),
      handoffP99Ms: med((s) => quantile(s.handoffs, 0.99)),
      fairness: Number.isFinite(fair) ? round(fair) : null,
      nodeCpuMsPer1k: round(median(rs.map((s, i) => (s.cpu.nodeMs / (sections[i] || 1)) * 1000)), 1),
      redisCpuMsPer1k: round(median(rs.map((s, i) => (s.cpu.redisMs / (sections[i] || 1)) * 1000)), 1),
      overlaps: rs.reduce((n, s) => n + s.overlaps, 0),
      settings: instances.get(f)?.[0]?.settings ?? {},
    };
  });
  const result: ContendedResult = { scenario: 'contended', spec, rows, overlaps: rows.reduce((n, r) => n + r.overlaps, 0), keysLeft };
  ctx.record({ type: 'summary', ...result });
  return result;
}

function keyOf(f: ContenderFactory): string {
  return `bench:contended:${f.name.replace(/[^a-z0-9]+/gi, '-')}`;
}

async function runOnce(conns: Contender[], key: string, spec: ContendedSpec, durationMs: number): Promise<RoundStats> {
  const started = performance.now();
  const deadline = started + durationMs;
  const waits: number[] = [];
  const handoffs: number[] = [];
  const sections = new Array<number>(spec.tasks).fill(0);
  let holder = -1;
  let overlaps = 0;
  let waiting = 0;
  let releasedAt = -1; // start of the last release that had a waiter behind it
  const task = async (i: number): Promise<void> => {
    const conn = conns[i % conns.length] as Contender;
    // Stagger the start so tasks do not all fire in the same tick.
    await sleep(i % 3);
    while (performance.now() < deadline) {
      const asked = performance.now();
      waiting++;
      const release = await conn.acquire(key);
      waiting--;
      const got = performance.now();
      if (holder !== -1) overlaps++;
      holder = i;
      waits.push(got - asked);
      if (releasedAt >= 0) handoffs.push(got - releasedAt);
      releasedAt = -1;
      await sleep(spec.holdMs);
      if (holder === i) holder = -1;
      if (waiting > 0) releasedAt = performance.now();
      await release();
      sections[i] = (sections[i] as number) + 1;
      await sleep(spec.thinkMs);
    }
  };
  await Promise.all(Array.from({ length: spec.tasks }, (_, i) => task(i)));
  const elapsed = performance.now() - started;
  const most = Math.max(...sections);
  const least = Math.min(...sections);
  return {
    sectionsPerSec: (waits.length / elapsed) * 1000,
    waits,
    handoffs,
    fairness: least === 0 ? Number.POSITIVE_INFINITY : most / least,
    overlaps,
    cpu: { nodeMs: 0, redisMs: 0 },
  };
}
