/**
 * `@hilok/testing`: the real-Redis test harness. Throwaway redis-server processes, N
 * independent instances (Redlock), a real Redis Cluster, a Sentinel group, and a
 * fault-injecting TCP proxy — all on 127.0.0.1, all cleaned up (even after a crash: every
 * server still running when the process exits is SIGKILLed).
 *
 * Vitest hook helpers live in `@hilok/testing/vitest`, so this entry point never loads vitest.
 *
 * @packageDocumentation
 */
export {
  startRedis,
  startRedisInstances,
  type RedisServer,
  type RedisInstances,
  type StartRedisOptions,
  type TlsEndpoint,
  type RestartOptions,
  type StopOptions,
} from './server.js';
export { startCluster, keySlot, type Cluster, type NodeAddress, type StartClusterOptions } from './cluster.js';
export { startSentinelGroup, type SentinelGroup, type StartSentinelOptions } from './sentinel.js';
export { startProxy, type TcpProxy, type ProxyDirection, type StartProxyOptions } from './proxy.js';
export { useRedis, useRedisInstances, useCluster } from './use.js';
export {
  sendCommand,
  sendCommandTo,
  encodeCommand,
  parseInfo,
  RedisReplyError,
  type RespArg,
  type RespValue,
  type RespTarget,
} from './resp.js';
export { freePort, waitFor, delay, type WaitForOptions } from './util.js';
export { redisServerBin, redisCliBin, dockerAvailable } from './binaries.js';
