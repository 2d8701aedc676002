// The benchmark's smoke path: every scenario with tiny parameters and every contender.
// Asserts structure only (finite numbers, mutual exclusion held, no keys left) — never speed.
import { startRedis, type RedisServer } from '@hilok/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CONTENDERS } from '../src/contenders/index.js';
import { barChart } from '../src/chart.js';
import { renderMarkdown } from '../src/report.js';
import type { ScenarioContext } from '../src/scenario.js';
import { CONTENDED_DEFAULTS, contended, MULTI_DEFAULTS, SEMAPHORE_DEFAULTS } from '../src/scenarios/contended.js';
import { countOverlaps, processes, PROCESSES_DEFAULTS } from '../src/scenarios/processes.js';
import { hierarchy } from '../src/scenarios/hierarchy.js';
import { memory } from '../src/scenarios/memory.js';
import { parallelKeys } from '../src/scenarios/parallel-keys.js';
import { quorum } from '../src/scenarios/quorum.js';
import { QUORUM_CONTENDERS } from '../src/contenders/quorum.js';
import { uncontended } from '../src/scenarios/uncontended.js';
import { runsIn, type ContenderFactory } from '../src/contenders/types.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

const ctx = (durationMs: number): ScenarioContext => ({ server, contenders: ALL_CONTENDERS, rounds: 1, durationMs, record: () => undefined, log: () => undefined });
const finite = (n: number) => expect(Number.isFinite(n), `${n} is finite`).toBe(true);

