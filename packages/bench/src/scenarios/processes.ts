import { fork, type ChildProcess } from 'node:child_process';
import { hrtime } from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseInfo } from '@hilok/testing';
import { IOREDIS_OPTIONS } from '../connections.js';
import { PEER_RETRY_DELAY_MS } from '../contenders/types.js';
import { reportOverlap, type Integrity, type ScenarioContext } from '../scenario.js';
import { median, quantile, round } from '../stats.js';
import { CONTENDED_TIMEOUT_MS } from './contended.js';

/** The lock kinds a child process can run. */
export type ProcessKind = 'mutex' | 'fair' | 'semaphore';

/** Display names of {@link ProcessKind}s. */
export const PROCESS_KINDS: Readonly<Record<ProcessKind, string>> = {
  mutex: 'hilok Mutex (ioredis)',
  fair: 'hilok FairLock (ioredis)',
  semaphore: 'redis-semaphore',
};

/** Shape of {@link processes}. */
export interface ProcessesSpec {
  /** Process counts, each a separate measurement (default 2, 8, 24, 64). */
  counts: readonly number[];
  /** Sections in all per measurement, at least (each process does ⌈total / P⌉, at least {@link ProcessesSpec.minPerProcess}). */
  totalSections: number;
  minPerProcess: number;
  holdMs: number;
  thinkMs: number;
  /** Acquire timeout of every process, ms (a timed-out acquire is counted and asked again; the wait runs on). */
  timeoutMs: number;
  kinds: readonly ProcessKind[];
}

/** Issue 22's shape: P = 2, 8, 24, 64 processes, 240 sections in all, 1 ms hold, 2 ms think. */
export const PROCESSES_DEFAULTS: ProcessesSpec = {
  counts: [2, 8, 24, 64],
  totalSections: 240,
  minPerProcess: 4,
  holdMs: 1,
  thinkMs: 2,
  timeoutMs: CONTENDED_TIMEOUT_MS,
  kinds: ['mutex', 'fair', 'semaphore'],
};

/** Issue 22's target: Redis scripts per section at any P (hilok's kinds). */
export const SCRIPTS_PER_SECTION_TARGET = 3;
/** Issue 22's target: sections/s at the largest P as a share of P = 2. */
export const PROCESS_SCALING_TARGET = 0.9;

/** One kind at one process count (figures over rounds: medians, the longest wait is the maximum). */
export interface ProcessesRow {
  contender: string;
  kind: ProcessKind;
  processes: number;
  /** Sections per round (all processes). */
  sections: number;
  sectionsPerSec: number;
  /** EVAL + EVALSHA (+ _RO, FCALL) calls on the server per section, from INFO commandstats deltas. */
  scriptsPerSection: number;
  /** Every command the server ran per section (INFO commandstats), the INFO calls themselves excluded. */
  commandsPerSection: number;
  /** SUBSCRIBE / SSUBSCRIBE / PSUBSCRIBE calls per section. */
  subscribesPerSection: number;
  /** PUBLISH / SPUBLISH calls per section. */
  publishesPerSection: number;
  waitP50Ms: number;
  waitP99Ms: number;
  longestWaitMs: number;
  timeouts: number;
  overlaps: number;
}

/** Result of {@link processes}. */
export interface ProcessesResult extends Integrity {
  scenario: 'processes';
  spec: ProcessesSpec;
  rounds: number;
  rows: ProcessesRow[];
}

interface Child {
  proc: ChildProcess;
  pending: ((m: Record<string, unknown>) => void) | undefined;
}

const WORKER = fileURLToPath(new URL('./processes-worker.mjs', import.meta.url));

