import { runsIn, type Contender, type ContenderFactory, type Release } from '../contenders/index.js';
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
  /** Pause between a release and the next acquire of the same task, ms (default 2; 0 = none, the next acquire follows at once). */
  thinkMs: number;
  /**
   * Acquire timeout given to every contender, ms (default {@link CONTENDED_TIMEOUT_MS}). A task
   * whose acquire times out counts one acquire timeout and asks again at once; its wait is
   * counted from its first attempt, so a timeout never shortens the longest wait.
   */
  timeoutMs?: number;
  /**
   * What the tasks lock (default: the exclusive lock of one key): `semaphore` — one permit each
   * of one key of size `limit` (at most `limit` holders at once); `multi` — two of `names` keys
   * at once, all or none: task `i` takes keys `i mod names` and `i + 1 mod names` (odd tasks
   * list them in the opposite order), so every pair overlaps its two neighbours.
   */
  lock?: ContendedLock;
}

/** The lock of a contended shape ({@link ContendedSpec.lock}). */
export type ContendedLock = { kind: 'mutex' } | { kind: 'semaphore'; limit: number } | { kind: 'multi'; names: number };

/**
 * The acquire timeout of the contended scenario: 1 s, 4× the longest-wait target (0.25 s), so a
 * wait that misses the target by that much shows up as a timeout within a short window.
 */
export const CONTENDED_TIMEOUT_MS = 1_000;

/** The longest single wait a hilok lock may show under contention (issue 17), ms. */
export const LONGEST_WAIT_TARGET_MS = 250;
/** The most sections the busiest task may do per section of the least busy one (issue 17). */
export const FAIRNESS_TARGET = 2;

/** The default contended shape: 16 tasks, 2 connections, 1 ms hold, 2 ms think. */
export const CONTENDED_DEFAULTS: ContendedSpec = { tasks: 16, connections: 2, holdMs: 1, thinkMs: 2, timeoutMs: CONTENDED_TIMEOUT_MS };

/** The semaphore rows (issue 19): the default shape on one semaphore of size 4 (16 tasks, one permit each). */
export const SEMAPHORE_DEFAULTS: ContendedSpec = { ...CONTENDED_DEFAULTS, lock: { kind: 'semaphore', limit: 4 } };

/** The multi-name rows (issue 19): the default shape, each task taking 2 of 4 keys at once (overlapping pairs). */
export const MULTI_DEFAULTS: ContendedSpec = { ...CONTENDED_DEFAULTS, lock: { kind: 'multi', names: 4 } };

/** The scenario a shape's lock belongs to (and the contenders it runs: {@link runsIn}). */
export function lockScenario(spec: ContendedSpec): 'contended' | 'semaphore' | 'multi' {
  return spec.lock?.kind === 'semaphore' ? 'semaphore' : spec.lock?.kind === 'multi' ? 'multi' : 'contended';
}

/** How one lock kind's tasks take the lock, and what breaks its exclusion (an overlap). */
interface Shape {
  take(conn: Contender, task: number): Promise<Release>;
  /** A task starts holding: whether that breaks the kind's rule (counted as an overlap). */
  enter(task: number): boolean;
  leave(task: number): void;
}

function shapeOf(spec: ContendedSpec, key: string): Shape {
  const lock = spec.lock ?? { kind: 'mutex' };
  if (lock.kind === 'semaphore') {
    let holders = 0;
    return {
      take: (conn) => (conn.acquireSemaphore as NonNullable<Contender['acquireSemaphore']>)(key, lock.limit),
      enter: () => ++holders > lock.limit,
      leave: () => void holders--,
    };
  }
  if (lock.kind === 'multi') {
    const holder = new Array<number>(lock.names).fill(-1);
    const pair = (i: number) => {
      const a = i % lock.names;
      const b = (i + 1) % lock.names;
      return i % 2 === 0 ? [a, b] : [b, a];
    };
    const keys = Array.from({ length: spec.tasks }, (_, i) => pair(i).map((n) => `${key}:${n}`));
    return {
      take: (conn, i) => (conn.acquireAll as NonNullable<Contender['acquireAll']>)(keys[i] as string[]),
      enter: (i) => {
        let overlap = false;
        for (const n of pair(i)) {
          if (holder[n] !== -1) overlap = true;
          holder[n] = i;
        }
        return overlap;
      },
      leave: (i) => {
        for (const n of pair(i)) if (holder[n] === i) holder[n] = -1;
      },
    };
  }
  let holder = -1;
  return {
    take: (conn) => conn.acquire(key),
    enter: (i) => {
      const overlap = holder !== -1;
      holder = i;
      return overlap;
    },
    leave: (i) => {
      if (holder === i) holder = -1;
    },
  };
}

