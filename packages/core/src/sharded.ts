import { InvalidArgumentError } from './errors.js';

/**
 * The `shardedPubSub` adapter option: `'auto'` (the default) uses sharded pub/sub on a cluster
 * client whose driver supports it once the server says it has it (Redis ≥ 7.0); `true` always on a
 * cluster (every node must be Redis ≥ 7.0); `false` never (plain PUBLISH/SUBSCRIBE).
 */
export type ShardedPubSubOption = boolean | 'auto';

/**
 * Lua that tells a server's version: `redis.REDIS_VERSION_NUM` exists from Redis 7.0 on, the
 * version that brought SPUBLISH/SSUBSCRIBE; on Redis 6 it is nil, hence 0.
 */
export const SHARDED_PUBSUB_PROBE = 'return redis.REDIS_VERSION_NUM or 0';

/** First Redis version with sharded pub/sub, as `redis.REDIS_VERSION_NUM` counts (0x00MMmmpp). */
const REDIS_7 = 0x070000;

/** What an adapter knows about its client to decide on sharded pub/sub. */
export interface ShardedPubSubTarget {
  /** Commands are routed by slot (a cluster client). */
  cluster: boolean;
  /** The driver can SSUBSCRIBE on a cluster and follow slot moves (else: why not, for the error of `true`). */
  driverSupport: true | string;
  /** Run {@link SHARDED_PUBSUB_PROBE} (EVAL with no keys) on the client. */
  probe(): Promise<unknown>;
}

/** The decision, as an adapter exposes it: see {@link RedisAdapter.shardedPubSub}. */
export interface ShardedPubSubMode {
  /** `true` / `false`, or a promise while the server's answer is awaited (asks it on the first read). */
  readonly current: boolean | Promise<boolean>;
  /** The decision, once known. */
  settled(): Promise<boolean>;
}

/**
 * Decide between sharded and plain pub/sub for an adapter. Standalone and Sentinel clients, and
 * cluster drivers that cannot follow a sharded channel, use plain pub/sub; with `'auto'` a cluster
 * client asks its server once (the first time a script publishes or a waiter subscribes) and
 * uses sharded pub/sub from Redis 7.0 on. A failed probe is asked again at the next use.
 *
 * @throws InvalidArgumentError for an option other than `true`, `false` or `'auto'`, or `true`
 *   where sharded pub/sub cannot work (no cluster client, or a driver without support)
 */
export function shardedPubSubMode(option: unknown, target: ShardedPubSubTarget): ShardedPubSubMode {
  if (option !== undefined && option !== true && option !== false && option !== 'auto') {
    throw new InvalidArgumentError('shardedPubSub', `expected true, false or 'auto', got ${typeof option === 'string' ? JSON.stringify(option) : String(option)}`);
  }
  if (option === true && !target.cluster) {
    throw new InvalidArgumentError('shardedPubSub', 'sharded pub/sub is for Redis Cluster clients; a standalone or Sentinel client publishes with PUBLISH');
  }
  if (option === true && target.driverSupport !== true) throw new InvalidArgumentError('shardedPubSub', target.driverSupport);
  let known: boolean | undefined = option === true ? true : option === false || !target.cluster || target.driverSupport !== true ? false : undefined;
  let asking: Promise<boolean> | undefined;
  const ask = (): Promise<boolean> =>
    (asking ??= target.probe().then(
      (version) => (known = Number(version) >= REDIS_7),
      (err: unknown) => {
        asking = undefined;
        throw err;
      },
    ));
  return {
    get current() {
      return known ?? ask();
    },
    settled: () => (known === undefined ? ask() : Promise.resolve(known)),
  };
}
