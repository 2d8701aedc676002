/** One argument of a script call. Numbers are sent as their decimal string. */
export type ScriptArg = string | number;

/**
 * The whole contract between hilok and a Redis driver. It is deliberately tiny: every lock
 * kind is a set of Lua scripts plus pub/sub wake-ups, so a driver only has to run scripts and
 * relay channel messages. Everything else — the EVALSHA → NOSCRIPT → EVAL fallback, the script
 * cache, reply coercion, timeouts and error classification — lives in `@hilok/core`.
 *
 * Implementations: `@hilok/ioredis`, `@hilok/node-redis`. Run `@hilok/contract-tests` against
 * a new one.
 */
export interface RedisAdapter {
  /** Short driver name for diagnostics, e.g. `"ioredis"`. */
  readonly driver: string;
  /**
   * `false` when every command goes to one server (a standalone or Sentinel-managed client), so
   * independent locks may share one script call; `true` or absent when commands are routed by
   * key slot (Redis Cluster), where only keys of one slot are batched together.
   */
  readonly cluster?: boolean;
  /**
   * Most locks one batched script call carries on this adapter (default 64). A driver that
   * writes every command to the socket at once (ioredis) does better with smaller batches: the
   * first reaches Redis while later ones are still being built, so Redis and Node work at the
   * same time. A driver that coalesces a tick's commands into one write (node-redis) splits
   * too, with {@link RedisAdapter.coalescesWrites}.
   */
  readonly maxBatch?: number;
  /**
   * `true` when the driver gathers every command issued in one event-loop turn into one socket
   * write (node-redis does, in a `setImmediate`). The runner then hands such a driver one batched
   * script call per turn: the first batch reaches Redis, which works on it while Node builds the
   * next, instead of all batches of a tick arriving together and Redis and Node taking turns.
   * Absent or `false`: every call goes to the driver at once.
   */
  readonly coalescesWrites?: boolean;
  /**
   * `true` when wake-ups travel over sharded pub/sub (Redis ≥ 7 Cluster): core then runs the
   * scripts' `SPUBLISH` variants, and {@link RedisAdapter.subscribe} must listen with
   * `SSUBSCRIBE`. Absent or `false`: `PUBLISH` and `SUBSCRIBE`. A promise while the adapter is
   * still finding out (it asks the server once): core holds the scripts that publish until it
   * settles, so nothing is published one way while waiters listen the other. Read before every
   * script call that publishes, so it must be cheap (a field, or a getter returning one).
   */
  readonly shardedPubSub?: boolean | PromiseLike<boolean>;
  /**
   * `EVALSHA sha numkeys ...keys ...args`. Must reject with the server's error (whose message
   * starts with `NOSCRIPT` when the script is not cached) or the driver's connection error.
   * On a cluster the call is routed by `keys[0]`.
   */
  evalsha(sha: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
  /** `EVAL script numkeys ...keys ...args` (also caches the script on the server). */
  eval(script: string, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown>;
  /**
   * Subscribe to `channel` on a connection dedicated to pub/sub (owned by the adapter) and
   * call `onMessage` for every message published there. Resolves once the server confirmed
   * the subscription. Core subscribes to a channel at most once at a time. With
   * {@link RedisAdapter.shardedPubSub}, a sharded subscription on the channel's shard, followed
   * to its new master when its slot moves or fails over.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Stop delivering messages of `channel`. */
  unsubscribe(channel: string): Promise<void>;
  /**
   * Optional: lets calls fail fast, with the driver's reason, instead of waiting out
   * `commandTimeout` while the driver cannot connect. The adapter calls `listener(error)` with the
   * driver's error whenever an attempt to (re)connect failed since the connection was last ready
   * (refused, unknown host, authentication rejected, …) — at once if that is the state when
   * `listener` is registered — and `listener(undefined)` once the connection is ready again. A
   * connection that drops is not "down" by itself: only a failed attempt to connect again is.
   * At each such error, core gives up the script calls waiting for a reply with a
   * `RedisUnavailableError` whose `cause` is that error (a late reply is still handled), instead
   * of letting them wait out their deadline.
   * Returns a function that removes `listener`.
   */
  watchConnection?(listener: (error: unknown) => void): () => void;
  /**
   * Release what the adapter owns: always its pub/sub connection; the command connection only
   * if the adapter created it (from a URL). A client passed in by the user stays open.
   */
  close(): Promise<void>;
}

/** True when `value` looks like a {@link RedisAdapter} (duck-typed, so adapters from other copies work). */
export function isRedisAdapter(value: unknown): value is RedisAdapter {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.evalsha === 'function' &&
    typeof v.eval === 'function' &&
    typeof v.subscribe === 'function' &&
    typeof v.unsubscribe === 'function' &&
    typeof v.close === 'function' &&
    typeof v.driver === 'string'
  );
}
