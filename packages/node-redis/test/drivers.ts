import { createClient as createClient5, createCluster as createCluster5, createSentinel as createSentinel5 } from 'redis';
import { createClient as createClient6, createCluster as createCluster6, createSentinel as createSentinel6 } from 'redis6';
import { createClient as createClient4, createCluster as createCluster4 } from 'redis4';
import type { DriverCase } from '@hilok/contract-tests';
import { createNodeRedisAdapter, type NodeRedisClient } from '@hilok/node-redis';
import { closeGracefully } from '@hilok/core/internal';

interface Factories {
  createClient: (options: { url: string; RESP?: 2 | 3; socket?: { tls: true; ca: string } }) => unknown;
  createCluster: (options: { rootNodes: { url: string }[]; RESP?: 2 | 3 }) => unknown;
  /** Absent in node-redis 4, which has no Sentinel client. */
  createSentinel?: (options: { name: string; sentinelRootNodes: { host: string; port: number }[]; RESP?: 2 | 3 }) => unknown;
}

/** node-redis clients of one major and protocol, as a driver case for the contract suites. */
function nodeRedisCase(name: string, { createClient, createCluster, createSentinel }: Factories, RESP: 2 | 3 | undefined, extra: Partial<DriverCase<NodeRedisClient>> = {}): DriverCase<NodeRedisClient> {
  const connect = async (client: NodeRedisClient): Promise<NodeRedisClient> => {
    client.on('error', () => undefined);
    await client.connect();
    return client;
  };
  return {
    name,
    ...extra,
    client: (url) => connect(createClient({ url, RESP }) as NodeRedisClient),
    tlsClient: (url, ca) => connect(createClient({ url, RESP, socket: { tls: true, ca } }) as NodeRedisClient),
    clusterClient: (nodes) => connect(createCluster({ rootNodes: nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })), RESP }) as NodeRedisClient),
    // A sentinel client has no duplicate(): the adapter uses its own pub/sub connection.
    ...(createSentinel && {
      sentinelClient: ({ masterName, sentinels }) => connect(createSentinel({ name: masterName, sentinelRootNodes: sentinels, RESP }) as NodeRedisClient),
    }),
    connectingClient: (url) => {
      const client = createClient({ url, RESP }) as NodeRedisClient;
      client.on('error', () => undefined);
      client.connect().catch(() => undefined);
      return client;
    },
    closeClient: (client) =>
      closeGracefully(async () => (client.close ? client.close() : client.quit?.()), () => (client.destroy ? client.destroy() : client.disconnect?.())),
    adapter: (client, options) => createNodeRedisAdapter(client, options),
  };
}

const v5 = { createClient: createClient5, createCluster: createCluster5, createSentinel: createSentinel5 } as unknown as Factories;
const v6 = { createClient: createClient6, createCluster: createCluster6, createSentinel: createSentinel6 } as unknown as Factories;

export const nodeRedis5Resp2 = nodeRedisCase('node-redis 5 (RESP2)', v5, 2);
export const nodeRedis5Resp3 = nodeRedisCase('node-redis 5 (RESP3)', v5, 3);
export const nodeRedis6Resp3 = nodeRedisCase('node-redis 6 (RESP3)', v6, 3);
export const nodeRedis6Resp2 = nodeRedisCase('node-redis 6 (RESP2)', v6, 2);

/**
 * node-redis 4 (4.7): RESP2 only (it sends no HELLO; `RESP` is not an option), no
 * createSentinel, `quit()` / `disconnect()` instead of `close()` / `destroy()`. Its cluster
 * client has `sSubscribe`, so sharded pub/sub is on by default as on 5 and 6.
 */
const v4 = { createClient: createClient4, createCluster: createCluster4 } as unknown as Factories;
export const nodeRedis4 = nodeRedisCase('node-redis 4', v4, undefined);
