import type { MachineInfo } from './machine.js';
import { FAIRNESS_TARGET, LONGEST_WAIT_TARGET_MS, type ContendedResult, type ContendedRow } from './scenarios/contended.js';
import { DEPTH_TARGETS, type HierarchyResult } from './scenarios/hierarchy.js';
import type { ClusterResult } from './scenarios/cluster.js';
import type { MemoryResult } from './scenarios/memory.js';
import { PROCESS_SCALING_TARGET, SCRIPTS_PER_SECTION_TARGET, type ProcessesResult } from './scenarios/processes.js';
import type { QuorumResult } from './scenarios/quorum.js';
import type { ThroughputResult } from './scenarios/throughput.js';

/** Everything one run produced. */
export interface RunResults {
  command: string;
  mode: 'full' | 'quick';
  rounds: number;
  durations: Record<string, number>;
  startedAt: string;
  elapsedSeconds: number;
  machine: MachineInfo;
  uncontended?: ThroughputResult;
  parallelKeys?: ThroughputResult;
  /** One result per contended shape (think 0 ms and think 2 ms). */
  contended?: ContendedResult[];
  /** The semaphore rows (limit 4, 16 tasks, one name), think 0 and 2 ms (issue 19). */
  semaphore?: ContendedResult[];
  /** The multi-name rows (16 tasks, each taking 2 of 4 names at once), think 0 and 2 ms (issue 19). */
  multi?: ContendedResult[];
  processes?: ProcessesResult;
  hierarchy?: HierarchyResult;
  memory?: MemoryResult;
  quorum?: QuorumResult;
  cluster?: ClusterResult;
  /** Sum of overlaps over every contended scenario. */
  overlaps: number;
  /** Keys left on the servers after everything was released (sum). */
  keysLeft: number;
  /** File names of the SVG charts, relative to the Markdown file. */
  charts: string[];
  /** Raw JSON lines file, relative to the repo root. */
  rawFile: string;
}

const fmt = (n: number | null | undefined, digits = 2) => (n === null || n === undefined || !Number.isFinite(n) ? 'n/a' : n.toLocaleString('en-US', { maximumFractionDigits: digits }));
const mark = (ok: boolean) => (ok ? 'met' : '**missed**');
const bold = (name: string) => (name.startsWith('hilok') ? `**${name}**` : name);
const isHilokRow = (row: { contender: string; probe?: boolean }) => row.contender.startsWith('hilok') && !row.probe;
const isPeerRow = (row: { contender: string; probe?: boolean }) => !row.contender.startsWith('hilok') && !row.contender.startsWith('raw') && !row.probe;

/** Uncontended targets (issue 17 §2): ≥ 0.97× raw for the Mutex kinds, ≥ 0.9× for FairLock. */
export const UNCONTENDED_RAW_TARGET = 0.97;
export const FAIR_UNCONTENDED_RAW_TARGET = 0.9;
/** 64 tasks on their own keys: ≥ 0.9× raw (the Mutex kinds), ≥ 1.0× for HiLok on its own trees (issue 17 §3). */
export const PARALLEL_RAW_TARGET = 0.9;
export const TREES_PARALLEL_RAW_TARGET = 1.0;
/** Redlock on 3 instances, 1 task: ≥ 0.95× the raw parallel limit (and ≥ the best peer). */
export const REDLOCK_RAW_TARGET = 0.95;
/** Contended throughput as a multiple of the best peer's, by think time (issue 17 §1). */
export const contendedThroughputTarget = (thinkMs: number): number => (thinkMs === 0 ? 1 : 1.5);

/** One judged target: what it asks, what this run measured, whether it is met. */
export interface Target {
  area: string;
  target: string;
  measured: string;
  met: boolean;
}

function uncontendedTarget(row: { contender: string }): number {
  return row.contender.startsWith('hilok fair') ? FAIR_UNCONTENDED_RAW_TARGET : UNCONTENDED_RAW_TARGET;
}

function parallelTarget(row: { contender: string }): number {
  return row.contender.startsWith('hilok HiLok') ? TREES_PARALLEL_RAW_TARGET : PARALLEL_RAW_TARGET;
}

/** The shapes judged like the contended Mutex rows: the contended ones, then the semaphore and multi-name rows. */
const contendedShapes = (res: RunResults): ContendedResult[] => [...(res.contended ?? []), ...(res.semaphore ?? []), ...(res.multi ?? [])];

