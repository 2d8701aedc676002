import { createClient } from 'redis';
import { checkOptions, closeGracefully, type OptionKeys, type RedisAdapter, type ScriptArg } from '@hilok/core';

/** Most locks per batched script call on node-redis (see `RedisAdapter.maxBatch`). */
const NODE_REDIS_MAX_BATCH = 32;

/**
 * The part of a node-redis client or cluster hilok uses. Structural, so `redis` 5 and 6
 * clients (`createClient`, `createCluster`, `createSentinel`; RESP2 or RESP3) all fit.
 */
export interface NodeRedisClient {
  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** Absent on `createSentinel` clients, which keep their own dedicated pub/sub connection. */
  duplicate?(): NodeRedisClient;
  connect(): Promise<unknown>;
  readonly isOpen?: boolean;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  close?(): Promise<unknown>;
  quit?(): Promise<unknown>;
  destroy?(): unknown;
}

/** Options of {@link createNodeRedisAdapter}. */
export interface NodeRedisAdapterOptions {
  /** Close the command client in `close()` too (default: only when the adapter created it from a URL). */
  ownsClient?: boolean;
}

/** The keys of {@link NodeRedisAdapterOptions}: an unknown key is an `InvalidArgumentError`. */
const NODE_REDIS_ADAPTER_OPTION_KEYS = { ownsClient: true } as const satisfies OptionKeys<NodeRedisAdapterOptions>;

/**
 * A {@link RedisAdapter} over a node-redis client (redis 5 or 6; `createClient`, `createCluster`
 * or `createSentinel`; RESP2 or RESP3) or a `redis://` URL. A client you pass must be connected
 * (or connecting); one created from a URL is connected by the adapter. Wake-ups use a duplicate
 * connection, created on the first wait and closed by `close()` — except with a Sentinel client,
 * whose own pub/sub connection is used (and only hilok's channels are unsubscribed on close).
 *
 * @param connection - your node-redis client, or a URL for a client the adapter creates and owns
 */
export function createNodeRedisAdapter(connection: NodeRedisClient | string, options: NodeRedisAdapterOptions = {}): RedisAdapter {
  const ownsClient = checkOptions<NodeRedisAdapterOptions>(options, NODE_REDIS_ADAPTER_OPTION_KEYS).ownsClient ?? typeof connection === 'string';
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
  const pubsub = (): Promise<NodeRedisClient> => {
    subscriber ??= commands().then(async (c) => {
      if (sharesPubSub) return c;
      const sub = quiet((c.duplicate as () => NodeRedisClient)());
      await sub.connect();
      return sub;
    });
    subscriber.catch(() => (subscriber = undefined));
    return subscriber;
  };
  const channels = new Set<string>();

  const call = (args: readonly ScriptArg[]) => args.map(String);
  const scriptOptions = (keys: readonly string[], args: readonly ScriptArg[]) => ({ keys: [...keys], arguments: call(args) });

  return {
    driver: 'node-redis',
    // A cluster client routes by slot and has no single server; a plain or Sentinel client has one.
    cluster: isClusterClient(client),
    // node-redis writes a turn's commands in one go (setImmediate): the runner hands it one
    // batch per turn, so Redis runs one batch while Node builds the next (measured in
    // packages/bench, 64 tasks).
    coalescesWrites: true,
    maxBatch: NODE_REDIS_MAX_BATCH,
    evalsha: (sha: string, keys: readonly string[], args: readonly ScriptArg[]) =>
      ready ? commands().then((c) => c.evalSha(sha, scriptOptions(keys, args))) : client.evalSha(sha, scriptOptions(keys, args)),
    eval: async (script: string, keys: readonly string[], args: readonly ScriptArg[]) => (await commands()).eval(script, scriptOptions(keys, args)),
    async subscribe(channel, onMessage) {
      await (await pubsub()).subscribe(channel, (message) => onMessage(String(message)));
      channels.add(channel);
    },
    async unsubscribe(channel) {
      channels.delete(channel);
      if (subscriber) await (await subscriber).unsubscribe(channel);
    },
    async close() {
      const sub = subscriber;
      subscriber = undefined;
      ready = undefined;
      // A shared (Sentinel) pub/sub connection is the user's: drop only our channels from it.
      const releaseSub = sharesPubSub
        ? sub?.then((c) => Promise.all([...channels].map((ch) => c.unsubscribe(ch))), () => undefined)
        : sub?.then(closeClient, () => undefined);
      channels.clear();
      await Promise.all([releaseSub?.catch(() => undefined), ownsClient && closeClient(client)]);
    },
  };
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
  return closeGracefully(
    async () => (client.close ? client.close() : client.quit?.()),
    () => client.destroy?.(),
  );
}
