import { startCluster, type Cluster, type StartClusterOptions } from './cluster.js';
import { ExternalRedisServer } from './external.js';
import { startRedis, startRedisInstances, type RedisInstances, type RedisServer, type StartRedisOptions } from './server.js';

/**
 * The Redis server a test file should use: the one in `REDIS_URL` if that is set (nothing is
 * started, `stop()` leaves it running, `kill`/`pause`/`restart` throw "not available with
 * REDIS_URL"), else a fresh one from {@link startRedis}. The caller stops it, typically in
 * `afterAll`; `@hilok/testing/vitest` has helpers that register the hooks.
 *
 * Tests that need process control (kill, restart, pause) should call {@link startRedis}
 * instead, which always starts a server of their own.
 */
export async function useRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const url = process.env.REDIS_URL;
  if (url) {
    const server = new ExternalRedisServer(url);
    await server.command('PING'); // fail here, clearly, rather than in the first test
    return server;
  }
  return startRedis(options);
}

/**
 * `n` independent servers for Redlock tests; the caller stops them with `stopAll()`. Always
 * local (one `REDIS_URL` cannot provide n independent servers): same as {@link startRedisInstances}.
 */
export function useRedisInstances(n: number, options: StartRedisOptions = {}): Promise<RedisInstances> {
  return startRedisInstances(n, options);
}

/** A Redis Cluster for the caller to stop: same as {@link startCluster}. */
export function useCluster(options: StartClusterOptions = {}): Promise<Cluster> {
  return startCluster(options);
}