/** A contended shape's area in the targets table. */
function shapeArea(c: ContendedResult): string {
  const lock = c.spec.lock;
  if (lock?.kind === 'semaphore') return `Semaphore (limit ${lock.limit}), think ${c.spec.thinkMs} ms`;
  if (lock?.kind === 'multi') return `Two names at once (of ${lock.names}), think ${c.spec.thinkMs} ms`;
  return `Contended, think ${c.spec.thinkMs} ms`;
}

/** A contended shape's section heading and the sentence saying what its tasks lock. */
function shapeHeading(c: ContendedResult): { title: string; what: string } {
  const lock = c.spec.lock;
  const base = `${c.spec.tasks} tasks over ${c.spec.connections} connections, ${c.spec.holdMs} ms hold, ${c.spec.thinkMs} ms think`;
  if (lock?.kind === 'semaphore') {
    return {
      title: `## Semaphore: ${base}, one name of limit ${lock.limit}`,
      what: `Each task takes one permit of one semaphore of size ${lock.limit} (hilok's \`Semaphore\`, redis-semaphore's \`Semaphore\`); an overlap is a moment with more than ${lock.limit} holders. Same measurements and targets as the contended Mutex rows.`,
    };
  }
  if (lock?.kind === 'multi') {
    return {
      title: `## Two names at once: ${base}, pairs of ${lock.names} names`,
      what: `Task i takes names i mod ${lock.names} and i + 1 mod ${lock.names} as one lock, all or none (odd tasks list them in the opposite order), so each pair overlaps its two neighbours and at most ${Math.floor(lock.names / 2)} tasks hold at once: hilok's \`mutex.acquire([a, b])\`, node-redlock's \`redlock.acquire([a, b], ttl)\` (redlock v5 and its fork), redlock-universal's \`LockManager.acquireBatch([a, b])\`. An overlap is a name held twice. Same measurements and targets as the contended Mutex rows.`,
    };
  }
  return { title: `## Contended: ${c.spec.tasks} tasks on one key over ${c.spec.connections} connections, ${c.spec.holdMs} ms hold, ${c.spec.thinkMs} ms think`, what: '' };
}

function bestBy<T>(rows: readonly T[], value: (r: T) => number): T | undefined {
  return rows.reduce<T | undefined>((a, b) => (a === undefined || value(b) > value(a) ? b : a), undefined);
}

