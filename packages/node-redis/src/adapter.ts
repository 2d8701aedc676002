import { createClient } from 'redis';
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
  keySlot,
  SHARDED_PUBSUB_PROBE,
  shardedPubSubMode,
  type DriverClients,
  type OptionKeys,
} from '@hilok/core/internal';

/** Most locks per batched script call on node-redis (see `RedisAdapter.maxBatch`). */
const NODE_REDIS_MAX_BATCH = 32;

/**
 * The part of a node-redis client or cluster hilok uses. Structural, so `redis` 4, 5 and 6
 * clients (`createClient`, `createCluster`, `createSentinel` (5, 6); RESP2 or RESP3 (5, 6)) all fit.
 */
export interface NodeRedisClient {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Absent on `createSentinel` clients, which keep their own dedicated pub/sub connection. */
  duplicate?(): NodeRedisClient;
  connect(): Promise<unknown>;
  readonly isOpen?: boolean;
  readonly isReady?: boolean;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  /** Sharded pub/sub (Redis ≥ 7): a cluster client subscribes on the channel's master and follows slot moves. */
  sSubscribe?(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  sUnsubscribe?(channel: string): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready' | 'end' | 'disconnect', listener: () => void): unknown;
  once?(event: 'error', listener: (error: Error) => void): unknown;
  listeners?(event: 'error'): unknown[];
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): unknown;
  /** node-redis 4's `destroy()` (it has neither `close()` nor `destroy()`). */
  disconnect?(): Promise<unknown>;
  /** Let the process exit although this client's socket is open (`createClient` clients). */
  unref?(): unknown;
}

/** Options of {@link createNodeRedisAdapter}. */
export interface NodeRedisAdapterOptions {
  /** Close the command client in `close()` too (default: only when the adapter created it from a URL). */
  ownsClient?: boolean;
  /**
   * Wake-ups over sharded pub/sub on a cluster (`SPUBLISH` / `sSubscribe`, Redis ≥ 7.0): each
   * message stays on its lock's shard instead of crossing the whole cluster bus. `'auto'`
   * (default): on a cluster client, once the server says it is Redis ≥ 7.0 (asked once); `true`:
   * always on a cluster (every node ≥ 7.0); `false`: plain pub/sub. Plain and Sentinel clients
   * always use plain pub/sub. Every process on one cluster must decide alike (see docs/sizing.md).
   */
  shardedPubSub?: ShardedPubSubOption;
}

/** The keys of {@link NodeRedisAdapterOptions}: an unknown key is an `InvalidArgumentError`. */
const NODE_REDIS_ADAPTER_OPTION_KEYS = { ownsClient: true, shardedPubSub: true } as const satisfies OptionKeys<NodeRedisAdapterOptions>;

/**
 * A {@link RedisAdapter} over a node-redis client (redis 4, 5 or 6; `createClient`, `createCluster`
 * or `createSentinel` (5, 6); RESP2 or RESP3 (5, 6)) or a `redis://` URL. A client you pass must be connected
 * (or connecting); one created from a URL is connected by the adapter. Wake-ups use a duplicate
 * connection, created on the first wait and closed by `close()` — except with a Sentinel client,
 * whose own pub/sub connection is used (and only hilok's channels are unsubscribed on close).
 *
 * @param connection - your node-redis client, or a URL for a client the adapter creates and owns
 */
