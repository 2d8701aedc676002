import { Redis } from 'ioredis';
import {
  InvalidArgumentError,
  type RedisAdapter,
  type ScriptArg,
  type ShardedPubSubOption,
} from '@hilok/core';
import {
  checkOptions,
  closeGracefully,
  connectionDown,
  ConnectionTracker,
  SHARDED_PUBSUB_PROBE,
  shardedPubSubMode,
  type DriverClients,
  type OptionKeys,
} from '@hilok/core/internal';

/** Most locks per batched script call on ioredis (see {@link RedisAdapter.maxBatch}). */
const IOREDIS_MAX_BATCH = 16;

/**
 * The part of an ioredis `Redis` or `Cluster` client hilok uses. Structural, so clients of
 * ioredis 5 and 6 (standalone, Cluster, Sentinel-managed) all fit.
 */
export interface IoredisClient {
  evalsha(sha: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  eval(script: string, numkeys: number, ...keysAndArgs: (string | number)[]): Promise<unknown>;
  duplicate(): IoredisClient;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Sharded pub/sub (Redis ≥ 7; on a Cluster, with `shardedSubscribers: true`). */
  ssubscribe?(...channels: string[]): Promise<unknown>;
  sunsubscribe?(...channels: string[]): Promise<unknown>;
  on(event: 'message' | 'smessage', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready' | 'connect' | 'close' | 'end' | 'refresh' | 'nodeError', listener: () => void): unknown;
  removeListener?(event: 'refresh', listener: () => void): unknown;
  /** A Cluster asks a node for the slot map again. */
  refreshSlotsCache?(): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
  readonly status?: string;
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  once?(event: 'ready', listener: () => void): unknown;
  once?(event: 'error', listener: (error: Error) => void): unknown;
  /** Starts a client created with `lazyConnect: true` (or reconnects one that ended). */
  connect?(): Promise<unknown>;
  listeners?(event: 'error'): unknown[];
  /** The socket of a standalone client (absent on a Cluster). */
  readonly stream?: { unref?(): unknown };
  readonly options?: { keyPrefix?: string; shardedSubscribers?: boolean };
}

/** Options of {@link createIoredisAdapter}. */
export interface IoredisAdapterOptions {
  /** Close the command client in `close()` too (default: only when the adapter created it from a URL). */
  ownsClient?: boolean;
  /**
   * Wake-ups over sharded pub/sub on a Cluster (`SPUBLISH` / `SSUBSCRIBE`, Redis ≥ 7.0): each
   * message stays on its lock's shard instead of crossing the whole cluster bus. `'auto'`
   * (default): on a Cluster whose ioredis has the `shardedSubscribers` option (5.11, 6), once the
   * server says it is Redis ≥ 7.0 (asked once); `true`: always on a Cluster (every node ≥ 7.0);
   * `false`: plain pub/sub. Standalone and Sentinel clients always use plain pub/sub. Every
   * process on one cluster must decide alike (see docs/sizing.md).
   */
  shardedPubSub?: ShardedPubSubOption;
}

/** The keys of {@link IoredisAdapterOptions}: an unknown key is an `InvalidArgumentError`. */
const IOREDIS_ADAPTER_OPTION_KEYS = { ownsClient: true, shardedPubSub: true } as const satisfies OptionKeys<IoredisAdapterOptions>;

/**
 * A {@link RedisAdapter} over an ioredis client (v5 or v6; `Redis`, `Cluster`, or a
 * Sentinel-managed `Redis`) or a `redis://` URL. Wake-ups use a duplicate of the client,
 * created on the first wait and closed by `close()`; the client you passed stays open.
 *
 * @param connection - your ioredis client, or a URL for a client the adapter creates and owns
 */
export function createIoredisAdapter(connection: IoredisClient | string, options: IoredisAdapterOptions = {}): RedisAdapter {
  const checked = checkOptions<IoredisAdapterOptions>(options, IOREDIS_ADAPTER_OPTION_KEYS);
  const ownsClient = checked.ownsClient ?? typeof connection === 'string';
  if (typeof connection !== 'string') checkIoredisClient(connection);
  const client: IoredisClient = typeof connection === 'string' ? quiet(new Redis(connection) as unknown as IoredisClient) : connection;
  // ioredis-mock (unit tests without a Redis, docs/testing.md) has no `isCluster`: one server.
  const mock = isIoredisMock(client);
  const cluster = !mock && client.isCluster !== false;
  // ioredis follows a sharded channel to its slot's master only with `shardedSubscribers`
  // (ClusterOptions has the key, false by default, in the versions that have the feature).
  const mode = shardedPubSubMode(checked.shardedPubSub, {
    cluster: client.isCluster === true,
    driverSupport:
      client.options !== undefined && 'shardedSubscribers' in client.options
        ? true
        : "this ioredis Cluster has no 'shardedSubscribers' option (ioredis 5.11 or 6 has): sharded pub/sub needs it",
    probe: () => client.eval(SHARDED_PUBSUB_PROBE, 0),
  });
  // ioredis applies `keyPrefix` to the keys of EVALSHA but not to SUBSCRIBE channels, and the
  // scripts publish on channels named after their keys: subscribe to the prefixed name.
  const channelPrefix = client.options?.keyPrefix ?? '';
  const listeners = new Map<string, (message: string) => void>();
  let subscriber: IoredisClient | undefined;
  let subscriberReady: Promise<IoredisClient> | undefined;
  const watch = watchFor(client);
  const unwatch: (() => void)[] = [];

  /** Drop the pub/sub duplicate at once (nothing of value is pending on it); the next wait makes a new one. */
  /** Stops a sharded duplicate from following the user's slot map (see followSlots). */
  let unfollow: (() => void) | undefined;
  const dropSubscriber = (): void => {
    const sub = subscriber;
    subscriber = undefined;
    subscriberReady = undefined;
    unfollow?.();
    unfollow = undefined;
    sub?.disconnect();
  };
  // The duplicate lives with the user's client: when that one ends (quit, disconnect), so does it.
  unwatch.push(watch.onEnd(dropSubscriber));

  // Subscribe only once the duplicate is ready: ioredis runs its ready check (INFO) on connect,
  // and a SUBSCRIBE queued ahead of it turns the connection into subscriber mode too early.
  const pubsub = (sharded: boolean): Promise<IoredisClient> => {
    subscriberReady ??= new Promise<IoredisClient>((resolve, reject) => {
      const sub = quiet(duplicateOf(client, sharded));
      subscriber = sub;
      sub.on(sharded ? 'smessage' : 'message', (channel, message) => listeners.get(channel)?.(message));
      if (sharded) unfollow = followSlots(client, sub);
      // hilok's pub/sub socket must not keep the process alive: while a lock is waited for, the
      // waiter's own timer does; when nothing is held or waited for, nothing of hilok's should.
      sub.on('connect', () => void sub.stream?.unref?.());
      if (sub.status === 'ready' || !sub.once) return resolve(sub);
      sub.once('ready', () => resolve(sub));
      // A duplicate that cannot connect fails the subscribe now, with the driver's reason.
      sub.once('error', (err) => {
        if (sub.status === 'ready' || subscriber !== sub) return;
        dropSubscriber();
        reject(connectionDown(err));
      });
      // It inherits every option of the user's client, `lazyConnect` too: start it.
      if (sub.status === 'wait') sub.connect?.().catch(() => undefined);
    });
    return subscriberReady;
  };

  return {
    driver: 'ioredis',
    cluster,
    get shardedPubSub() {
      return mode.current;
    },
    // ioredis writes each command to the socket at once: several smaller batches overlap
    // Redis's work on one with Node's on the next (measured in packages/bench, 64 tasks).
    // ioredis-mock's Lua VM returns `undefined` for a table filled by assignment with more than
    // one entry (8.13): a batched reply. Each call goes alone there.
    maxBatch: mock ? 1 : IOREDIS_MAX_BATCH,
    evalsha: (sha: string, keys: readonly string[], args: readonly ScriptArg[]) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (script: string, keys: readonly string[], args: readonly ScriptArg[]) => client.eval(script, keys.length, ...keys, ...args),
    async subscribe(channel, onMessage) {
      const name = channelPrefix + channel;
      listeners.set(name, onMessage);
      try {
        const sharded = await mode.settled();
        const sub = await pubsub(sharded);
        await (sharded ? (sub.ssubscribe as (channel: string) => Promise<unknown>).call(sub, name) : sub.subscribe(name));
      } catch (err) {
        listeners.delete(name);
        throw err;
      }
    },
    async unsubscribe(channel) {
      const name = channelPrefix + channel;
      listeners.delete(name);
      if (!subscriber) return;
      const done = mode.current === true ? (subscriber.sunsubscribe as (channel: string) => Promise<unknown>).call(subscriber, name) : subscriber.unsubscribe(name);
      // Not connected: the UNSUBSCRIBE waits for a reconnect, which may never come.
      if (subscriber.status === 'ready') await done;
      else done.catch(() => undefined);
    },
    watchConnection: (listener) => {
      const stop = watch.onChange(listener);
      unwatch.push(stop);
      return stop;
    },
    async close() {
      listeners.clear();
      for (const stop of unwatch.splice(0)) stop();
      dropSubscriber();
      if (ownsClient) await closeClient(client);
    },
  };
}

/**
 * How @hilok/ioredis tells its clients (core's driver bindings ask it; core names no driver's
 * methods): an ioredis client has `evalsha`; a node-redis one (`evalSha`) or a Valkey GLIDE one (`customCommand`) is named, with the
 * package that fits it.
 */
export const ioredisClients: DriverClients<IoredisClient> = {
  isClient: (value): value is IoredisClient => typeof value === 'object' && value !== null && typeof (value as { evalsha?: unknown }).evalsha === 'function',
  describeOther(value) {
    const c = value as Record<string, unknown> | null;
    if (typeof c === 'object' && c !== null && typeof c.customCommand === 'function') {
      const kind = typeof c.invokeScriptWithRoute === 'function' ? 'a Valkey GLIDE GlideClusterClient' : 'a Valkey GLIDE GlideClient';
      return `this is ${kind}, not an ioredis client: use @hilok/valkey-glide for it (or pass an ioredis Redis / Cluster to @hilok/ioredis)`;
    }
    if (typeof c !== 'object' || c === null || typeof c.evalSha !== 'function') return undefined;
    const kind = 'slots' in c && 'masters' in c ? 'a node-redis cluster client (createCluster)' : typeof c.duplicate !== 'function' ? 'a node-redis Sentinel client (createSentinel)' : 'a node-redis client (createClient)';
    return `this is ${kind}, not an ioredis client: use @hilok/node-redis for it (or pass an ioredis Redis / Cluster to @hilok/ioredis)`;
  },
};

/** An `ioredis-mock` instance (its own script cache and keyspace fields; no `isCluster`). */
function isIoredisMock(client: IoredisClient): boolean {
  return client.isCluster === undefined && 'shaScripts' in client && 'keyData' in client;
}

/**
 * Which package fits a client that is no ioredis client: an `InvalidArgumentError` now rather
 * than a confusing Redis error at the first lock call.
 */
function checkIoredisClient(client: unknown): void {
  if (ioredisClients.isClient(client)) return;
  const other = ioredisClients.describeOther?.(client);
  if (other) throw new InvalidArgumentError('connection', other);
}

/**
 * A duplicate of `client` for pub/sub, resubscribing after a reconnect whatever the user's
 * `autoResubscribe`; for sharded pub/sub a Cluster with one subscriber per master
 * (`shardedSubscribers`), which follows the slot map.
 */
function duplicateOf(client: IoredisClient, sharded: boolean): IoredisClient {
  if (client.isCluster === true) {
    return sharded ? (client.duplicate as (nodes: unknown[], override: object) => IoredisClient)([], { shardedSubscribers: true }) : client.duplicate();
  }
  return (client.duplicate as (override?: object) => IoredisClient)({ autoResubscribe: true });
}

/**
 * Keep a sharded pub/sub duplicate's slot map current. When a slot moves, its old master drops
 * the slot's sharded subscriptions (an unsolicited SUNSUBSCRIBE, which ioredis reports as an
 * error of that shard's subscriber); ioredis moves them to the new master only once the
 * duplicate's slot map changes — but the duplicate sends no commands of its own, so it would
 * never get the MOVED that tells it. So: refresh its map when a shard subscriber errs, and when
 * the user's Cluster refreshed its own (a lock call got MOVED — a waiter's own retry, at least
 * every second, does that). Debounced; returns a function that stops it.
 */
function followSlots(client: IoredisClient, sub: IoredisClient): () => void {
  let timer: NodeJS.Timeout | undefined;
  const refresh = (): void => {
    timer ??= setTimeout(() => {
      timer = undefined;
      sub.refreshSlotsCache?.();
    }, 50);
    timer.unref();
  };
  client.on('refresh', refresh);
  sub.on('nodeError', refresh);
  return () => {
    clearTimeout(timer);
    client.removeListener?.('refresh', refresh);
  };
}

const watches = new WeakMap<object, ConnectionTracker>();
const HILOK_LISTENER = Symbol('hilok');

/**
 * Follow `client`'s connection (see core's `ConnectionTracker` for what "down" means). An
 * error on a ready connection only marks it dropped: ioredis reconnects and replays queued
 * commands, so calls made during a reconnect that succeeds wait for it as they always did.
 */
function watchFor(client: IoredisClient): ConnectionTracker {
  let watch = watches.get(client);
  if (watch) return watch;
  const state = new ConnectionTracker(client.status === 'ready');
  client.on('ready', () => state.becameReady());
  client.on('close', () => (state.ready = false));
  client.on('end', () => state.ended());
  const onError = (err: Error): void => {
    // ioredis prints an error nobody listens to; our listener must not silence the user's client.
    if (client.listeners?.('error').every((l) => (l as { [HILOK_LISTENER]?: boolean })[HILOK_LISTENER])) {
      console.error('[ioredis] Unhandled error event:', err.stack);
    }
    if (!state.ready) state.failed(err);
  };
  Object.assign(onError, { [HILOK_LISTENER]: true });
  client.on('error', onError);
  watches.set(client, (watch = state));
  return watch;
}

/** Errors reach callers through rejected commands; without a listener ioredis would log them. */
function quiet(client: IoredisClient): IoredisClient {
  client.on('error', () => undefined);
  return client;
}

function closeClient(client: IoredisClient): Promise<void> {
  // Not connected: a graceful QUIT would wait for a reconnect that may never come.
  if (client.status !== 'ready') {
    client.disconnect();
    return Promise.resolve();
  }
  return closeGracefully(
    () => client.quit(),
    () => client.disconnect(),
  );
}