/** Every target of issues 17 and 22 this run can judge, in report order. */
export function judgeTargets(res: RunResults): Target[] {
  const out: Target[] = [];
  for (const c of contendedShapes(res)) {
    const area = shapeArea(c);
    const peer = bestBy(c.rows.filter(isPeerRow), (r) => r.sectionsPerSec);
    const need = contendedThroughputTarget(c.spec.thinkMs);
    for (const h of c.rows.filter(isHilokRow)) {
      out.push({ area, target: `${h.contender}: longest wait ≤ ${LONGEST_WAIT_TARGET_MS} ms`, measured: `${fmt(h.longestWaitMs, 1)} ms`, met: h.longestWaitMs <= LONGEST_WAIT_TARGET_MS });
      out.push({ area, target: `${h.contender}: busiest ÷ least busy task ≤ ${FAIRNESS_TARGET}`, measured: h.fairness === null ? '∞ (a task did no section)' : `${fmt(h.fairness)} (${h.perTaskMin}–${h.perTaskMax} sections)`, met: h.fairness !== null && h.fairness <= FAIRNESS_TARGET });
      out.push({ area, target: `${h.contender}: no acquire timeout`, measured: `${h.timeouts}`, met: h.timeouts === 0 });
      if (peer) out.push({ area, target: `${h.contender}: sections/s ≥ ${need}× the best peer`, measured: `${fmt(h.sectionsPerSec / peer.sectionsPerSec)}× (${fmt(h.sectionsPerSec, 0)} vs ${peer.contender} ${fmt(peer.sectionsPerSec, 0)})`, met: h.sectionsPerSec >= need * peer.sectionsPerSec });
    }
  }
  if (res.uncontended) {
    const peer = bestBy(res.uncontended.rows.filter(isPeerRow), (r) => r.ratioToRaw);
    for (const h of res.uncontended.rows.filter(isHilokRow)) {
      const need = uncontendedTarget(h);
      out.push({ area: 'Uncontended', target: `${h.contender}: ≥ ${need}× raw ${h.driver}`, measured: `${fmt(h.ratioToRaw, 3)}×`, met: h.ratioToRaw >= need });
      if (peer && !h.contender.startsWith('hilok fair')) {
        out.push({ area: 'Uncontended', target: `${h.contender}: ratio to raw ≥ the best peer's`, measured: `${fmt(h.ratioToRaw, 3)} vs ${fmt(peer.ratioToRaw, 3)} (${peer.contender})`, met: h.ratioToRaw >= peer.ratioToRaw });
      }
    }
  }
  if (res.parallelKeys) {
    for (const h of res.parallelKeys.rows.filter(isHilokRow)) {
      const need = parallelTarget(h);
      out.push({ area: `${res.parallelKeys.tasks} tasks, own keys`, target: `${h.contender}${h.contender.startsWith('hilok HiLok') ? ' (own trees)' : ''}: ≥ ${need}× raw ${h.driver}`, measured: `${fmt(h.ratioToRaw, 3)}×`, met: h.ratioToRaw >= need });
    }
  }
  if (res.hierarchy) {
    for (const r of res.hierarchy.rows) {
      for (const [depth, need] of Object.entries(DEPTH_TARGETS)) {
        const ratio = r.ratioToMutex[Number(depth)];
        if (ratio === undefined) continue;
        out.push({ area: 'HiLok', target: `HiLok write depth ${depth} (${r.driver}): ≥ ${need}× the Mutex`, measured: `${fmt(ratio, 3)}×`, met: ratio >= need });
      }
    }
  }
  if (res.quorum) {
    const one = res.quorum.rows.filter((r) => r.tasks === 1 && !r.probe);
    const peer = bestBy(one.filter((r) => !r.contender.startsWith('hilok') && !r.contender.startsWith('raw')), (r) => r.ratioToRaw);
    for (const h of one.filter((r) => r.contender.startsWith('hilok'))) {
      out.push({ area: `Redlock, ${res.quorum.instances} instances`, target: `${h.contender}, 1 task: ≥ ${REDLOCK_RAW_TARGET}× raw parallel`, measured: `${fmt(h.ratioToRaw, 3)}×`, met: h.ratioToRaw >= REDLOCK_RAW_TARGET });
      if (peer) out.push({ area: `Redlock, ${res.quorum.instances} instances`, target: `${h.contender}, 1 task: ratio ≥ the best peer's`, measured: `${fmt(h.ratioToRaw, 3)} vs ${fmt(peer.ratioToRaw, 3)} (${peer.contender})`, met: h.ratioToRaw >= peer.ratioToRaw });
    }
  }
  if (res.processes) {
    const area = 'Processes on one name';
    const rows = res.processes.rows.filter((r) => r.kind !== 'semaphore');
    for (const r of rows) {
      out.push({ area, target: `${r.contender}, P = ${r.processes}: ≤ ${SCRIPTS_PER_SECTION_TARGET} scripts per section`, measured: fmt(r.scriptsPerSection), met: r.scriptsPerSection <= SCRIPTS_PER_SECTION_TARGET });
      out.push({ area, target: `${r.contender}, P = ${r.processes}: longest wait ≤ ${LONGEST_WAIT_TARGET_MS} ms`, measured: `${fmt(r.longestWaitMs, 1)} ms`, met: r.longestWaitMs <= LONGEST_WAIT_TARGET_MS });
    }
    for (const kind of new Set(rows.map((r) => r.kind))) {
      const mine = rows.filter((r) => r.kind === kind).sort((a, b) => a.processes - b.processes);
      const lo = mine[0];
      const hi = mine[mine.length - 1];
      if (!lo || !hi || lo === hi) continue;
      out.push({ area, target: `${hi.contender}: sections/s at P = ${hi.processes} ≥ ${PROCESS_SCALING_TARGET}× P = ${lo.processes}`, measured: `${fmt(hi.sectionsPerSec / lo.sectionsPerSec)}× (${fmt(hi.sectionsPerSec, 0)} vs ${fmt(lo.sectionsPerSec, 0)})`, met: hi.sectionsPerSec >= PROCESS_SCALING_TARGET * lo.sectionsPerSec });
    }
  }
  return out;
}

function throughputTable(r: ThroughputResult, targetOf: (row: { contender: string }) => number): string[] {
  const lines = ['| contender | driver | acquire+release/s (median) | × raw of its driver | target | Node CPU ms / 1k | redis CPU ms / 1k |', '| --- | --- | ---: | ---: | --- | ---: | ---: |'];
  for (const row of r.rows) {
    const hilok = isHilokRow(row);
    const t = hilok ? `≥ ${targetOf(row)} — ${mark(row.ratioToRaw >= targetOf(row))}` : '';
    lines.push(`| ${hilok ? `**${row.contender}**` : row.contender} | ${row.driver} | ${fmt(row.opsPerSec, 0)} | ${fmt(row.ratioToRaw, 3)} | ${t} | ${fmt(row.nodeCpuMsPer1k, 1)} | ${fmt(row.redisCpuMsPer1k, 1)} |`);
  }
  return lines;
}

