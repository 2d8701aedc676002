import type { RedisAdapter } from '@hilok/core';

/** A host/port pair of a cluster node. */
export interface NodeAddress {
  host: string;
  port: number;
}

/** Adapter options every driver package takes. */
export interface AdapterOptions {
  /** Wake-ups over sharded pub/sub on a cluster (`'auto'` by default). */
  shardedPubSub?: boolean | 'auto';
}

/**
 * One driver configuration the suites run against (e.g. "ioredis 6, RESP3"). Adapter packages
 * describe their clients with this and hand it to every suite, so each suite runs identically
 * through every adapter and every supported client major.
 */
export interface DriverCase<C = unknown> {
  /** Shown in test names, e.g. `"node-redis 5 (RESP3)"`. */
  name: string;
  /**
   * `false` when the driver's cluster client cannot do sharded pub/sub (iovalkey, node-redis 4):
   * `shardedPubSub: 'auto'` then settles on plain PUBLISH, and the cluster suite checks that.
   */
  shardedPubSub?: false;
  /** A connected client of a standalone server. */
  client(url: string): Promise<C>;
  /** A connected client of a `rediss://` URL (user and password in it) whose server certificate `ca` (PEM) signed. */
  tlsClient?(url: string, ca: string): Promise<C>;
  /** A connected client of a cluster, or undefined when the driver case skips cluster tests. */
  clusterClient?(rootNodes: NodeAddress[]): Promise<C>;
  /** A connected Sentinel-managed client of the group's master, when the driver case covers Sentinel. */
  sentinelClient?(group: { masterName: string; sentinels: NodeAddress[] }): Promise<C>;
  /**
   * A standalone client of `url`, created with the driver's default options and left to connect
   * on its own (not awaited, errors not thrown): a user's client of a server that may be down.
   */
  connectingClient?(url: string): C;
  /** Close a client made by `client` / `clusterClient` / `sentinelClient`. */
  closeClient(client: C): Promise<void>;
  /** The adapter over a client (the user keeps owning the client), with adapter options both drivers take. */
  adapter(client: C, options?: AdapterOptions): RedisAdapter;
}

/**
 * Clients and adapters opened during one suite, closed together in `afterAll`, so every test
 * can ask for fresh connections without bookkeeping.
 */
export class Connections<C> {
  private readonly clients: C[] = [];
  private readonly adapters: RedisAdapter[] = [];

  /** @param driver - the driver case to open connections with */
  constructor(readonly driver: DriverCase<C>) {}

  /** A fresh client and adapter on a standalone server. */
  async open(url: string): Promise<RedisAdapter> {
    const client = await this.driver.client(url);
    this.clients.push(client);
    return this.keep(this.driver.adapter(client));
  }

  /** A fresh client and adapter on a cluster. */
  async openCluster(rootNodes: NodeAddress[], options?: AdapterOptions): Promise<RedisAdapter> {
    if (!this.driver.clusterClient) throw new Error(`${this.driver.name} has no cluster client`);
    const client = await this.driver.clusterClient(rootNodes);
    this.clients.push(client);
    return this.keep(options ? this.driver.adapter(client, options) : this.driver.adapter(client));
  }

  /** Close every adapter, then every client. */
  async closeAll(): Promise<void> {
    await Promise.allSettled(this.adapters.splice(0).map((a) => a.close()));
    await Promise.allSettled(this.clients.splice(0).map((c) => this.driver.closeClient(c)));
  }

  private keep(adapter: RedisAdapter): RedisAdapter {
    this.adapters.push(adapter);
    return adapter;
  }
}

/**
 * Wraps an adapter and counts the Redis calls made through it — to prove that bad input is
 * rejected before any Redis call.
 */
export function countingAdapter(inner: RedisAdapter): RedisAdapter & { calls: number } {
  const counted = {
    driver: inner.driver,
    cluster: inner.cluster,
    get shardedPubSub() {
      return inner.shardedPubSub;
    },
    calls: 0,
    evalsha: (...a: Parameters<RedisAdapter['evalsha']>) => (counted.calls++, inner.evalsha(...a)),
    eval: (...a: Parameters<RedisAdapter['eval']>) => (counted.calls++, inner.eval(...a)),
    subscribe: (...a: Parameters<RedisAdapter['subscribe']>) => (counted.calls++, inner.subscribe(...a)),
    unsubscribe: (...a: Parameters<RedisAdapter['unsubscribe']>) => (counted.calls++, inner.unsubscribe(...a)),
    close: () => inner.close(),
  };
  return counted;
}

/** Wraps an adapter and counts its SUBSCRIBE calls (wake-up subscriptions). */
export function countingSubscribes(inner: RedisAdapter): RedisAdapter & { subscribes: number } {
  const counted: RedisAdapter & { subscribes: number } = Object.create(inner);
  counted.subscribes = 0;
  counted.subscribe = (channel, onMessage) => (counted.subscribes++, inner.subscribe(channel, onMessage));
  return counted;
}

/** Run a Redis command through an adapter (via EVAL), for test set-up and inspection. */
export async function redisCall(adapter: RedisAdapter, ...command: (string | number)[]): Promise<unknown> {
  return adapter.eval('return redis.call(unpack(ARGV))', [], command);
}

/** Run a one-key command (`command key ...rest`) through an adapter, routed by that key on a cluster. */
export async function keyCall(adapter: RedisAdapter, command: string, key: string, ...rest: (string | number)[]): Promise<unknown> {
  return adapter.eval('return redis.call(ARGV[1], KEYS[1], unpack(ARGV, 2))', [key], [command, ...rest]);
}

/** Sleep for `ms`. */
export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Let a waiter queue up, release the holder, and return how many ms passed until the waiter
 * held the lock (then release it too). Tests compare this with the holder's long ttl: a
 * hand-off far below it can only have come from the pub/sub wake-up, not the fallback timer.
 */
export async function handOffMs(
  holder: { release(): Promise<unknown> },
  waiting: Promise<{ release(): Promise<unknown> }>,
): Promise<number> {
  await delay(100);
  const released = performance.now();
  await holder.release();
  const next = await waiting;
  const elapsed = performance.now() - released;
  await next.release();
  return elapsed;
}
