/**
 * `pnpm bench [--quick] [--rounds N] [--only a,b] [--docs | --no-docs]`: runs the benchmark on
 * throwaway redis-servers (`--only` takes scenario names: uncontended, parallel-keys, contended,
 * semaphore, multi, processes, hierarchy, redlock, memory, cluster) and writes the Markdown report, SVG charts and raw JSON lines.
 * Full mode writes docs/benchmarks.md (+ docs/benchmarks/*.svg); quick mode writes
 * packages/bench/results/quick.md unless `--docs` is given.
 * @packageDocumentation
 */
import { mkdirSync, writeFileSync, appendFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from '@hilok/testing';
import { barChart } from './chart.js';
import { ALL_CONTENDERS } from './contenders/index.js';
import { machineInfo } from './machine.js';
import { renderMarkdown, type RunResults } from './report.js';
import type { ResultLine, ScenarioContext } from './scenario.js';
import { CLUSTER_DEFAULTS, cluster } from './scenarios/cluster.js';
import { CONTENDED_DEFAULTS, MULTI_DEFAULTS, SEMAPHORE_DEFAULTS, contended } from './scenarios/contended.js';
import { hierarchy } from './scenarios/hierarchy.js';
import { memory } from './scenarios/memory.js';
import { parallelKeys } from './scenarios/parallel-keys.js';
import { PROCESSES_DEFAULTS, processes } from './scenarios/processes.js';
import { quorum } from './scenarios/quorum.js';
import { uncontended } from './scenarios/uncontended.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2).filter((a) => a !== '--');
const quick = args.includes('--quick');
const argValue = (name: string) => {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.split('=')[1] : args[i + 1];
};
const rounds = Number(argValue('--rounds') ?? (quick ? 2 : 5));
const only = argValue('--only')?.split(',');
const writeDocs = args.includes('--docs') || (!quick && !args.includes('--no-docs'));
// Full mode fits ~7 minutes on 2 cores: every contended shape runs at most 3 rounds (its rounds
// are not paired slices), and the process scenario at most 3 rounds per P and kind.
const durations = quick
  ? { uncontended: 300, parallelKeys: 300, contended: 800, hierarchy: 200, redlock: 300, memoryLocks: 200, cluster: 1000 }
  : { uncontended: 600, parallelKeys: 600, contended: 2000, hierarchy: 600, redlock: 600, memoryLocks: 1000, cluster: 2000 };
const contendedRounds = Math.min(rounds, 3);
const processCounts = quick ? [2, 8] : PROCESSES_DEFAULTS.counts;

const startedAt = new Date();
const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
const resultsDir = path.join(root, 'packages/bench/results');
mkdirSync(resultsDir, { recursive: true });
// Only a complete full run (the one docs/benchmarks.md cites) is a "full-" file worth keeping;
// quick and partial runs (--only, --no-docs) are scratch, ignored by git.
const runKind = quick ? 'quick' : only || !writeDocs ? 'partial' : 'full';
const rawFile = path.join(resultsDir, `${runKind}-${stamp}.jsonl`);
const record = (line: ResultLine) => appendFileSync(rawFile, `${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
const log = (message: string) => console.log(message);
const wanted = (name: string) => !only || only.includes(name);

const command = `pnpm bench${quick ? ' --quick' : ''}${argValue('--rounds') ? ` --rounds ${rounds}` : ''}${only ? ` --only ${only.join(',')}` : ''}`;
log(`hilok bench: ${command} → ${path.relative(root, rawFile)}`);

const results: Partial<RunResults> = {};
let machine: RunResults['machine'] | undefined;
/** Runs one scenario on its own throwaway redis-server. */
async function scenario<T>(name: string, durationMs: number, fn: (ctx: ScenarioContext) => Promise<T>, scenarioRounds = rounds): Promise<T | undefined> {
  if (!wanted(name)) return undefined;
  log(`▶ ${name}`);
  const server = await startRedis();
  try {
    machine ??= await machineInfo(server);
    return await fn({ server, contenders: ALL_CONTENDERS, rounds: scenarioRounds, durationMs, record, log });
  } finally {
    await server.stop();
  }
}

results.uncontended = await scenario('uncontended', durations.uncontended, uncontended);
results.parallelKeys = await scenario('parallel-keys', durations.parallelKeys, (ctx) => parallelKeys(ctx));
// Issue 17's two shapes, think 0 ms and think 2 ms, same run and server.
results.contended = await scenario('contended', durations.contended, async (ctx) => [await contended(ctx, { ...CONTENDED_DEFAULTS, thinkMs: 0 }), await contended(ctx, CONTENDED_DEFAULTS)], contendedRounds);
// Issue 19: a semaphore (limit 4) and two names at once, the contended shapes' measurements and targets.
results.semaphore = await scenario('semaphore', durations.contended, async (ctx) => [await contended(ctx, { ...SEMAPHORE_DEFAULTS, thinkMs: 0 }), await contended(ctx, SEMAPHORE_DEFAULTS)], contendedRounds);
results.multi = await scenario('multi', durations.contended, async (ctx) => [await contended(ctx, { ...MULTI_DEFAULTS, thinkMs: 0 }), await contended(ctx, MULTI_DEFAULTS)], contendedRounds);
results.processes = await scenario('processes', 0, (ctx) => processes(ctx, { ...PROCESSES_DEFAULTS, counts: processCounts }));
results.hierarchy = await scenario('hierarchy', durations.hierarchy, (ctx) => hierarchy(ctx));
results.quorum = await scenario('redlock', durations.redlock, (ctx) => quorum(ctx));
results.memory = await scenario('memory', 0, (ctx) => memory(ctx, durations.memoryLocks));
// Its own 3-master cluster (the scenario starts it), compared with the scenario's one server.
results.cluster = await scenario('cluster', durations.cluster, (ctx) => cluster(ctx, CLUSTER_DEFAULTS), Math.min(rounds, 3));

const all = [results.uncontended, results.parallelKeys, ...(results.contended ?? []), ...(results.semaphore ?? []), ...(results.multi ?? []), results.processes, results.hierarchy, results.quorum, results.memory, results.cluster].filter((r) => r !== undefined);
const docsDir = path.join(root, 'docs');
const mdFile = writeDocs ? path.join(docsDir, 'benchmarks.md') : path.join(resultsDir, 'quick.md');
const chartDir = writeDocs ? path.join(docsDir, 'benchmarks') : resultsDir;
mkdirSync(chartDir, { recursive: true });
const charts: string[] = [];
const thinkTwo = results.contended?.find((c) => c.spec.thinkMs === 2);
const thinkZero = results.contended?.find((c) => c.spec.thinkMs === 0);
if (thinkZero) {
  const note = `${command} · ${machine?.cpuCount ?? '?'} cpus · worst of ${contendedRounds} rounds · 16 tasks, 1 key, 2 connections, 1 ms hold, 0 ms think`;
  writeFileSync(path.join(chartDir, 'longest-wait.svg'), barChart('Longest single wait under contention (think 0 ms), lower is better', 'ms', thinkZero.rows.map((r) => ({ label: r.contender, value: r.longestWaitMs, accent: r.contender.startsWith('hilok') })), note));
  charts.push(path.join(path.relative(path.dirname(mdFile), chartDir), 'longest-wait.svg'));
}
if (thinkTwo) {
  const rows = thinkTwo.rows;
  const note = `${command} · ${machine?.cpuCount ?? '?'} cpus · medians of ${contendedRounds} rounds · 16 tasks, 1 key, 2 connections, 1 ms hold, 2 ms think`;
  writeFileSync(path.join(chartDir, 'handoff-p50.svg'), barChart('Hand-off latency p50 (release → next waiter holding), lower is better', 'ms', rows.map((r) => ({ label: r.contender, value: r.handoffP50Ms, accent: r.contender.startsWith('hilok') })), note));
  writeFileSync(path.join(chartDir, 'contended-throughput.svg'), barChart('Contended throughput, higher is better', 'sections/s', rows.map((r) => ({ label: r.contender, value: r.sectionsPerSec, accent: r.contender.startsWith('hilok') })), note));
  const rel = path.relative(path.dirname(mdFile), chartDir);
  charts.push(path.join(rel, 'handoff-p50.svg'), path.join(rel, 'contended-throughput.svg'));
}
const run: RunResults = {
  ...results,
  command,
  mode: quick ? 'quick' : 'full',
  rounds,
  durations: { uncontended: durations.uncontended, 'parallel keys': durations.parallelKeys, [`contended, semaphore, two names (${contendedRounds} rounds)`]: durations.contended, 'hierarchy': durations.hierarchy, redlock: durations.redlock },
  startedAt: startedAt.toISOString(),
  elapsedSeconds: (Date.now() - startedAt.getTime()) / 1000,
  machine: machine as RunResults['machine'],
  overlaps: all.reduce((n, r) => n + r.overlaps, 0),
  keysLeft: all.reduce((n, r) => n + r.keysLeft, 0),
  charts,
  rawFile: path.relative(root, rawFile),
};
record({ type: 'run', ...run });
writeFileSync(mdFile, renderMarkdown(run));
// The results folder keeps one run of each kind: this one replaces older files of its kind (a
// full run's predecessors stay in git history; docs/benchmarks.md cites only the newest).
for (const file of readdirSync(resultsDir)) {
  if (file.startsWith(`${runKind}-`) && file.endsWith('.jsonl') && path.join(resultsDir, file) !== rawFile) rmSync(path.join(resultsDir, file));
}
log(`\nwrote ${path.relative(root, mdFile)}, ${charts.length} chart(s), ${path.relative(root, rawFile)} in ${Math.round(run.elapsedSeconds)} s`);
if (run.overlaps > 0) {
  console.error(`\n!!! MUTUAL EXCLUSION VIOLATED ${run.overlaps} time(s): this run is INVALID !!!\n`);
  process.exitCode = 2;
}
if (run.keysLeft > 0) console.error(`warning: ${run.keysLeft} key(s) left in Redis after everything was released`);
process.exit();