function contendedTable(c: ContendedResult): string[] {
  const peer = bestBy(c.rows.filter(isPeerRow), (r) => r.sectionsPerSec);
  const lines = [
    `| contender | sections/s | × best peer | **longest wait ms** | wait p50 ms | wait p99 ms | timeouts | sections per task (min–max) | fairness | hand-off p50 ms | hand-off p99 ms | Node CPU ms / 1k | redis CPU ms / 1k | overlaps |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const over = (r: ContendedRow) => (isHilokRow(r) && r.longestWaitMs > LONGEST_WAIT_TARGET_MS ? `**${fmt(r.longestWaitMs, 1)}**` : fmt(r.longestWaitMs, 1));
  for (const r of c.rows) {
    const fair = r.fairness === null ? '∞ (a task did none)' : fmt(r.fairness);
    lines.push(`| ${bold(r.contender)} | ${fmt(r.sectionsPerSec, 0)} | ${peer ? fmt(r.sectionsPerSec / peer.sectionsPerSec) : 'n/a'} | ${over(r)} | ${fmt(r.waitP50Ms)} | ${fmt(r.waitP99Ms)} | ${r.timeouts} | ${r.perTaskMin}–${r.perTaskMax} | ${fair} | ${fmt(r.handoffP50Ms)} | ${fmt(r.handoffP99Ms)} | ${fmt(r.nodeCpuMsPer1k, 1)} | ${fmt(r.redisCpuMsPer1k, 1)} | ${r.overlaps === 0 ? '0' : `**${r.overlaps} — INVALID**`} |`);
  }
  return lines;
}

/** The Markdown report (docs/benchmarks.md). */
export function renderMarkdown(res: RunResults): string {
  const out: string[] = [];
  const m = res.machine;
  out.push('# Benchmarks', '');
  out.push('<!-- Generated by packages/bench (`pnpm bench`); edit the generator, not this file. -->', '');
  if (res.overlaps > 0) out.push(`> **THIS RUN IS INVALID: mutual exclusion was violated ${res.overlaps} time(s).** See the tables below.`, '');
  out.push(`Command: \`${res.command}\` (${res.mode} mode, ${res.rounds} rounds, ${Object.entries(res.durations).map(([k, v]) => `${k} ${v} ms`).join(', ')} per contender and round) — started ${res.startedAt}, took ${Math.round(res.elapsedSeconds)} s.`, '');
  if (res.mode === 'quick') out.push('> **Quick mode**: fewer rounds and shorter measurements than a full run — read every figure as indicative only.', '');
  out.push(`Machine: ${m.os}; ${m.cpuCount} × ${m.cpus}; ${m.memoryGb} GB${m.loadAverage ? `; load average at the start ${m.loadAverage.join(' / ')} (1 / 5 / 15 min; other work on the machine)` : ''}; Node ${m.node}; redis-server ${m.redis} (throwaway, started by the suite, \`--save '' --appendonly no\`, on 127.0.0.1).`, '');
  out.push(`Packages: ${Object.entries(m.packages).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
  out.push('How to read it: the machine is shared and noisy, so each contender is reported as a **ratio to the raw limit of its driver measured right next to it** (`SET key token NX PX` + an `EVALSHA` compare-and-delete, no library): every round, each contender runs interleaved with its raw limit in 10 slices (A B B A …, so slow drifts in machine speed hit both sides alike), and the table shows the median over rounds of those paired ratios; the order of the contenders is rotated round by round. Under contention the worst case is judged, not a percentile: the **longest single wait** of any task in any round. Absolute numbers are for this machine only. ' + (res.mode === 'quick' ? `Raw JSON lines (every sample, CPU, settings) were written to \`${res.rawFile}\`; a quick run's file is not kept in the tree.` : 'Raw JSON lines (every sample, CPU, settings): [`' + res.rawFile + '`](../' + res.rawFile + ').'), '');
  out.push(`Integrity: mutual-exclusion overlaps in all contended scenarios: **${res.overlaps}**; keys left in Redis after everything was released: **${res.keysLeft}**.`, '');
  const targets = judgeTargets(res);
  if (targets.length) {
    const met = targets.filter((t) => t.met).length;
    out.push('## Targets', '', `Issues 17 and 22, judged on this run: **${met} of ${targets.length} met**.`, '');
    out.push('| area | target | measured | |', '| --- | --- | --- | --- |');
    for (const t of targets) out.push(`| ${t.area} | ${t.target} | ${t.measured} | ${mark(t.met)} |`);
    out.push('');
  }
  if (res.charts.length) {
    out.push(...res.charts.map((c) => `![${c}](${c})`), '');
  }
  const reading: string[] = [];
  if (res.uncontended) {
    out.push('## Uncontended acquire + release (1 task, 1 key, 1 connection)', '', ...throughputTable(res.uncontended, uncontendedTarget), '');
    const peer = bestBy(res.uncontended.rows.filter(isPeerRow), (r) => r.ratioToRaw);
    for (const row of res.uncontended.rows.filter((r) => r.contender.startsWith('hilok'))) {
      if (row.probe) {
        reading.push(`Uncontended, ${row.contender} — the same Lua scripts with none of hilok's JavaScript — runs at **${fmt(row.ratioToRaw, 3)}×** the raw ${row.driver} loop: that is the server-side share of hilok's gap; the rest, down to hilok (${row.driver}), is the library's own work per lock.`);
        continue;
      }
      const need = uncontendedTarget(row);
      reading.push(`Uncontended, ${row.contender} runs at **${fmt(row.ratioToRaw, 3)}×** the raw ${row.driver} loop (target ≥ ${need}: ${mark(row.ratioToRaw >= need)})${peer ? `; the best peer, ${peer.contender}, at ${fmt(peer.ratioToRaw, 3)}×` : ''}.`);
    }
  }
  if (res.parallelKeys) {
    out.push(`## ${res.parallelKeys.tasks} concurrent tasks on their own keys, one connection`, '', 'HiLok runs here with write holds on one-segment paths, one tree per task.', '', ...throughputTable(res.parallelKeys, parallelTarget), '');
    for (const row of res.parallelKeys.rows.filter(isHilokRow)) {
      const need = parallelTarget(row);
      reading.push(`With ${res.parallelKeys.tasks} tasks pipelining on one connection, ${row.contender} reaches **${fmt(row.ratioToRaw, 3)}×** raw ${row.driver} (target ≥ ${need}: ${mark(row.ratioToRaw >= need)}).`);
    }
  }
  for (const c of contendedShapes(res)) {
    const heading = shapeHeading(c);
    out.push(heading.title, '');
    if (heading.what) out.push(heading.what, '');
    out.push(
      `Longest wait = the longest single wait of any task in any round (from its first attempt to holding, across acquire timeouts) — **the figure judged**, target ≤ ${LONGEST_WAIT_TARGET_MS} ms for hilok's rows. Every contender gets an acquire timeout of ${c.spec.timeoutMs ?? 'no'} ms; a timed-out task asks again at once (timeouts = how often, all rounds). Sections per task and fairness (busiest ÷ least busy task, 1 is even, target ≤ ${FAIRNESS_TARGET}) are from the round with the worst fairness; the other figures are medians over rounds. Hand-off = from the start of a release that had a waiter to the next holder holding. Raw contenders do not wait, so they are not in this table. Polling peers retry every 10 ms (±5 ms jitter for the Redlocks); hilok's locks run with their default options (Mutex, ReentrantMutex, ReadWriteLock, HiLok, FairLock wait on pub/sub, SpinLock polls).`,
      '',
      ...contendedTable(c),
      '',
    );
    const peers = c.rows.filter(isPeerRow);
    const bt = bestBy(peers, (r) => r.sectionsPerSec);
    const bw = bestBy(peers, (r) => -r.longestWaitMs);
    if (bt && bw) {
      for (const h of c.rows.filter(isHilokRow)) {
        reading.push(`${shapeArea(c)}, ${h.contender}: **${fmt(h.sectionsPerSec / bt.sectionsPerSec)}×** the best peer's throughput (${bt.contender}, ${fmt(bt.sectionsPerSec, 0)}/s; target ≥ ${contendedThroughputTarget(c.spec.thinkMs)}×), longest wait **${fmt(h.longestWaitMs, 1)} ms** (target ≤ ${LONGEST_WAIT_TARGET_MS}: ${mark(h.longestWaitMs <= LONGEST_WAIT_TARGET_MS)}; the best peer's ${fmt(bw.longestWaitMs, 1)} ms, ${bw.contender}), fairness ${h.fairness === null ? '∞' : fmt(h.fairness)} (${h.perTaskMin}–${h.perTaskMax} sections per task), ${h.timeouts} acquire timeout(s), hand-off p50 ${fmt(h.handoffP50Ms)} ms.`);
      }
    }
  }
  if (res.processes) {
    const p = res.processes;
    out.push(`## One hot name shared by many processes (P = ${p.spec.counts.join(', ')})`, '');
    out.push(
      `P child processes, each with one ioredis client, one lock object and one waiter loop, take one name ⌈${p.spec.totalSections} ÷ P⌉ times each (at least ${p.spec.minPerProcess}), holding ${p.spec.holdMs} ms and thinking ${p.spec.thinkMs} ms, on one redis-server; acquire timeout ${p.spec.timeoutMs} ms as above; ${p.rounds} round(s) per row (medians; longest wait = the maximum). Scripts, commands, subscribes and publishes per section are deltas of \`INFO commandstats\` over the run divided by its sections; commands include those a script runs inside Redis. Targets (issue 22, hilok's kinds): ≤ ${SCRIPTS_PER_SECTION_TARGET} scripts per section at every P, sections/s at the largest P ≥ ${PROCESS_SCALING_TARGET}× P = ${Math.min(...p.spec.counts)}, longest wait ≤ ${LONGEST_WAIT_TARGET_MS} ms. Overlaps are checked on the monotonic clock all processes share.`,
      '',
    );
    out.push('| contender | P | sections | sections/s | **scripts / section** | commands / section | subscribes / section | publishes / section | wait p50 ms | wait p99 ms | **longest wait ms** | timeouts | overlaps |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of p.rows) {
      out.push(`| ${bold(r.contender)} | ${r.processes} | ${r.sections} | ${fmt(r.sectionsPerSec, 0)} | ${fmt(r.scriptsPerSection)} | ${fmt(r.commandsPerSection)} | ${fmt(r.subscribesPerSection, 3)} | ${fmt(r.publishesPerSection)} | ${fmt(r.waitP50Ms)} | ${fmt(r.waitP99Ms)} | ${fmt(r.longestWaitMs, 1)} | ${r.timeouts} | ${r.overlaps === 0 ? '0' : `**${r.overlaps} — INVALID**`} |`);
    }
    out.push('');
    for (const kind of new Set(p.rows.map((r) => r.kind))) {
      const mine = p.rows.filter((r) => r.kind === kind).sort((a, b) => a.processes - b.processes);
      const lo = mine[0];
      const hi = mine[mine.length - 1];
      if (!lo || !hi) continue;
      reading.push(`${lo.contender} on one name from P = ${lo.processes} to ${hi.processes} processes: ${fmt(lo.scriptsPerSection)} → **${fmt(hi.scriptsPerSection)}** scripts per section, ${fmt(lo.sectionsPerSec, 0)} → ${fmt(hi.sectionsPerSec, 0)} sections/s, longest wait ${fmt(lo.longestWaitMs, 1)} → ${fmt(hi.longestWaitMs, 1)} ms.`);
    }
  }
  if (res.hierarchy) {
    const h = res.hierarchy;
    out.push('## Hierarchical lock (HiLok)', '', `Write acquire+release loop at each depth (1 task, 1 connection), each depth interleaved in slices with a Mutex acquire+release loop on the same client (× Mutex: median over rounds of the paired ratios; targets depth 1 ≥ ${DEPTH_TARGETS[1]}×, depth 8 ≥ ${DEPTH_TARGETS[8]}×), and a mixed readers+writers run over a 21-node tree (16 tasks, 2 connections, 80 % reads, 1 ms hold, 1 ms think, every section checked for a conflicting live hold). No peer has a hierarchical lock, so there is no peer column.`, '');
    out.push('| driver | Mutex /s | depth 1 /s | × Mutex | depth 8 /s | × Mutex | depth 16 /s | × Mutex | depth16 / depth1 | mixed sections/s | mixed wait p99 ms | mixed longest wait ms | read share | overlaps |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const r of h.rows) {
      const d = r.opsPerSecByDepth;
      const x = r.ratioToMutex;
      out.push(`| ${r.driver} | ${fmt(r.mutexOpsPerSec, 0)} | ${fmt(d[1], 0)} | ${fmt(x[1], 3)} | ${fmt(d[8], 0)} | ${fmt(x[8], 3)} | ${fmt(d[16], 0)} | ${fmt(x[16], 3)} | ${fmt(r.ratio16to1, 3)} | ${fmt(r.mixedSectionsPerSec, 0)} | ${fmt(r.mixedWaitP99Ms)} | ${fmt(r.mixedLongestWaitMs, 1)} | ${fmt(r.mixedReadShare)} | ${r.overlaps === 0 ? '0' : `**${r.overlaps} — INVALID**`} |`);
      reading.push(`HiLok on ${r.driver}: write at depth 1 runs at **${fmt(x[1], 3)}×** the Mutex (target ≥ ${DEPTH_TARGETS[1]}: ${mark((x[1] ?? 0) >= (DEPTH_TARGETS[1] ?? 0))}), depth 8 at **${fmt(x[8], 3)}×** (target ≥ ${DEPTH_TARGETS[8]}: ${mark((x[8] ?? 0) >= (DEPTH_TARGETS[8] ?? 0))}); depth 16 ÷ depth 1 = ${fmt(r.ratio16to1, 3)}.`);
    }
    out.push('');
  }
  if (res.quorum) {
    const q = res.quorum;
    out.push(`## Redlock on ${q.instances} independent instances`, '');
    out.push('Acquire+release loops with 1 task, and with 16 tasks on their own keys (one ioredis client per instance and contender). Ratio to the **raw parallel limit** of the same round: `SET NX PX` sent to every instance at once and held as soon as a majority said OK, then the compare-and-delete sent to every instance at once and done as soon as a majority answered, with no validity arithmetic and no retry.', '');
    out.push('| contender | tasks | acquire+release/s (median) | × raw parallel | target | Node CPU ms / 1k | redis CPU ms / 1k (all instances) |', '| --- | ---: | ---: | ---: | --- | ---: | ---: |');
    for (const r of q.rows) {
      if (r.probe) {
        out.push(`| ${r.contender} (probe) | ${r.tasks} | ${fmt(r.opsPerSec, 0)} | ${fmt(r.ratioToRaw, 3)} | | ${fmt(r.nodeCpuMsPer1k, 1)} | ${fmt(r.redisCpuMsPer1k, 1)} |`);
        reading.push(`Redlock, ${r.contender} — hilok's mutex scripts in the raw parallel pattern, with none of its JavaScript — runs at **${fmt(r.ratioToRaw, 3)}×** the raw parallel limit with ${r.tasks} task: that is the scripts' share of hilok's gap; the rest, down to hilok redlock, is the quorum engine's.`);
        continue;
      }
      const hilok = r.contender.startsWith('hilok');
      out.push(`| ${hilok ? `**${r.contender}**` : r.contender} | ${r.tasks} | ${fmt(r.opsPerSec, 0)} | ${fmt(r.ratioToRaw, 3)} | ${hilok ? `≥ ${REDLOCK_RAW_TARGET} — ${mark(r.ratioToRaw >= REDLOCK_RAW_TARGET)}` : ''} | ${fmt(r.nodeCpuMsPer1k, 1)} | ${fmt(r.redisCpuMsPer1k, 1)} |`);
      if (hilok) reading.push(`Redlock on ${q.instances} instances, ${r.tasks} task(s): ${r.contender} runs at **${fmt(r.ratioToRaw, 3)}×** the raw parallel limit (target ≥ ${REDLOCK_RAW_TARGET}: ${mark(r.ratioToRaw >= REDLOCK_RAW_TARGET)}).`);
    }
    out.push('');
  }
  if (res.memory) {
    const mm = res.memory;
    out.push(`## Memory per held lock (${mm.count} held at once, ioredis)`, '', '| kind | Redis used_memory per lock (bytes) | keys per lock | keys left after release |', '| --- | ---: | ---: | ---: |');
    for (const r of mm.rows) out.push(`| ${r.kind} | ${fmt(r.bytesPerLock, 0)} | ${fmt(r.keysPerLock)} | ${r.keysLeft} |`);
    out.push('');
    const mutexRow = mm.rows.find((r) => r.kind === 'hilok Mutex');
    const rawRow = mm.rows.find((r) => r.kind.startsWith('raw'));
    if (mutexRow && rawRow) reading.push(`Memory: a held hilok Mutex costs ${fmt(mutexRow.bytesPerLock, 0)} B in Redis vs ${fmt(rawRow.bytesPerLock, 0)} B for a raw SET NX key; every kind left ${mm.rows.every((r) => r.keysLeft === 0) ? 'no key' : 'keys (see table)'} after release.`);
  }
  if (res.cluster) out.push(...clusterSection(res.cluster, reading));
  out.push('## Reading', '', ...reading.map((r) => `* ${r}`), '');
  out.push('## Settings of every contender', '', 'Every contender gets its own connection(s) with the same driver settings (below, per contender). Scenario-specific options:', '');
  const settings = new Map<string, unknown>();
  for (const r of [...(res.uncontended?.rows ?? []), ...(res.parallelKeys?.rows ?? [])]) if (!settings.has(`${r.contender} — not waiting (uncontended, parallel keys)`)) settings.set(`${r.contender} — not waiting (uncontended, parallel keys)`, r.settings);
  for (const r of res.contended?.[0]?.rows ?? []) settings.set(`${r.contender} — waiting (contended)`, r.settings);
  for (const r of res.semaphore?.[0]?.rows ?? []) settings.set(`${r.contender} — waiting (semaphore rows)`, r.settings);
  for (const r of res.multi?.[0]?.rows ?? []) settings.set(`${r.contender} — waiting (two names at once)`, r.settings);
  if (res.hierarchy) settings.set('HiLok (hierarchy)', res.hierarchy.settings);
  for (const r of res.quorum?.rows.filter((row) => row.tasks === 1) ?? []) settings.set(`${r.contender} — Redlock scenario`, r.settings);
  if (res.processes) settings.set('processes on one name (each child)', { 'hilok Mutex / FairLock': 'new Mutex|FairLock(client, { ttl: 30000 }); acquire(name, { timeout })', 'redis-semaphore': `new Mutex(client, name, { lockTimeout: 30000, acquireTimeout: ${res.processes.spec.timeoutMs}, retryInterval: 10 })`, connection: 'ioredis, the options above' });
  out.push('```json', JSON.stringify(Object.fromEntries(settings), null, 2), '```', '');
  return out.join('\n');
}