export function createNodeRedisAdapter(connection: NodeRedisClient | string, options: NodeRedisAdapterOptions = {}): RedisAdapter {
  const checked = checkOptions<NodeRedisAdapterOptions>(options, NODE_REDIS_ADAPTER_OPTION_KEYS);
  const ownsClient = checked.ownsClient ?? typeof connection === 'string';
  if (typeof connection !== 'string') checkNodeRedisClient(connection);
  const client: NodeRedisClient =
    typeof connection === 'string' ? quiet(createClient({ url: connection }) as unknown as NodeRedisClient) : connection;
  // A client created here is connected on first use; a user's client is theirs to connect.
  let ready: Promise<unknown> | undefined = typeof connection === 'string' ? client.connect() : undefined;
  // Once connected, commands go straight to the client (no extra promise hop per call).
  ready?.then(
    () => (ready = undefined),
    () => undefined,
  );
  let subscriber: Promise<NodeRedisClient> | undefined;

  const commands = async (): Promise<NodeRedisClient> => {
    if (ready) await ready;
    return client;
  };
  // Pub/sub needs its own connection: a duplicate of the client, except for a Sentinel client,
  // which has no duplicate() but already routes SUBSCRIBE to a dedicated connection of its own.
  const sharesPubSub = typeof client.duplicate !== 'function';
  const cluster = isClusterClient(client);
  const mode = shardedPubSubMode(checked.shardedPubSub, {
    cluster,
    driverSupport: typeof client.sSubscribe === 'function' ? true : 'this node-redis cluster client has no sSubscribe: sharded pub/sub needs it',
    probe: async () => (await commands()).eval(SHARDED_PUBSUB_PROBE, { keys: [], arguments: [] }),
  });
  // Connection state is followed on plain clients: cluster and Sentinel clients report no `ready`
  // to end a "down" state with, so their calls keep waiting up to `commandTimeout`.
  const watch = sharesPubSub || cluster ? undefined : watchFor(client);
  const unwatch: (() => void)[] = [];
  /** The pub/sub duplicate, once created (undefined while shared or not made yet). */
  let duplicate: NodeRedisClient | undefined;
  /** Drop the duplicate at once (nothing of value is pending on it); the next wait makes a new one. */
  const dropSubscriber = (): void => {
    const sub = duplicate;
    duplicate = undefined;
    subscriber = undefined;
    if (sub) destroyQuietly(sub);
  };
  // The duplicate lives with the user's client: when that one is closed, so is it.
  if (watch) unwatch.push(watch.onEnd(dropSubscriber));
  else if (cluster) client.on('disconnect', dropSubscriber);

  const pubsub = (): Promise<NodeRedisClient> => {
    subscriber ??= commands().then(async (c) => {
      if (sharesPubSub) return c;
      const sub = quiet((c.duplicate as () => NodeRedisClient)());
      duplicate = sub;
      // hilok's pub/sub socket must not keep the process alive: while a lock is waited for, the
      // waiter's own timer does; when nothing is held or waited for, nothing of hilok's should.
      sub.unref?.();
      // A duplicate that cannot connect fails the subscribe now, with the driver's reason
      // (node-redis would retry for ever, and connect() waits for it).
      const failed = new Promise<never>((_, reject) => sub.once?.('error', (err) => reject(connectionDown(err))));
      failed.catch(() => undefined);
      try {
        await Promise.race([sub.connect(), failed]);
      } catch (err) {
        if (duplicate === sub) dropSubscriber();
        throw err;
      }
      return sub;
    });
    subscriber.catch(() => (subscriber = undefined));
    return subscriber;
  };
  const channels = new Set<string>();
  /** Our listener per sharded channel: the same function when we subscribe it again after a slot move. */
  const shardListeners = new Map<string, (message: string) => void>();
  /** Per-master sharded subscribers we follow slot moves on (see followMoves). */
  const followed = new WeakSet<object>();
  /**
   * When a slot moves, its old master drops the slot's sharded subscriptions (an unsolicited
   * SUNSUBSCRIBE). node-redis 6 moves them to the new master itself; node-redis 4 and 5 (≤ 5.12 at
   * least) emit 'sharded-channel-moved' on the shard's client but listens for another event name,
   * so the subscription is silently lost. Where no listener of the driver's handles that event, we
   * subscribe the channel again: the SSUBSCRIBE goes to the old master, whose MOVED makes
   * node-redis learn the new slot map and retry there.
   */
  const followMoves = (sub: NodeRedisClient, channel: string): void => {
    const master = (sub as unknown as ShardedCluster).getSlotMaster?.(keySlot(channel));
    // node-redis 5, 6: master.pubSub.client; 4: master.pubSubClient (a promise until connected).
    const v4 = master?.pubSubClient;
    const shard = master?.pubSub?.client ?? (v4 && typeof (v4 as NodeJS.EventEmitter).listenerCount === 'function' ? (v4 as NodeJS.EventEmitter) : undefined);
    if (!shard || followed.has(shard) || shard.listenerCount('sharded-channel-moved') > 0) return;
    followed.add(shard);
    shard.on('sharded-channel-moved', (moved: string) => {
      const listener = shardListeners.get(moved);
      if (!listener || duplicate !== sub) return;
      (sub.sSubscribe as NonNullable<NodeRedisClient['sSubscribe']>).call(sub, moved, listener).then(
        () => followMoves(sub, moved),
        () => undefined, // the waiters' own retries (at least every second) still get them in
      );
    });
  };

  const call = (args: readonly ScriptArg[]) => args.map(String);
  const scriptOptions = (keys: readonly string[], args: readonly ScriptArg[]) => ({ keys: [...keys], arguments: call(args) });
  const script = scriptCall(client);

  return {
    driver: 'node-redis',
    // A cluster client routes by slot and has no single server; a plain or Sentinel client has one.
    cluster: isClusterClient(client),
    // node-redis writes a turn's commands in one go (setImmediate): the runner hands it one
    // batch per turn, so Redis runs one batch while Node builds the next (measured in
    // packages/bench, 64 tasks).
    coalescesWrites: true,
    maxBatch: NODE_REDIS_MAX_BATCH,
    evalsha: script
      ? (sha: string, keys: readonly string[], args: readonly ScriptArg[]) => script('EVALSHA', sha, keys, call(args))
      : (sha: string, keys: readonly string[], args: readonly ScriptArg[]) =>
          ready ? commands().then((c) => c.evalSha(sha, scriptOptions(keys, args))) : client.evalSha(sha, scriptOptions(keys, args)),
    eval: script
      ? async (body: string, keys: readonly string[], args: readonly ScriptArg[]) => script('EVAL', body, keys, call(args))
      : async (body: string, keys: readonly string[], args: readonly ScriptArg[]) => (await commands()).eval(body, scriptOptions(keys, args)),
    get shardedPubSub() {
      return mode.current;
    },
    async subscribe(channel, onMessage) {
      const sharded = await mode.settled();
      const sub = await pubsub();
      const listener = (message: string): void => onMessage(String(message));
      // A cluster client keeps one sharded subscriber per master and moves a channel with its slot.
      if (!sharded) await sub.subscribe(channel, listener);
      else {
        shardListeners.set(channel, listener);
        await (sub.sSubscribe as NonNullable<NodeRedisClient['sSubscribe']>).call(sub, channel, listener);
        followMoves(sub, channel);
      }
      channels.add(channel);
    },
    async unsubscribe(channel) {
      channels.delete(channel);
      shardListeners.delete(channel);
      if (!subscriber) return;
      const sub = await subscriber;
      const done = mode.current === true ? (sub.sUnsubscribe as NonNullable<NodeRedisClient['sUnsubscribe']>).call(sub, channel) : sub.unsubscribe(channel);
      // Not connected: the driver forgets the channel now, but the UNSUBSCRIBE waits for a reconnect.
      if (sub.isReady !== false) await done;
      else done.catch(() => undefined);
    },
    ...(watch && {
      watchConnection(listener: (error: unknown) => void) {
        const stop = watch.onChange(listener);
        unwatch.push(stop);
        return stop;
      },
    }),
    async close() {
      for (const stop of unwatch.splice(0)) stop();
      const shared = sharesPubSub ? subscriber : undefined;
      if (!sharesPubSub) dropSubscriber();
      subscriber = undefined;
      ready = undefined;
      // A shared (Sentinel) pub/sub connection is the user's: drop only our channels from it.
      const releaseSub = shared?.then((c) => Promise.all([...channels].map((ch) => c.unsubscribe(ch))), () => undefined);
      channels.clear();
      shardListeners.clear();
      await Promise.all([releaseSub?.catch(() => undefined), ownsClient && closeClient(client)]);
    },
  };
}