function spawnChild(): Promise<Child> {
  return new Promise((resolve, reject) => {
    // No TypeScript loader: the worker is plain JS on the built packages.
    const proc = fork(WORKER, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child: Child = { proc, pending: undefined };
    proc.on('message', (m: Record<string, unknown>) => {
      if (m.type === 'started') return resolve(child);
      const p = child.pending;
      child.pending = undefined;
      p?.(m);
    });
    proc.once('error', reject);
    proc.once('exit', (code) => {
      const p = child.pending;
      child.pending = undefined;
      p?.({ type: 'error', message: `worker exited with ${code}` });
      reject(new Error(`worker exited with ${code} before it started`));
    });
  });
}

function ask(child: Child, message: Record<string, unknown>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    child.pending = (m) => (m.type === 'error' ? reject(new Error(`worker: ${String(m.message)}`)) : resolve(m));
    child.proc.send(message);
  });
}

/** Calls per command from INFO commandstats (`cmdstat_evalsha: calls=12,...` → evalsha: 12). */
async function commandCalls(ctx: ScenarioContext): Promise<Map<string, number>> {
  const info = parseInfo(await ctx.server.command('INFO', 'commandstats'));
  const calls = new Map<string, number>();
  for (const [k, v] of Object.entries(info)) {
    const m = /^cmdstat_(.+)$/.exec(k);
    const n = /calls=(\d+)/.exec(v);
    if (m && n) calls.set(m[1] as string, Number(n[1]));
  }
  return calls;
}

const SCRIPT_COMMANDS = ['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro'];
const SUBSCRIBE_COMMANDS = ['subscribe', 'ssubscribe', 'psubscribe'];
const PUBLISH_COMMANDS = ['publish', 'spublish'];

/**
 * One hot lock shared by many processes (issue 22): for each P in `spec.counts`, P child
 * processes (one ioredis client, one lock object and one waiter loop each) take one name
 * ⌈total / P⌉ times each, holding `holdMs` and thinking `thinkMs`, all on the scenario's one
 * redis-server. Per kind and P: sections/s (first attempt to last release, on the monotonic
 * clock all processes share), Redis scripts, commands, subscribes and publishes per section (INFO
 * commandstats deltas), waits (p50, p99, longest) and acquire timeouts; every pair of holds is
 * checked for overlap on the shared clock. The largest P's children are started once and the
 * first P of them serve each measurement.
 */
