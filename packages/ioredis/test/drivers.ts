import { Cluster as Cluster5, Redis as Redis5 } from 'ioredis';
import { Cluster as Cluster6, Redis as Redis6 } from 'ioredis6';
import { Cluster as ClusterValkey, Redis as RedisValkey } from 'iovalkey';
import type { DriverCase, NodeAddress } from '@hilok/contract-tests';
import { createIoredisAdapter, type IoredisClient } from '@hilok/ioredis';
import { closeGracefully } from '@hilok/core/internal';

type AnyClient = Redis5 | Cluster5 | Redis6 | Cluster6 | RedisValkey | ClusterValkey;

async function ready<T extends AnyClient>(client: T): Promise<T> {
  await (client as Redis5).ping();
  return client;
}

/** Connection errors surface through rejected commands; don't let ioredis log them. */
function quiet<T extends AnyClient>(client: T): T {
  (client as Redis5).on('error', () => undefined);
  return client;
}

/** ioredis clients of one major, as a driver case for the contract suites. */
function ioredisCase(
  name: string,
  Redis: new (urlOrOptions: string | object, options?: object) => AnyClient,
  Cluster: new (nodes: NodeAddress[], options?: object) => AnyClient,
  options: object = {},
  extra: Partial<DriverCase<AnyClient>> = {},
): DriverCase<AnyClient> {
  return {
    name,
    ...extra,
    client: (url) => ready(quiet(new Redis(url, { ...options, maxRetriesPerRequest: 2 }))),
    // No PING (ready() sends one): the managed suite's ACL users may not run it.
    tlsClient: async (url, ca) => {
      const client = quiet(new Redis(url, { ...options, tls: { ca }, lazyConnect: true, maxRetriesPerRequest: 2 }));
      await (client as Redis5).connect();
      return client;
    },
    clusterClient: (nodes) => ready(quiet(new Cluster(nodes, { redisOptions: options }))),
    // failoverDetector: ioredis follows +switch-master; without it a forced failover leaves the
    // client on the demoted master (now a read-only replica).
    sentinelClient: ({ masterName, sentinels }) =>
      ready(quiet(new Redis({ ...options, sentinels, name: masterName, maxRetriesPerRequest: 20, failoverDetector: true } as never))),
    connectingClient: (url) => quiet(new Redis(url, options)),
    closeClient: (client) => closeGracefully(() => client.quit(), () => client.disconnect()),
    adapter: (client, options) => createIoredisAdapter(client as unknown as IoredisClient, options),
  };
}

export const ioredis5 = ioredisCase('ioredis 5', Redis5, Cluster5);
export const ioredis6 = ioredisCase('ioredis 6 (RESP3)', Redis6, Cluster6);
export const ioredis6Resp2 = ioredisCase('ioredis 6 (RESP2)', Redis6, Cluster6, { protocol: 2 });
/**
 * iovalkey, the Valkey project's fork of ioredis 5 (same API), through @hilok/ioredis. Its
 * Cluster has no `shardedSubscribers` option: wake-ups on a cluster use plain PUBLISH.
 */
export const iovalkey = ioredisCase('iovalkey', RedisValkey, ClusterValkey, {}, { shardedPubSub: false });
