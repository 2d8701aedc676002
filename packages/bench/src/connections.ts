import { Redis, type RedisOptions } from 'ioredis';
import { createClient } from 'redis';
import { GlideClient, type GlideClientConfiguration } from '@valkey/valkey-glide';

/**
 * ioredis connection options every ioredis contender uses (the driver's defaults, spelled out
 * so the report shows them).
 */
export const IOREDIS_OPTIONS: RedisOptions = {
  enableAutoPipelining: false,
  enableOfflineQueue: true,
  maxRetriesPerRequest: 20,
  connectTimeout: 10_000,
};

/** node-redis connection options every node-redis contender uses (the driver's defaults, RESP2). */
export const NODE_REDIS_OPTIONS = { RESP: 2 as const, socket: { noDelay: true, keepAlive: true } };

/** Opens an ioredis client on `url` with {@link IOREDIS_OPTIONS} and waits until it is ready. */
export async function openIoredis(url: string): Promise<Redis> {
  const client = new Redis(url, IOREDIS_OPTIONS);
  client.on('error', () => undefined);
  if (client.status !== 'ready') await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('end', () => reject(new Error(`ioredis could not connect to ${url}`)));
  });
  return client;
}

/** A connected node-redis client. */
export type NodeRedis = ReturnType<typeof createClient>;

/** Opens and connects a node-redis client on `url` with {@link NODE_REDIS_OPTIONS}. */
export async function openNodeRedis(url: string): Promise<NodeRedis> {
  const client = createClient({ url, ...NODE_REDIS_OPTIONS });
  client.on('error', () => undefined);
  await client.connect();
  return client as NodeRedis;
}

/**
 * Valkey GLIDE connection options every GLIDE contender uses: the driver's defaults (RESP3, one
 * multiplexed connection) except the request timeout, raised from 250 ms so that a loaded
 * machine's hiccup does not fail a call (the other drivers wait for seconds too).
 */
export const GLIDE_OPTIONS = { requestTimeout: 10_000 } as const satisfies Partial<GlideClientConfiguration>;

/** Opens a GLIDE standalone client on `url` with {@link GLIDE_OPTIONS} (GLIDE connects in `createClient`). */
export async function openGlide(url: string): Promise<GlideClient> {
  const { hostname: host, port } = new URL(url);
  return GlideClient.createClient({ addresses: [{ host, port: Number(port) }], ...GLIDE_OPTIONS });
}

/** Closes a GLIDE client. */
export async function closeGlide(client: GlideClient): Promise<void> {
  client.close();
}

/** Closes an ioredis client (quit, or disconnect if quit fails). */
export async function closeIoredis(client: Redis): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}

/** Closes a node-redis client (close, or destroy if that fails). */
export async function closeNodeRedis(client: NodeRedis): Promise<void> {
  await client.close().catch(() => client.destroy());
}