export async function processes(ctx: ScenarioContext, spec: ProcessesSpec = PROCESSES_DEFAULTS): Promise<ProcessesResult> {
  const rounds = Math.max(1, Math.min(ctx.rounds, 3));
  const maxP = Math.max(...spec.counts);
  const started = performance.now();
  const children = await Promise.all(Array.from({ length: maxP }, spawnChild));
  ctx.log(`  processes: ${maxP} workers started in ${Math.round(performance.now() - started)} ms`);
  const rows: ProcessesRow[] = [];
  let keysLeft = 0;
  try {
    for (const p of spec.counts) {
      const team = children.slice(0, p);
      const perProcess = Math.max(spec.minPerProcess, Math.ceil(spec.totalSections / p));
      for (const kind of spec.kinds) {
        const key = `bench:hot:${kind}`;
        await Promise.all(
          team.map((c) =>
            ask(c, { type: 'open', url: ctx.server.url, kind, key, ttl: 30_000, timeoutMs: spec.timeoutMs, retryIntervalMs: PEER_RETRY_DELAY_MS, ioredisOptions: IOREDIS_OPTIONS }),
          ),
        );
        const perRound: { sps: number; scripts: number; commands: number; subscribes: number; publishes: number; waits: number[]; timeouts: number; overlaps: number }[] = [];
        try {
          for (let r = 0; r < rounds; r++) {
            const before = await commandCalls(ctx);
            const baseNs = String(hrtime.bigint());
            const replies = await Promise.all(team.map((c) => ask(c, { type: 'run', key, sections: perProcess, holdMs: spec.holdMs, thinkMs: spec.thinkMs, baseNs })));
            const after = await commandCalls(ctx);
            const delta = (names: readonly string[]) => names.reduce((n, c) => n + (after.get(c) ?? 0) - (before.get(c) ?? 0), 0);
            const allCommands = [...after.keys()].filter((c) => c !== 'info');
            const sections = perProcess * p;
            const first = Math.min(...replies.map((m) => m.startNs as number));
            const last = Math.max(...replies.map((m) => m.endNs as number));
            const waits = replies.flatMap((m) => m.waits as number[]);
            const overlaps = countOverlaps(replies.map((m) => m.holds as number[]));
            reportOverlap(ctx, `processes (P = ${p})`, PROCESS_KINDS[kind], overlaps);
            const s = {
              sps: sections / ((last - first) / 1e9),
              scripts: delta(SCRIPT_COMMANDS) / sections,
              commands: delta(allCommands) / sections,
              subscribes: delta(SUBSCRIBE_COMMANDS) / sections,
              publishes: delta(PUBLISH_COMMANDS) / sections,
              waits,
              timeouts: replies.reduce((n, m) => n + (m.timeouts as number), 0),
              overlaps,
            };
            perRound.push(s);
            ctx.record({
              type: 'sample', scenario: 'processes', contender: PROCESS_KINDS[kind], processes: p, round: r, sections,
              sectionsPerSec: round(s.sps, 1), scriptsPerSection: round(s.scripts, 3), commandsPerSection: round(s.commands, 3),
              subscribesPerSection: round(s.subscribes, 3), publishesPerSection: round(s.publishes, 3),
              waitP50Ms: round(quantile(waits, 0.5)), waitP99Ms: round(quantile(waits, 0.99)), longestWaitMs: round(Math.max(...waits)),
              timeouts: s.timeouts, overlaps,
            });
          }
        } finally {
          await Promise.all(team.map((c) => ask(c, { type: 'close' }).catch(() => undefined)));
        }
        const med = (pick: (s: (typeof perRound)[number]) => number, digits = 2) => round(median(perRound.map(pick)), digits);
        rows.push({
          contender: PROCESS_KINDS[kind],
          kind,
          processes: p,
          sections: perProcess * p,
          sectionsPerSec: med((s) => s.sps, 0),
          scriptsPerSection: med((s) => s.scripts),
          commandsPerSection: med((s) => s.commands),
          subscribesPerSection: med((s) => s.subscribes, 3),
          publishesPerSection: med((s) => s.publishes),
          waitP50Ms: med((s) => quantile(s.waits, 0.5)),
          waitP99Ms: med((s) => quantile(s.waits, 0.99)),
          longestWaitMs: round(Math.max(...perRound.map((s) => Math.max(...s.waits)))),
          timeouts: perRound.reduce((n, s) => n + s.timeouts, 0),
          overlaps: perRound.reduce((n, s) => n + s.overlaps, 0),
        });
        keysLeft = Math.max(keysLeft, await ctx.server.dbsize());
        await ctx.server.flushall(); // the warm-up keys are released; nothing else should be there
      }
      ctx.log(`  processes: P = ${p} done`);
    }
  } finally {
    for (const c of children) c.proc.kill();
  }
  const result: ProcessesResult = { scenario: 'processes', spec, rounds, rows, overlaps: rows.reduce((n, r) => n + r.overlaps, 0), keysLeft };
  ctx.record({ type: 'summary', ...result });
  return result;
}

/**
 * Overlapping holds across all processes: `holds[i]` is process i's flattened [got, releasing]
 * pairs (ns, one clock). A true hold spans at least [got, releasing], so with mutual exclusion
 * no two such intervals intersect.
 */
export function countOverlaps(holds: readonly (readonly number[])[]): number {
  const all: [number, number][] = [];
  for (const list of holds) for (let i = 0; i + 1 < list.length; i += 2) all.push([list[i] as number, list[i + 1] as number]);
  all.sort((a, b) => a[0] - b[0]);
  let overlaps = 0;
  let end = Number.NEGATIVE_INFINITY;
  for (const [from, to] of all) {
    if (from < end) overlaps++;
    end = Math.max(end, to);
  }
  return overlaps;
}