describe('bench smoke (structure only, never speed)', () => {
  it('uncontended and parallel keys: every contender, finite ratios, no keys left', async () => {
    for (const result of [await uncontended(ctx(60)), await parallelKeys(ctx(60), 8)]) {
      expect(result.rows.map((r) => r.contender).sort()).toEqual(ALL_CONTENDERS.filter((c) => runsIn(c, result.scenario)).map((c) => c.name).sort());
      expect(result.rows.map((r) => r.contender)).toContain('redlock-universal (ioredis)');
      for (const row of result.rows) {
        finite(row.opsPerSec);
        finite(row.ratioToRaw);
      }
      expect(result.keysLeft).toBe(0);
    }
  });

  it('contended, think 0 and 1 ms: every waiting contender and lock kind, worst-case figures, mutual exclusion held', async () => {
    for (const thinkMs of [0, 1]) {
      const result = await contended(ctx(120), { tasks: 4, connections: 2, holdMs: 1, thinkMs, timeoutMs: 5_000 });
      expect(result.rows.map((r) => r.contender).sort()).toEqual(ALL_CONTENDERS.filter((c) => !c.raw && !c.probe && runsIn(c, 'contended')).map((c) => c.name).sort());
      expect(result.rows.map((r) => r.contender)).toEqual(expect.arrayContaining(['redlock-universal (ioredis)', 'hilok SpinLock (ioredis)', 'hilok HiLok write (ioredis)']));
      expect(result.overlaps).toBe(0);
      for (const row of result.rows) {
        finite(row.sectionsPerSec);
        finite(row.waitP99Ms);
        finite(row.longestWaitMs);
        expect(row.longestWaitMs).toBeGreaterThanOrEqual(row.waitP99Ms);
        expect(row.perTaskMax).toBeGreaterThanOrEqual(row.perTaskMin);
        expect(Number.isInteger(row.timeouts)).toBe(true);
      }
      expect(result.keysLeft).toBe(0);
    }
  });

  it('semaphore (limit 4) and two names at once: the contenders of each kind, worst-case figures, the kind\'s exclusion held, no keys left', async () => {
    for (const [spec, kind, names] of [
      [SEMAPHORE_DEFAULTS, 'semaphore', ['hilok Semaphore (ioredis)', 'redis-semaphore']],
      [MULTI_DEFAULTS, 'multi', ['hilok (ioredis)', 'redlock v5', '@sesamecare-oss/redlock', 'redlock-universal (ioredis)']],
    ] as const) {
      for (const thinkMs of [0, 1]) {
        const result = await contended(ctx(120), { ...spec, tasks: 6, thinkMs, timeoutMs: 5_000 });
        expect(result.scenario).toBe(kind);
        expect(result.rows.map((r) => r.contender).sort()).toEqual(ALL_CONTENDERS.filter((c) => !c.raw && !c.probe && runsIn(c, kind)).map((c) => c.name).sort());
        expect(result.rows.map((r) => r.contender)).toEqual(expect.arrayContaining([...names]));
        expect(result.overlaps).toBe(0);
        for (const row of result.rows) {
          expect(row.perTaskMin, `${row.contender}: every task got in`).toBeGreaterThan(0);
          finite(row.sectionsPerSec);
          finite(row.longestWaitMs);
          expect(row.longestWaitMs).toBeGreaterThanOrEqual(row.waitP99Ms);
          expect(Number.isInteger(row.timeouts)).toBe(true);
        }
        expect(result.keysLeft).toBe(0);
        expect(await server.dbsize()).toBe(0);
      }
    }
  });

  it('the exclusion checks can fail: a contender that never waits overlaps in the mutex, semaphore and two-name shapes', async () => {
    const free = async () => async () => undefined;
    const never: ContenderFactory = { name: 'never waits', driver: 'ioredis', raw: false, kinds: ['semaphore', 'multi'], create: async () => ({ settings: {}, acquire: free, acquireSemaphore: free, acquireAll: free, close: async () => undefined }) };
    const only = { ...ctx(40), contenders: [never] };
    for (const spec of [{ ...CONTENDED_DEFAULTS }, SEMAPHORE_DEFAULTS, MULTI_DEFAULTS]) {
      expect((await contended(only, { ...spec, tasks: 6, thinkMs: 0 })).overlaps, spec.lock?.kind ?? 'mutex').toBeGreaterThan(0);
    }
  });

  it('processes on one name: child processes, scripts per section from INFO commandstats, no overlap', async () => {
    const result = await processes(ctx(0), { ...PROCESSES_DEFAULTS, counts: [2], totalSections: 12, minPerProcess: 2 });
    expect(result.rows.map((r) => r.kind).sort()).toEqual([...PROCESSES_DEFAULTS.kinds].sort());
    for (const row of result.rows) {
      expect(row.sections).toBe(12);
      finite(row.sectionsPerSec);
      finite(row.longestWaitMs);
      expect(row.commandsPerSection).toBeGreaterThan(0);
    }
    // hilok's kinds run scripts; every section needs at least its acquire.
    for (const row of result.rows.filter((r) => r.kind !== 'semaphore')) expect(row.scriptsPerSection).toBeGreaterThanOrEqual(1);
    expect(result.overlaps).toBe(0);
    expect(result.keysLeft).toBe(0);
    expect(countOverlaps([[0, 10, 20, 30], [10, 20]])).toBe(0);
    expect(countOverlaps([[0, 10], [9, 20]])).toBe(1);
  });

  it('redlock on 3 instances: every quorum contender at 1 and N tasks (the probe at 1), finite ratios, no keys left', async () => {
    const result = await quorum(ctx(60), 4);
    // The probe runs at 1 task only (it has no batching to measure at N).
    const expected = QUORUM_CONTENDERS.flatMap((c) => (c.probe ? [`${c.name}/1`] : [`${c.name}/1`, `${c.name}/4`]));
    expect(result.rows.map((r) => `${r.contender}/${r.tasks}`).sort()).toEqual(expected.sort());
    for (const row of result.rows) {
      finite(row.opsPerSec);
      finite(row.ratioToRaw);
    }
    expect(result.keysLeft).toBe(0);
  });

  it('hierarchy and memory: finite numbers, no overlap, no keys left', async () => {
    const h = await hierarchy(ctx(40), ['ioredis']);
    expect(h.overlaps).toBe(0);
    for (const row of h.rows) {
      finite(row.ratio16to1);
      finite(row.ratioToMutex[1] as number);
      finite(row.ratioToMutex[8] as number);
      finite(row.mixedSectionsPerSec);
    }
    expect(h.keysLeft).toBe(0);
    const m = await memory(ctx(0), 5);
    for (const row of m.rows) finite(row.bytesPerLock);
    expect(m.keysLeft).toBe(0);
    expect(await server.dbsize()).toBe(0);
  });

  it('renders the Markdown report from every scenario', async () => {
    const results = {
      uncontended: await uncontended(ctx(40)),
      contended: [await contended(ctx(60), { tasks: 4, connections: 2, holdMs: 1, thinkMs: 0, timeoutMs: 5_000 })],
      semaphore: [await contended(ctx(60), { ...SEMAPHORE_DEFAULTS, tasks: 6, thinkMs: 0, timeoutMs: 5_000 })],
      multi: [await contended(ctx(60), { ...MULTI_DEFAULTS, tasks: 6, thinkMs: 0, timeoutMs: 5_000 })],
      processes: await processes(ctx(0), { ...PROCESSES_DEFAULTS, counts: [2], kinds: ['mutex', 'semaphore'], totalSections: 6, minPerProcess: 2 }),
      quorum: await quorum(ctx(40), 2),
      memory: await memory(ctx(0), 3),
    };
    const md = renderMarkdown({
      ...results,
      command: 'pnpm bench --smoke',
      mode: 'quick',
      rounds: 1,
      durations: { uncontended: 40 },
      startedAt: new Date(0).toISOString(),
      elapsedSeconds: 1,
      machine: { os: 'test', cpuCount: 1, cpus: 'cpu', memoryGb: 1, loadAverage: [0, 0, 0], node: process.version, redis: 'test', packages: {} },
      overlaps: 0,
      keysLeft: 0,
      charts: [],
      rawFile: 'results.jsonl',
    });
    for (const heading of ['# Benchmarks', '## Targets', '## Uncontended', '## Contended', '## One hot name shared by many processes', '## Redlock on 3 independent instances', '## Memory per held lock', '## Reading']) expect(md).toContain(heading);
    expect(md).toMatch(/\| Contended, think 0 ms \| hilok \(ioredis\): longest wait ≤ 250 ms \| [\d.,]+ ms \| (met|\*\*missed\*\*) \|/);
    expect(md).toContain('redlock-universal');
    expect(md).toMatch(/\| Semaphore \(limit 4\), think 0 ms \| hilok Semaphore \(ioredis\): sections\/s ≥ 1× the best peer \| .* \(.* vs redis-semaphore .*\) \| (met|\*\*missed\*\*) \|/);
    expect(md).toMatch(/\| Two names at once \(of 4\), think 0 ms \| hilok \(ioredis\): no acquire timeout \| \d+ \| (met|\*\*missed\*\*) \|/);
    for (const heading of ['## Semaphore: ', '## Two names at once: ']) expect(md).toContain(heading);
  });

  it('draws an SVG bar chart', () => {
    const svg = barChart('t', 'ms', [{ label: 'a<b', value: 1 }, { label: 'c', value: Number.NaN }]);
    expect(svg).toMatch(/^<svg[^>]*xmlns/);
    expect(svg).toContain('a&lt;b');
  });
});