/** Summary of one contender under contention (medians over rounds). */
export interface ContendedRow {
  contender: string;
  driver: string;
  /** Critical sections per second. */
  sectionsPerSec: number;
  /** Wait from the first acquire attempt of a section to holding, p50 / p99 (medians over rounds), ms. */
  waitP50Ms: number;
  waitP99Ms: number;
  /** The longest single wait of any task in any round, ms — the figure the targets judge. */
  longestWaitMs: number;
  /** Acquire attempts that timed out ({@link ContendedSpec.timeoutMs}), all rounds together. */
  timeouts: number;
  /** Sections of the least and of the busiest task, in the round with the worst fairness. */
  perTaskMin: number;
  perTaskMax: number;
  /** Hand-off: from a release (with a waiter present) to the next holder holding, p50 / p99, ms. */
  handoffP50Ms: number;
  handoffP99Ms: number;
  /** Sections of the busiest task / of the least busy task in the worst round (1 = perfectly even; null = a task did none). */
  fairness: number | null;
  /** The same ratio, median over rounds. */
  fairnessMedian: number | null;
  /** Median CPU per 1 000 critical sections, ms (Node process, redis-server). */
  nodeCpuMsPer1k: number;
  redisCpuMsPer1k: number;
  overlaps: number;
  settings: Record<string, unknown>;
}

/** Result of {@link contended}. */
export interface ContendedResult extends Integrity {
  /** `contended`: the exclusive lock of one key; `semaphore`, `multi`: see {@link ContendedSpec.lock}. */
  scenario: 'contended' | 'semaphore' | 'multi';
  spec: ContendedSpec;
  rows: ContendedRow[];
}

interface RoundStats {
  sectionsPerSec: number;
  waits: number[];
  handoffs: number[];
  fairness: number;
  sections: number[];
  timeouts: number;
  overlaps: number;
  cpu: CpuUsed;
}

/**
 * Many tasks on one key: `spec.tasks` tasks over `spec.connections` connections (lock objects),
 * each holding `holdMs` and thinking `thinkMs`, for `ctx.durationMs` per round. Measures
 * critical sections/s, wait p50/p99 and the longest single wait, hand-off latency, per-task
 * sections and fairness, and acquire timeouts, and checks mutual exclusion on every section
 * (tasks share one process, so an overlap is seen exactly). Raw contenders and probes are
 * skipped: they do not wait. With `spec.lock` the same on a semaphore (an overlap: more than
 * `limit` holders) or on pairs of keys taken at once (an overlap: a key held twice), among the
 * contenders of that kind ({@link ContenderFactory.kinds}).
 */