/**
 * Which package fits a client that is no node-redis client: an `InvalidArgumentError` now rather
 * than a confusing Redis error ("ERR value is not an integer or out of range") at the first lock call.
 */
function checkNodeRedisClient(client: unknown): void {
  if (nodeRedisClients.isClient(client)) return;
  const other = nodeRedisClients.describeOther?.(client);
  if (other) throw new InvalidArgumentError('connection', other);
}

/**
 * How @hilok/node-redis tells its clients (core's driver bindings ask it; core names no driver's
 * methods): a node-redis client has `evalSha`; an ioredis one (`evalsha`) or a Valkey GLIDE one (`customCommand`) is named, with the
 * package that fits it.
 */
export const nodeRedisClients: DriverClients<NodeRedisClient> = {
  isClient: (value): value is NodeRedisClient => typeof value === 'object' && value !== null && typeof (value as { evalSha?: unknown }).evalSha === 'function',
  describeOther(value) {
    const c = value as Record<string, unknown> | null;
    if (typeof c === 'object' && c !== null && typeof c.customCommand === 'function') {
      const kind = typeof c.invokeScriptWithRoute === 'function' ? 'a Valkey GLIDE GlideClusterClient' : 'a Valkey GLIDE GlideClient';
      return `this is ${kind}, not a node-redis client: use @hilok/valkey-glide for it (or pass a node-redis createClient / createCluster / createSentinel client to @hilok/node-redis)`;
    }
    if (typeof c !== 'object' || c === null || typeof c.evalsha !== 'function') return undefined;
    const options = c.options as { sentinels?: unknown } | undefined;
    const kind = c.isCluster === true ? 'an ioredis Cluster' : options?.sentinels ? 'a Sentinel-managed ioredis client' : 'an ioredis client (new Redis)';
    return `this is ${kind}, not a node-redis client: use @hilok/ioredis for it (or pass a node-redis createClient / createCluster / createSentinel client to @hilok/node-redis)`;
  },
};

