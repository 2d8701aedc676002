/**
 * `@hilok/bench`: the benchmark suite behind `pnpm bench` — scenario functions, contender
 * adapters and the report/chart writers (the CLI is `src/cli.ts`).
 * @packageDocumentation
 */
export * from './contenders/index.js';
export { type ScenarioContext, type ResultLine, type Integrity } from './scenario.js';
export { uncontended } from './scenarios/uncontended.js';
export { parallelKeys, PARALLEL_TASKS } from './scenarios/parallel-keys.js';
export { runThroughput, type ThroughputResult, type ThroughputRow, type ThroughputSpec } from './scenarios/throughput.js';
export { contended, CONTENDED_DEFAULTS, CONTENDED_TIMEOUT_MS, LONGEST_WAIT_TARGET_MS, FAIRNESS_TARGET, type ContendedResult, type ContendedRow, type ContendedSpec } from './scenarios/contended.js';
export { processes, countOverlaps, PROCESSES_DEFAULTS, PROCESS_KINDS, type ProcessesResult, type ProcessesRow, type ProcessesSpec, type ProcessKind } from './scenarios/processes.js';
export { hierarchy, DEPTHS, DEPTH_TARGETS, type HierarchyResult, type HierarchyRow } from './scenarios/hierarchy.js';
export { memory, type MemoryResult, type MemoryRow } from './scenarios/memory.js';
export { barChart, type Bar } from './chart.js';
export { renderMarkdown, judgeTargets, type RunResults, type Target } from './report.js';
export { machineInfo, type MachineInfo } from './machine.js';
export { median, quantile } from './stats.js';