/** The 10 000-names-over-a-cluster scenario (see scenarios/cluster.ts and docs/sizing.md). */
function clusterSection(c: ClusterResult, reading: string[]): string[] {
  const out = [`## ${c.spec.names.toLocaleString('en-US')} names over a 3-master cluster (ioredis)`, ''];
  out.push(
    `${c.spec.tasks} tasks on one ioredis \`Cluster\` client (one process) acquire and release names taken in turn from ${c.spec.names.toLocaleString('en-US')}, against the same loop on one redis-server, interleaved; ${c.rounds} round(s) of ${c.durationMs} ms (medians). All servers and the client share this machine's cores, so the cluster cannot show its hardware scaling here: per-master script shares and Redis CPU per 1 000 pairs are the figures that carry over. Wake-ups ${c.sharded ? 'went over sharded pub/sub (SPUBLISH, the default on Redis ≥ 7)' : 'used plain PUBLISH'}.`,
    '',
    '| target | pairs/s | scripts / pair | Redis CPU ms / 1k pairs | Node CPU ms / 1k pairs |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const r of c.throughput) out.push(`| ${r.target} | ${fmt(r.opsPerSec, 0)} | ${fmt(r.scriptsPerOp)} | ${fmt(r.redisCpuMsPer1k, 1)} | ${fmt(r.nodeCpuMsPer1k, 1)} |`);
  const masters = c.throughput.find((r) => r.masters.length > 0)?.masters ?? [];
  out.push('', '| master | slots | names on it | share of script calls | its Redis CPU ms / 1k pairs |', '| --- | ---: | ---: | ---: | ---: |');
  masters.forEach((m, i) => out.push(`| ${i + 1} | ${m.slots} | ${m.names} | ${fmt(m.scriptShare * 100, 1)} % | ${fmt(m.redisCpuMsPer1k, 1)} |`));
  out.push('', `Held at once (${c.spec.held.toLocaleString('en-US')} per kind), used_memory growth over the masters:`, '', '| kind | bytes per lock | keys per lock | growth per master (MB) |', '| --- | ---: | ---: | --- |');
  for (const r of c.memory) out.push(`| ${r.kind} | ${fmt(r.bytesPerLock, 0)} | ${fmt(r.keysPerLock)} | ${r.perMasterBytes.map((b) => fmt(b / 1e6, 2)).join(' / ')} |`);
  const w = c.waiters;
  if (w) {
    out.push('', `Waiters: ${w.locks} locks held, ${w.waiters / w.locks} waiters on each (${w.waiters} in one process), ${c.spec.waitMs} ms of waiting, then the holders release and every waiter takes its lock in turn.`, '', '| bytes per waiter | scripts per waiter per second while waiting | subscribes per lock | all served after (ms) | SPUBLISH | PUBLISH |', '| ---: | ---: | ---: | ---: | ---: | ---: |');
    out.push(`| ${fmt(w.bytesPerWaiter, 0)} | ${fmt(w.scriptsPerWaiterPerSec)} | ${fmt(w.subscribesPerLock)} | ${fmt(w.drainMs, 1)} | ${w.spublish} | ${w.publish} |`);
  }
  out.push('');
  const single = c.throughput.find((r) => r.target === 'one redis-server');
  const spread = masters.map((m) => fmt(m.scriptShare * 100, 0)).join(' / ');
  if (single) reading.push(`Cluster: ${c.spec.names.toLocaleString('en-US')} names spread ${spread} % of the work over 3 masters; one redis-server ran ${fmt(single.opsPerSec, 0)} acquire+release pairs/s at ${fmt(single.redisCpuMsPer1k, 1)} ms of Redis CPU per 1 000.`);
  return out;
}
