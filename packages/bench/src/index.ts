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
export { contended, CONTENDED_DEFAULTS, type ContendedResult, type ContendedRow, type ContendedSpec } from './scenarios/contended.js';
export { hierarchy, DEPTHS, type HierarchyResult, type HierarchyRow } from './scenarios/hierarchy.js';
export { memory, type MemoryResult, type MemoryRow } from './scenarios/memory.js';
export { barChart, type Bar } from './chart.js';
export { renderMarkdown, type RunResults } from './report.js';
export { machineInfo, type MachineInfo } from './machine.js';
export { median, quantile } from './stats.js';
