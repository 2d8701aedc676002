import { HiLok as IoHiLok, Mutex as IoMutex } from '@hilok/ioredis';
import { HiLok as NrHiLok, Mutex as NrMutex } from '@hilok/node-redis';
import { closeIoredis, closeNodeRedis, openIoredis, openNodeRedis } from '../connections.js';
import type { Driver } from '../contenders/types.js';
import { reportOverlap, type Integrity, type ScenarioContext } from '../scenario.js';
import { pairedRounds } from '../paired.js';
import { cpuSnapshot, cpuUsed, median, quantile, round, sleep } from '../stats.js';

/** The depths {@link hierarchy} measures. */
export const DEPTHS = [1, 8, 16] as const;

/** Targets of issue 17 §3: HiLok write at depth 1 and 8, uncontended, as a share of the Mutex on the same driver. */
export const DEPTH_TARGETS: Readonly<Record<number, number>> = { 1: 0.85, 8: 0.8 };

type AnyHiLok = InstanceType<typeof IoHiLok>;
type AnyMutex = InstanceType<typeof IoMutex>;

/** One driver's hierarchical results. */
export interface HierarchyRow {
  driver: Driver;
  /** Median write acquire+release pairs/s per depth (uncontended, one task). */
  opsPerSecByDepth: Record<number, number>;
  /** Median Mutex acquire+release pairs/s on the same driver (the baseline every depth is paired with). */
  mutexOpsPerSec: number;
  /** Per depth, median over rounds of ops(HiLok write at that depth) / ops(Mutex), interleaved in slices ({@link pairedRounds}). */
  ratioToMutex: Record<number, number>;
  /** Median over rounds of ratio(depth 16) / ratio(depth 1) (both paired with the Mutex). */
  ratio16to1: number;
  /** Mixed readers+writers over a tree: critical sections/s, wait p99 and longest wait (ms), overlaps seen. */
  mixedSectionsPerSec: number;
  mixedWaitP99Ms: number;
  mixedLongestWaitMs: number;
  mixedReadShare: number;
  overlaps: number;
}

/** Result of {@link hierarchy}. */
export interface HierarchyResult extends Integrity {
  scenario: 'hierarchy';
  rows: HierarchyRow[];
  settings: Record<string, unknown>;
}

async function openHiLok(driver: Driver, url: string): Promise<{ hilok: AnyHiLok; mutex: AnyMutex; close(): Promise<void> }> {
  if (driver === 'ioredis') {
    const client = await openIoredis(url);
    const hilok = new IoHiLok(client, { ttl: 30_000 });
    const mutex = new IoMutex(client, { ttl: 30_000 });
    return { hilok, mutex, close: async () => { await hilok.close(); await mutex.close(); await closeIoredis(client); } };
  }
  const client = await openNodeRedis(url);
  const hilok = new NrHiLok(client, { ttl: 30_000 }) as unknown as AnyHiLok;
  const mutex = new NrMutex(client, { ttl: 30_000 }) as unknown as AnyMutex;
  return { hilok, mutex, close: async () => { await hilok.close(); await mutex.close(); await closeNodeRedis(client); } };
}

function pathAt(depth: number, salt: string): string {
  if (depth === 0) return `m${salt}`; // the Mutex baseline's name
  return Array.from({ length: depth }, (_, i) => (i === 0 ? `h${salt}` : `n${i}`)).join('/');
}

/** Tree of the mixed part: root `shop`, 4 categories, 4 items each (depths 1–3). */
function treePaths(): string[] {
  const paths = ['shop'];
  for (let c = 0; c < 4; c++) {
    paths.push(`shop/c${c}`);
    for (let i = 0; i < 4; i++) paths.push(`shop/c${c}/i${i}`);
  }
  return paths;
}

function conflicts(a: { path: string; write: boolean }, b: { path: string; write: boolean }): boolean {
  if (!a.write && !b.write) return false;
  return a.path === b.path || a.path.startsWith(`${b.path}/`) || b.path.startsWith(`${a.path}/`);
}