const watches = new WeakMap<object, ConnectionTracker>();
const HILOK_LISTENER = Symbol('hilok');

/**
 * Follow `client`'s connection (see core's `ConnectionTracker` for what "down" means). The first
 * error of a ready connection only marks it dropped: node-redis reconnects and sends queued
 * commands, so calls made during a reconnect that succeeds wait for it as they always did.
 */
function watchFor(client: NodeRedisClient): ConnectionTracker {
  let watch = watches.get(client);
  if (watch) return watch;
  const state = new ConnectionTracker(client.isReady === true);
  client.on('ready', () => state.becameReady());
  client.on('end', () => state.ended());
  const onError = (err: Error): void => {
    const wasReady = state.ready;
    state.ready = false;
    if (!wasReady) state.failed(err);
    // Without a listener of its own, node-redis's 'error' would have thrown: so does this one.
    if (client.listeners?.('error').every((l) => (l as { [HILOK_LISTENER]?: boolean })[HILOK_LISTENER])) throw err;
  };
  Object.assign(onError, { [HILOK_LISTENER]: true });
  client.on('error', onError);
  watches.set(client, (watch = state));
  return watch;
}

function destroyQuietly(client: NodeRedisClient): void {
  try {
    destroy(client);
  } catch {
    // already closed
  }
}

/** Close at once: `destroy()` (node-redis 5, 6) or `disconnect()` (node-redis 4, which has no destroy). */
function destroy(client: NodeRedisClient): void {
  if (client.destroy) client.destroy();
  else client.disconnect?.().catch(() => undefined);
}

/** The part of a node-redis cluster client that tells a slot's master and its sharded subscriber. */
interface ShardedCluster {
  getSlotMaster?(slot: number): { pubSub?: { client?: NodeJS.EventEmitter }; pubSubClient?: unknown } | undefined;
}

/**
 * node-redis 4's cluster client routes `evalSha(sha, { keys })` / `eval` by the wrong argument (its
 * first-key function reads `keys` off the script, so every script goes to a random master and
 * fails with MOVED). On that client alone (it has `commandsExecutor`; 5 and 6 don't), scripts go
 * through `sendCommand(firstKey, …)`, which routes by the key; `undefined` elsewhere.
 */
function scriptCall(client: NodeRedisClient): ((command: 'EVAL' | 'EVALSHA', script: string, keys: readonly string[], args: string[]) => Promise<unknown>) | undefined {
  // node-redis 4's cluster sendCommand routes by `firstKey` (5 and 6 have another signature: not typed on NodeRedisClient).
  const c = client as unknown as { commandsExecutor?: unknown; sendCommand?: (firstKey: string | undefined, isReadonly: boolean, args: string[]) => Promise<unknown> };
  const send = c.sendCommand;
  if (!isClusterClient(client) || typeof c.commandsExecutor !== 'function' || typeof send !== 'function') return undefined;
  return (command, script, keys, args) => send.call(client, keys[0], false, [command, script, String(keys.length), ...keys, ...args]);
}

/** node-redis cluster clients (`createCluster`) keep a slot table; plain and Sentinel clients don't. */
function isClusterClient(client: NodeRedisClient): boolean {
  const c = client as unknown as Record<string, unknown>;
  return 'slots' in c && 'masters' in c;
}

/** Errors reach callers through rejected commands; an 'error' event without a listener would crash the process. */
function quiet(client: NodeRedisClient): NodeRedisClient {
  client.on('error', () => undefined);
  return client;
}

function closeClient(client: NodeRedisClient): Promise<void> {
  // Not connected: a graceful close would wait for a reconnect that may never come.
  if (client.isReady === false) {
    destroyQuietly(client);
    return Promise.resolve();
  }
  return closeGracefully(
    async () => (client.close ? client.close() : client.quit?.()),
    () => destroy(client),
  );
}