export async function contended(ctx: ScenarioContext, spec: ContendedSpec = CONTENDED_DEFAULTS): Promise<ContendedResult> {
  const scenario = lockScenario(spec);
  const label = scenario === 'contended' ? `contended (think ${spec.thinkMs} ms)` : `${scenario} (think ${spec.thinkMs} ms)`;
  const factories = ctx.contenders.filter((f) => !f.raw && !f.probe && runsIn(f, scenario));
  const mode = { waiting: true, ttl: 30_000, ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }) };
  const instances = new Map<ContenderFactory, Contender[]>();
  const perRound = new Map<ContenderFactory, RoundStats[]>();
  let keysLeft = 0;
  try {
    for (const f of factories) {
      const list: Contender[] = [];
      for (let i = 0; i < spec.connections; i++) list.push(await f.create(ctx.server.url, mode));
      instances.set(f, list);
      perRound.set(f, []);
      await runOnce(list, keyOf(f, scenario), spec, Math.min(200, ctx.durationMs / 4)); // warm-up (opens the subscribers)
    }
    for (let r = 0; r < ctx.rounds; r++) {
      for (const f of rotate(factories, r)) {
        const before = await cpuSnapshot(ctx.server);
        const s = await runOnce(instances.get(f) as Contender[], keyOf(f, scenario), spec, ctx.durationMs);
        s.cpu = cpuUsed(before, await cpuSnapshot(ctx.server));
        perRound.get(f)?.push(s);
        reportOverlap(ctx, label, f.name, s.overlaps);
        const left = await ctx.server.dbsize();
        keysLeft = Math.max(keysLeft, left);
        ctx.record({
          type: 'sample', scenario, contender: f.name, driver: f.driver, round: r, ...spec,
          sections: s.waits.length, sectionsPerSec: round(s.sectionsPerSec, 1),
          waitP50Ms: round(quantile(s.waits, 0.5)), waitP99Ms: round(quantile(s.waits, 0.99)), longestWaitMs: round(Math.max(0, ...s.waits)), timeouts: s.timeouts,
          perTaskMin: Math.min(...s.sections), perTaskMax: Math.max(...s.sections),
          handoffP50Ms: round(quantile(s.handoffs, 0.5)), handoffP99Ms: round(quantile(s.handoffs, 0.99)),
          fairness: Number.isFinite(s.fairness) ? round(s.fairness) : null, overlaps: s.overlaps, cpu: s.cpu, keysLeft: left,
        });
      }
      ctx.log(`  ${label}: round ${r + 1}/${ctx.rounds} done`);
    }
  } finally {
    for (const list of instances.values()) for (const c of list) await c.close().catch(() => undefined);
  }
  keysLeft = Math.max(keysLeft, await ctx.server.dbsize());
  const rows = factories.map((f): ContendedRow => {
    const rs = perRound.get(f) ?? [];
    const med = (pick: (s: RoundStats) => number, digits = 2) => round(median(rs.map(pick)), digits);
    const fair = median(rs.map((s) => s.fairness));
    const worst = rs.reduce<RoundStats | undefined>((a, b) => (!a || b.fairness > a.fairness ? b : a), undefined);
    const sections = rs.map((s) => s.waits.length);
    return {
      contender: f.name,
      driver: f.driver,
      sectionsPerSec: med((s) => s.sectionsPerSec, 0),
      waitP50Ms: med((s) => quantile(s.waits, 0.5)),
      waitP99Ms: med((s) => quantile(s.waits, 0.99)),
      handoffP50Ms: med((s) => quantile(s.handoffs, 0.5)),
      handoffP99Ms: med((s) => quantile(s.handoffs, 0.99)),
      longestWaitMs: round(Math.max(0, ...rs.map((s) => Math.max(0, ...s.waits)))),
      timeouts: rs.reduce((n, s) => n + s.timeouts, 0),
      perTaskMin: worst ? Math.min(...worst.sections) : 0,
      perTaskMax: worst ? Math.max(...worst.sections) : 0,
      fairness: worst && Number.isFinite(worst.fairness) ? round(worst.fairness) : null,
      fairnessMedian: Number.isFinite(fair) ? round(fair) : null,
      nodeCpuMsPer1k: round(median(rs.map((s, i) => (s.cpu.nodeMs / (sections[i] || 1)) * 1000)), 1),
      redisCpuMsPer1k: round(median(rs.map((s, i) => (s.cpu.redisMs / (sections[i] || 1)) * 1000)), 1),
      overlaps: rs.reduce((n, s) => n + s.overlaps, 0),
      settings: instances.get(f)?.[0]?.settings ?? {},
    };
  });
  const result: ContendedResult = { scenario, spec, rows, overlaps: rows.reduce((n, r) => n + r.overlaps, 0), keysLeft };
  ctx.record({ type: 'summary', ...result });
  // The next shape runs on the same server: start it without this one's keys (there are none
  // unless a contender leaked, which keysLeft reports).
  await ctx.server.flushall();
  return result;
}

function keyOf(f: ContenderFactory, scenario: string): string {
  return `bench:${scenario}:${f.name.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}`;
}

async function runOnce(conns: Contender[], key: string, spec: ContendedSpec, durationMs: number): Promise<RoundStats> {
  const started = performance.now();
  const deadline = started + durationMs;
  const waits: number[] = [];
  const handoffs: number[] = [];
  const sections = new Array<number>(spec.tasks).fill(0);
  const shape = shapeOf(spec, key);
  let overlaps = 0;
  let waiting = 0;
  let releasedAt = -1; // start of the last release that had a waiter behind it
  let timeouts = 0;
  const task = async (i: number): Promise<void> => {
    const conn = conns[i % conns.length] as Contender;
    // Stagger the start so tasks do not all fire in the same tick.
    await sleep(i % 3);
    while (performance.now() < deadline) {
      const asked = performance.now();
      waiting++;
      let release: (() => Promise<void>) | undefined;
      while (!release) {
        try {
          release = await shape.take(conn, i);
        } catch (error) {
          // An acquire timeout (or any failed attempt): count it and ask again; the wait runs on.
          timeouts++;
          if (timeouts > 10_000) throw error;
        }
      }
      waiting--;
      const got = performance.now();
      if (shape.enter(i)) overlaps++;
      waits.push(got - asked);
      if (releasedAt >= 0) handoffs.push(got - releasedAt);
      releasedAt = -1;
      await sleep(spec.holdMs);
      shape.leave(i);
      if (waiting > 0) releasedAt = performance.now();
      await release();
      sections[i] = (sections[i] as number) + 1;
      if (spec.thinkMs > 0) await sleep(spec.thinkMs);
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
    sections,
    timeouts,
    overlaps,
    cpu: { nodeMs: 0, redisMs: 0 },
  };
}
