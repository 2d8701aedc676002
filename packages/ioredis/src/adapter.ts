import { Redis } from 'ioredis';
import { checkOptions, closeGracefully, type OptionKeys, type RedisAdapter, type ScriptArg } from '@hilok/core';

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
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
  readonly status?: string;
  /** `true` on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  once?(event: 'ready', listener: () => void): unknown;
}

/** Options of {@link createIoredisAdapter}. */
export interface IoredisAdapterOptions {
  /** Close the command client in `close()` too (default: only when the adapter created it from a URL). */
  ownsClient?: boolean;
}

/** The keys of {@link IoredisAdapterOptions}: an unknown key is an `InvalidArgumentError`. */
const IOREDIS_ADAPTER_OPTION_KEYS = { ownsClient: true } as const satisfies OptionKeys<IoredisAdapterOptions>;

/**
 * A {@link RedisAdapter} over an ioredis client (v5 or v6; `Redis`, `Cluster`, or a
 * Sentinel-managed `Redis`) or a `redis://` URL. Wake-ups use a duplicate of the client,
 * created on the first wait and closed by `close()`; the client you passed stays open.
 *
 * @param connection - your ioredis client, or a URL for a client the adapter creates and owns
 */
export function createIoredisAdapter(connection: IoredisClient | string, options: IoredisAdapterOptions = {}): RedisAdapter {
  const ownsClient = checkOptions<IoredisAdapterOptions>(options, IOREDIS_ADAPTER_OPTION_KEYS).ownsClient ?? typeof connection === 'string';
  const client: IoredisClient = typeof connection === 'string' ? quiet(new Redis(connection) as unknown as IoredisClient) : connection;
  const listeners = new Map<string, (message: string) => void>();
  let subscriber: IoredisClient | undefined;
  let subscriberReady: Promise<IoredisClient> | undefined;

  // Subscribe only once the duplicate is ready: ioredis runs its ready check (INFO) on connect,
  // and a SUBSCRIBE queued ahead of it turns the connection into subscriber mode too early.
  const pubsub = (): Promise<IoredisClient> => {
    subscriberReady ??= new Promise<IoredisClient>((resolve) => {
      const sub = quiet(client.duplicate());
      subscriber = sub;
      sub.on('message', (channel, message) => listeners.get(channel)?.(message));
      if (sub.status === 'ready' || !sub.once) resolve(sub);
      else sub.once('ready', () => resolve(sub));
    });
    return subscriberReady;
  };

  return {
    driver: 'ioredis',
    cluster: client.isCluster !== false,
    // ioredis writes each command to the socket at once: several smaller batches overlap
    // Redis's work on one with Node's on the next (measured in packages/bench, 64 tasks).
    maxBatch: IOREDIS_MAX_BATCH,
    evalsha: (sha: string, keys: readonly string[], args: readonly ScriptArg[]) => client.evalsha(sha, keys.length, ...keys, ...args),
    eval: (script: string, keys: readonly string[], args: readonly ScriptArg[]) => client.eval(script, keys.length, ...keys, ...args),
    async subscribe(channel, onMessage) {
      listeners.set(channel, onMessage);
      try {
        await (await pubsub()).subscribe(channel);
      } catch (err) {
        listeners.delete(channel);
        throw err;
      }
    },
    async unsubscribe(channel) {
      listeners.delete(channel);
      await subscriber?.unsubscribe(channel);
    },
    async close() {
      listeners.clear();
      await Promise.all([subscriber && closeClient(subscriber), ownsClient && closeClient(client)]);
      subscriber = undefined;
      subscriberReady = undefined;
    },
  };
}

/** Errors reach callers through rejected commands; without a listener ioredis would log them. */
function quiet(client: IoredisClient): IoredisClient {
  client.on('error', () => undefined);
  return client;
}

function closeClient(client: IoredisClient): Promise<void> {
  return closeGracefully(
    () => client.quit(),
    () => client.disconnect(),
  );
}
