import { parseInfo, type RedisServer } from '@hilok/testing';

/** The value at quantile `q` (0…1) of `values` (nearest rank); NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** The median of `values`; NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** CPU time used by this Node process and by redis-server, at one instant. */
export interface CpuSnapshot {
  /** process.cpuUsage(), user + system, µs. */
  nodeMicros: number;
  /** redis INFO cpu: used_cpu_user + used_cpu_sys, seconds. */
  redisSeconds: number;
}

/** CPU used between two snapshots, in ms. */
export interface CpuUsed {
  nodeMs: number;
  redisMs: number;
}

/** Takes a {@link CpuSnapshot} (one INFO cpu round trip on a side connection). */
export async function cpuSnapshot(server: RedisServer): Promise<CpuSnapshot> {
  const info = parseInfo(await server.command('INFO', 'cpu'));
  const usage = process.cpuUsage();
  return {
    nodeMicros: usage.user + usage.system,
    redisSeconds: Number(info.used_cpu_user ?? 0) + Number(info.used_cpu_sys ?? 0),
  };
}

/** CPU used from `before` to `after`. */
export function cpuUsed(before: CpuSnapshot, after: CpuSnapshot): CpuUsed {
  return {
    nodeMs: round((after.nodeMicros - before.nodeMicros) / 1000, 1),
    redisMs: round((after.redisSeconds - before.redisSeconds) * 1000, 1),
  };
}

/** `value` rounded to `digits` decimals. */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Resolves after `ms` ms (setTimeout: ≥ 1 ms, timer granularity of Node). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rotates `items` left by `by` (round-by-round interleaving: each contender goes first once). */
export function rotate<T>(items: readonly T[], by: number): T[] {
  const n = items.length;
  if (n === 0) return [];
  const k = ((by % n) + n) % n;
  return [...items.slice(k), ...items.slice(0, k)];
}