/**
 * HiLok throughput by depth (a write acquire+release loop at depth 1, 8, 16 on each driver,
 * each depth interleaved in short slices with a Mutex acquire+release loop on the same client)
 * and a mixed readers+writers run over a 3-level tree: 16 tasks on 2
 * connections, 80 % reads, paths weighted towards the leaves, 1 ms hold, 1 ms think, every
 * section checked against every live one for a read/write or write/write conflict on the same
 * path or an ancestor.
 */
export async function hierarchy(ctx: ScenarioContext, drivers: readonly Driver[] = ['ioredis', 'node-redis']): Promise<HierarchyResult> {
  const rows: HierarchyRow[] = [];
  let overlapsTotal = 0;
  const byDepth = new Map<string, number[]>();
  const depthRatios = new Map<string, number[]>();
  const opened = await Promise.all(drivers.map((d) => openHiLok(d, ctx.server.url)));
  try {
    // depth 0 stands for the Mutex on the same client, the baseline of every depth.
    const combos = drivers.flatMap((d, di) => [0, ...DEPTHS].map((depth) => ({ d, di, depth })));
    for (const c of combos) await loop(opened[c.di]!, c.depth, pathAt(c.depth, 'w'), Math.min(100, ctx.durationMs / 4));
    // Each depth interleaved with the Mutex of its driver (pairedRounds): the ratio compares
    // slices taken under the same machine conditions.
    const mutexOf = (c: (typeof combos)[number]) => combos.find((o) => o.di === c.di && o.depth === 0) ?? c;
    const measure = async (c: (typeof combos)[number], r: number, durationMs: number): Promise<number> => {
      const before = await cpuSnapshot(ctx.server);
      const started = performance.now();
      const ops = await loop(opened[c.di]!, c.depth, pathAt(c.depth, String(r)), durationMs);
      const opsPerSec = (ops / (performance.now() - started)) * 1000;
      const k = `${c.d}:${c.depth}`;
      byDepth.set(k, [...(byDepth.get(k) ?? []), opsPerSec]);
      ctx.record({ type: 'sample', scenario: 'hierarchy-depth', driver: c.d, depth: c.depth === 0 ? 'mutex' : c.depth, round: r, ops, opsPerSec: round(opsPerSec, 1), cpu: cpuUsed(before, await cpuSnapshot(ctx.server)) });
      return opsPerSec;
    };
    const ratios = await pairedRounds({ rounds: ctx.rounds, durationMs: ctx.durationMs }, combos, mutexOf, measure, (r) => ctx.log(`  hierarchy depth: round ${r + 1}/${ctx.rounds} done`));
    for (const c of combos) depthRatios.set(`${c.d}:${c.depth}`, ratios.get(c) ?? []);
  } finally {
    for (const o of opened) await o.close().catch(() => undefined);
  }
  for (const d of drivers) {
    const conns = [await openHiLok(d, ctx.server.url), await openHiLok(d, ctx.server.url)];
    const mixed: { sps: number[]; p99: number[]; longest: number[]; reads: number[]; overlaps: number } = { sps: [], p99: [], longest: [], reads: [], overlaps: 0 };
    try {
      for (let r = 0; r < ctx.rounds; r++) {
        const m = await mixedRun(conns.map((c) => c.hilok), ctx.durationMs);
        mixed.sps.push(m.sectionsPerSec);
        mixed.p99.push(quantile(m.waits, 0.99));
        mixed.longest.push(Math.max(0, ...m.waits));
        mixed.reads.push(m.readShare);
        mixed.overlaps += m.overlaps;
        reportOverlap(ctx, 'hierarchy-mixed', `hilok (${d})`, m.overlaps);
        ctx.record({ type: 'sample', scenario: 'hierarchy-mixed', driver: d, round: r, sections: m.waits.length, sectionsPerSec: round(m.sectionsPerSec, 1), waitP99Ms: round(quantile(m.waits, 0.99)), longestWaitMs: round(Math.max(0, ...m.waits)), readShare: round(m.readShare), overlaps: m.overlaps });
      }
    } finally {
      for (const c of conns) await c.close().catch(() => undefined);
    }
    const ops = (depth: number) => byDepth.get(`${d}:${depth}`) ?? [];
    const toMutex = (depth: number) => depthRatios.get(`${d}:${depth}`) ?? [];
    overlapsTotal += mixed.overlaps;
    rows.push({
      driver: d,
      opsPerSecByDepth: Object.fromEntries(DEPTHS.map((depth) => [depth, round(median(ops(depth)), 0)])),
      mutexOpsPerSec: round(median(ops(0)), 0),
      ratioToMutex: Object.fromEntries(DEPTHS.map((depth) => [depth, round(median(toMutex(depth)), 3)])),
      ratio16to1: round(median(toMutex(16).map((x, i) => x / (toMutex(1)[i] ?? Number.NaN))), 3),
      mixedSectionsPerSec: round(median(mixed.sps), 0),
      mixedWaitP99Ms: round(median(mixed.p99)),
      mixedLongestWaitMs: round(Math.max(0, ...mixed.longest)),
      mixedReadShare: round(median(mixed.reads)),
      overlaps: mixed.overlaps,
    });
    ctx.log(`  hierarchy mixed (${d}) done`);
  }
  const keysLeft = await ctx.server.dbsize();
  const result: HierarchyResult = {
    scenario: 'hierarchy', rows, overlaps: overlapsTotal, keysLeft,
    settings: { lock: 'HiLok', ttl: 30_000, depthLoop: 'write(path) + release, 1 task, 1 connection; baseline: Mutex acquire(name) + release on the same client',  mixed: '16 tasks / 2 connections, 80 % read, leaves 16/21 · categories 4/21 · root 1/21, hold 1 ms, think 1 ms, wait: pubsub (default)' },
  };
  ctx.record({ type: 'summary', ...result });
  return result;
}

