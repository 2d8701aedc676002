/**
 * Vitest conveniences, imported as `@hilok/testing/vitest` so that plain scripts (benchmarks,
 * fault suites run with tsx) importing `@hilok/testing` never load vitest. Each helper
 * registers `beforeAll` (start) and `afterAll` (stop) in the current describe block and
 * returns a handle that becomes usable once `beforeAll` has run — i.e. inside tests and later
 * hooks, not at collection time.
 *
 * @example
 * import { vitestRedis } from '@hilok/testing/vitest';
 * const redis = vitestRedis();
 * it('works', async () => expect(await redis.dbsize()).toBe(0));
 */
import { afterAll, beforeAll } from 'vitest';
import type { Cluster, StartClusterOptions } from './cluster.js';
import { startSentinelGroup, type SentinelGroup, type StartSentinelOptions } from './sentinel.js';
import type { RedisInstances, RedisServer, StartRedisOptions } from './server.js';
import { useCluster, useRedis, useRedisInstances } from './use.js';

/** Hook timeout: starting a cluster or sentinels on a loaded CI box can take a while. */
const HOOK_TIMEOUT = 60_000;

/**
 * A stand-in for a value that `beforeAll` fills: property reads are forwarded to it (methods
 * bound), and reading before it exists throws a message that says why.
 */
function lazy<T extends object>(what: string): { handle: T; set(value: T | undefined): void } {
  let value: T | undefined;
  const handle = new Proxy({} as T, {
    get(_, prop) {
      if (!value) {
        throw new Error(`${what} is not started yet: use it inside tests or hooks, not while the describe block is collected`);
      }
      const member = Reflect.get(value, prop, value) as unknown;
      return typeof member === 'function' ? (member as (...a: unknown[]) => unknown).bind(value) : member;
    },
    has(_, prop) {
      return value !== undefined && prop in value;
    },
  });
  return { handle, set: (v) => (value = v) };
}

/** Registers start/stop hooks around a resource and returns its lazy handle. */
function withHooks<T extends object>(what: string, start: () => Promise<T>, stop: (value: T) => Promise<void>): T {
  const { handle, set } = lazy<T>(what);
  let value: T | undefined;
  beforeAll(async () => {
    value = await start();
    set(value);
  }, HOOK_TIMEOUT);
  afterAll(async () => {
    if (value) await stop(value);
    set(undefined);
  }, HOOK_TIMEOUT);
  return handle;
}

/** {@link useRedis} for the current describe block: started in `beforeAll`, stopped in `afterAll`. */
export function vitestRedis(options: StartRedisOptions = {}): RedisServer {
  return withHooks('vitestRedis() server', () => useRedis(options), (s) => s.stop());
}

/** {@link useRedisInstances} for the current describe block. */
export function vitestRedisInstances(n: number, options: StartRedisOptions = {}): RedisInstances {
  return withHooks('vitestRedisInstances() servers', () => useRedisInstances(n, options), (s) => s.stopAll());
}

/** {@link useCluster} for the current describe block. */
export function vitestCluster(options: StartClusterOptions = {}): Cluster {
  return withHooks('vitestCluster() cluster', () => useCluster(options), (c) => c.stop());
}

/** {@link startSentinelGroup} for the current describe block. */
export function vitestSentinel(options: StartSentinelOptions = {}): SentinelGroup {
  return withHooks('vitestSentinel() group', () => startSentinelGroup(options), (g) => g.stop());
}