/** A write loop on `path` (depth ≥ 1), or a Mutex loop on the same name (depth 0), for `durationMs`; resolves the pairs done. */
async function loop(locks: { hilok: AnyHiLok; mutex: AnyMutex }, depth: number, path: string, durationMs: number): Promise<number> {
  const deadline = performance.now() + durationMs;
  let ops = 0;
  while (performance.now() < deadline) {
    const hold = depth === 0 ? await locks.mutex.acquire(path) : await locks.hilok.write(path);
    await hold.release();
    ops++;
  }
  return ops;
}

async function mixedRun(hiloks: AnyHiLok[], durationMs: number): Promise<{ sectionsPerSec: number; waits: number[]; readShare: number; overlaps: number }> {
  const paths = treePaths();
  const started = performance.now();
  const deadline = started + durationMs;
  const live = new Set<{ path: string; write: boolean }>();
  const waits: number[] = [];
  let reads = 0;
  let overlaps = 0;
  const task = async (i: number): Promise<void> => {
    const hilok = hiloks[i % hiloks.length] as AnyHiLok;
    await sleep(i % 3);
    while (performance.now() < deadline) {
      const path = paths[Math.floor(Math.random() * paths.length)] as string;
      const write = Math.random() < 0.2;
      const asked = performance.now();
      const hold = write ? await hilok.write(path) : await hilok.read(path);
      waits.push(performance.now() - asked);
      const me = { path, write };
      for (const other of live) if (conflicts(me, other)) overlaps++;
      live.add(me);
      if (!write) reads++;
      await sleep(1);
      live.delete(me);
      await hold.release();
      await sleep(1);
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, i) => task(i)));
  return { sectionsPerSec: (waits.length / (performance.now() - started)) * 1000, waits, readShare: reads / Math.max(1, waits.length), overlaps };
}
