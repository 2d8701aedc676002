import { Decoder, GlideClient, ProtocolVersion, type GlideClientConfiguration, type PubSubMsg } from '@valkey/valkey-glide';
import { ClosedError, InvalidArgumentError, type RedisAdapter, type ScriptArg, type ShardedPubSubOption } from '@hilok/core';
import { checkOptions, connectionDown, SHARDED_PUBSUB_PROBE, shardedPubSubMode, type DriverClients, type OptionKeys } from '@hilok/core/internal';

/** Most locks per batched script call on GLIDE (see `RedisAdapter.maxBatch`). */
const GLIDE_MAX_BATCH = 32;

/** How long the wake-up client is kept without any subscribed channel before it is closed. */
const SUBSCRIBER_IDLE_MS = 5_000;

/**
 * How often GLIDE checks that the wake-up client's subscriptions are live on the server and
 * subscribes again where not (a reconnect, a sharded channel whose slot moved to another master).
 */
const RECONCILE_MS = 100;

/**
 * How long a SUBSCRIBE may go unconfirmed before the adapter asks whether the channel is allowed
 * (GLIDE does not tell a refused subscription from a slow one); allowed, it waits on.
 */
const SUBSCRIBE_CONFIRM_MS = 250;

/** Replies as strings, numbers, arrays and null, whatever `defaultDecoder` the user's client has. */
const AS_STRINGS = { decoder: Decoder.String } as const;

/**
 * The part of a Valkey GLIDE `GlideClient` or `GlideClusterClient` (`@valkey/valkey-glide` ≥ 2.3)
 * hilok uses. Structural, so a client of another copy of the package fits too.
 */
export interface ValkeyGlideClient {
  /** Any command, routed by the client (by the key of EVAL/EVALSHA on a cluster). */
  customCommand(args: string[], options?: { decoder?: Decoder }): Promise<unknown>;
  /** Dynamic pub/sub (GLIDE ≥ 2.3): resolves once the server confirmed, or rejects after `timeoutMs` (0: no limit). */
  subscribe?(channels: Iterable<string>, timeoutMs: number): Promise<void>;
  unsubscribeLazy?(channels?: Iterable<string> | null): Promise<void>;
  /** Sharded pub/sub (cluster clients, Redis ≥ 7). */
  ssubscribe?(channels: Iterable<string>, timeoutMs: number): Promise<void>;
  sunsubscribeLazy?(channels?: Iterable<string> | null): Promise<void>;
  /** Present on `GlideClusterClient` only. */
  invokeScriptWithRoute?: unknown;
  close(errorMessage?: string): void;
}

/** Options of {@link createValkeyGlideAdapter}. */
export interface ValkeyGlideAdapterOptions {
  /** Close the command client in `close()` too (default: only when the adapter created it from a URL). */
  ownsClient?: boolean;
  /**
   * Wake-ups over sharded pub/sub on a cluster (`SPUBLISH` / `SSUBSCRIBE`, Redis ≥ 7.0): each
   * message stays on its lock's shard instead of crossing the whole cluster bus. `'auto'`
   * (default): on a `GlideClusterClient`, once the server says it is Redis ≥ 7.0 (asked once);
   * `true`: always on a cluster (every node ≥ 7.0); `false`: plain pub/sub. A `GlideClient`
   * always uses plain pub/sub. Every process on one cluster must decide alike (see docs/sizing.md).
   */
  shardedPubSub?: ShardedPubSubOption;
}

/** The keys of {@link ValkeyGlideAdapterOptions}: an unknown key is an `InvalidArgumentError`. */
const GLIDE_ADAPTER_OPTION_KEYS = { ownsClient: true, shardedPubSub: true } as const satisfies OptionKeys<ValkeyGlideAdapterOptions>;

/** What a GLIDE client keeps at run time that hilok reads to open its wake-up client (not in GLIDE's typings). */
interface GlideInternals {
  /** The configuration the client was created with (GLIDE keeps it for reconnects). */
  config?: GlideClientConfiguration;
  /** The socket to GLIDE's native core. */
  socket?: { unref?(): unknown };
  /** Set by `close()`. */
  isClosed?: boolean;
  constructor: { createClient?(config: GlideClientConfiguration): Promise<ValkeyGlideClient> };
}

/**
 * A {@link RedisAdapter} over a Valkey GLIDE client (`GlideClient` or `GlideClusterClient`,
 * `@valkey/valkey-glide` ≥ 2.3) or a `redis://` / `rediss://` URL (a standalone `GlideClient` the
 * adapter creates and owns).
 *
 * GLIDE has no `duplicate()`: wake-ups use one more client of the same class, created on the
 * first wait from the configuration your client was created with (RESP3, with a message
 * callback that hands each channel's messages to hilok), subscribed and unsubscribed per lock
 * with GLIDE's dynamic `subscribe` / `ssubscribe`. It never keeps the process alive, is closed
 * after 5 s without any subscribed channel, and by `close()`; your client stays open.
 *
 * @param connection - your GLIDE client, or a URL for a client the adapter creates and owns
 */
export function createValkeyGlideAdapter(connection: ValkeyGlideClient | string, options: ValkeyGlideAdapterOptions = {}): RedisAdapter {
  const checked = checkOptions<ValkeyGlideAdapterOptions>(options, GLIDE_ADAPTER_OPTION_KEYS);
  const ownsClient = checked.ownsClient ?? typeof connection === 'string';
  if (typeof connection !== 'string') checkValkeyGlideClient(connection);
  let client: ValkeyGlideClient | undefined = typeof connection === 'string' ? undefined : connection;
  let closed = false;
  /** The client being created from a URL (GLIDE connects in `createClient`). */
  let connecting: Promise<ValkeyGlideClient> | undefined;
  const connect = (url: string): Promise<ValkeyGlideClient> => {
    connecting ??= GlideClient.createClient(configFromUrl(url)).then(
      (c) => {
        connecting = undefined;
        if (closed) c.close();
        else client = c as unknown as ValkeyGlideClient;
        return c as unknown as ValkeyGlideClient;
      },
      (err: unknown) => {
        // The calls made meanwhile fail with the driver's reason; the next call tries again.
        connecting = undefined;
        throw connectionDown(connectError(err));
      },
    );
    return connecting;
  };
  if (typeof connection === 'string') {
    configFromUrl(connection); // a URL GLIDE cannot use is an InvalidArgumentError now
    connect(connection).catch(() => undefined);
  }
  const commands = (): Promise<ValkeyGlideClient> => {
    if (client) return Promise.resolve(client);
    if (closed) return Promise.reject(new ClosedError());
    return connect(connection as string);
  };

  const cluster = typeof connection !== 'string' && isClusterClient(connection);
  const run = async (args: string[]): Promise<unknown> => {
    const c = client ?? (await commands());
    try {
      return await c.customCommand(args, AS_STRINGS);
    } catch (err) {
      throw serverError(err);
    }
  };
  const mode = shardedPubSubMode(checked.shardedPubSub, {
    cluster,
    driverSupport:
      typeof connection !== 'string' && typeof connection.ssubscribe === 'function'
        ? true
        : 'this GLIDE cluster client has no ssubscribe (@valkey/valkey-glide 2.3 or later has): sharded pub/sub needs it',
    probe: () => run(['EVAL', SHARDED_PUBSUB_PROBE, '0']),
  });

  /** A channel was refused by an ACL on this adapter (see checkChannel). */
  let channelsRefused = false;
  /**
   * Whether the server lets this user use `channel`: a PUBLISH of an empty message (SPUBLISH when
   * sharded) on the command connection rejects with NOPERM when not — the one side effect, a
   * spurious wake of a waiter elsewhere, costs it one extra attempt. Throws the server's error.
   */
  const checkChannel = async (channel: string, sharded: boolean): Promise<void> => {
    try {
      await run([sharded ? 'SPUBLISH' : 'PUBLISH', channel, '']);
      channelsRefused = false;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOPERM')) channelsRefused = true;
      throw err;
    }
  };
  /** Our listener per subscribed channel, called by the wake-up client's message callback. */
  const listeners = new Map<string, (message: string) => void>();
  let subscriber: Promise<ValkeyGlideClient> | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  const dropSubscriber = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    const sub = subscriber;
    subscriber = undefined;
    // Forget the subscriptions first: GLIDE would otherwise try to restore them on the dropped
    // connection (and log an error for each).
    sub?.then(
      (s) => void Promise.all([s.unsubscribeLazy?.(null), cluster ? s.sunsubscribeLazy?.(null) : undefined]).catch(() => undefined).then(() => s.close()),
      () => undefined,
    );
  };
  /** Close the wake-up client once no channel has been subscribed for a while (unref'd timer). */
  const idleCheck = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (listeners.size > 0 || !subscriber) return;
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      if (listeners.size === 0) dropSubscriber();
    }, SUBSCRIBER_IDLE_MS);
    idleTimer.unref();
  };
  const deliver = (msg: PubSubMsg): void => listeners.get(String(msg.channel))?.(String(msg.message));

  const pubsub = (): Promise<ValkeyGlideClient> => {
    subscriber ??= commands().then(async (c) => {
      const internals = c as unknown as GlideInternals;
      const config = internals.config;
      const create = internals.constructor.createClient;
      if (!config || typeof create !== 'function') {
        throw new InvalidArgumentError('connection', 'this GLIDE client keeps no configuration to open a wake-up connection with (@valkey/valkey-glide 2.3 or later does)');
      }
      const { clientSideCache: _cache, pubsubSubscriptions: _subs, ...rest } = config as GlideClientConfiguration & { clientSideCache?: unknown };
      let sub: ValkeyGlideClient;
      try {
        sub = await create.call(internals.constructor, {
          ...rest,
          // Pub/sub in GLIDE needs RESP3; the callback gets every message of every channel.
          protocol: ProtocolVersion.RESP3,
          lazyConnect: false,
          pubsubSubscriptions: { channelsAndPatterns: {}, callback: deliver },
          advancedConfiguration: { ...rest.advancedConfiguration, pubsubReconciliationIntervalMs: RECONCILE_MS },
        } as GlideClientConfiguration);
      } catch (err) {
        throw connectionDown(connectError(err));
      }
      if (typeof sub.subscribe !== 'function') {
        sub.close();
        throw new InvalidArgumentError('connection', 'this GLIDE client has no dynamic subscribe (@valkey/valkey-glide 2.3 or later has)');
      }
      // hilok's wake-up socket must not keep the process alive: while a lock is waited for, the
      // waiter's own timer does; when nothing is held or waited for, nothing of hilok's should.
      (sub as unknown as GlideInternals).socket?.unref?.();
      return sub;
    });
    const current = subscriber;
    current.catch(() => {
      if (subscriber === current) subscriber = undefined;
    });
    return current;
  };

  return {
    driver: 'valkey-glide',
    cluster,
    get shardedPubSub() {
      return mode.current;
    },
    maxBatch: GLIDE_MAX_BATCH,
    evalsha: (sha: string, keys: readonly string[], args: readonly ScriptArg[]) => run(['EVALSHA', sha, String(keys.length), ...keys, ...args.map(String)]),
    eval: (script: string, keys: readonly string[], args: readonly ScriptArg[]) => run(['EVAL', script, String(keys.length), ...keys, ...args.map(String)]),
    async subscribe(channel, onMessage) {
      listeners.set(channel, onMessage);
      clearTimeout(idleTimer);
      idleTimer = undefined;
      try {
        const sharded = await mode.settled();
        const sub = await pubsub();
        const listen = (timeoutMs: number): Promise<void> =>
          sharded ? (sub.ssubscribe as NonNullable<ValkeyGlideClient['ssubscribe']>).call(sub, [channel], timeoutMs) : (sub.subscribe as NonNullable<ValkeyGlideClient['subscribe']>).call(sub, [channel], timeoutMs);
        // Refused before on this adapter: ask first rather than have GLIDE retry a refusal.
        if (channelsRefused) await checkChannel(channel, sharded);
        try {
          await listen(SUBSCRIBE_CONFIRM_MS);
        } catch {
          // Not confirmed in time. GLIDE reports no reason (a refusal is only logged, and retried
          // in a loop): stop it, and find out whether an ACL refuses the channel.
          await (sharded ? sub.sunsubscribeLazy?.([channel]) : sub.unsubscribeLazy?.([channel]))?.catch(() => undefined);
          await checkChannel(channel, sharded);
          // Allowed: a slow link. Until the server confirms (GLIDE re-subscribes after a reconnect).
          await listen(0);
        }
      } catch (err) {
        if (listeners.get(channel) === onMessage) listeners.delete(channel);
        idleCheck();
        throw err;
      }
    },
    async unsubscribe(channel) {
      listeners.delete(channel);
      const current = subscriber;
      if (current) {
        const sub = await current.catch(() => undefined);
        // Lazy: GLIDE drops the channel from the subscriptions it maintains and tells the server
        // without our waiting (a silent server must not hold up a waiter's exit).
        if (sub && subscriber === current) {
          const done = mode.current === true ? sub.sunsubscribeLazy?.([channel]) : sub.unsubscribeLazy?.([channel]);
          await done?.catch(() => undefined);
        }
      }
      idleCheck();
    },
    async close() {
      closed = true;
      listeners.clear();
      dropSubscriber();
      if (!ownsClient) return;
      if (client) client.close();
      else await connecting?.then((c) => c.close(), () => undefined);
    },
  };
}

/** GLIDE's names of the server errors core reads, and the codes Redis sent. */
const SERVER_CODES: Record<string, string> = { NoScriptError: 'NOSCRIPT', PermissionDenied: 'NOPERM' };
const GLIDE_SERVER_ERROR = /^An error was signalled by the server: - (\w+): ([\s\S]*)$/;

/**
 * GLIDE reports a server error as "An error was signalled by the server: - NoScriptError: …"
 * where Redis said "NOSCRIPT …" (and "PermissionDenied: …" for "NOPERM …"): core runs EVAL on a
 * message starting with NOSCRIPT and names the missing ACL permission from NOPERM, so those get
 * the server's code back, with GLIDE's error as `cause`. Others pass unchanged.
 */
function serverError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const match = GLIDE_SERVER_ERROR.exec(err.message);
  const code = match && SERVER_CODES[match[1] as string];
  return code ? new Error(`${code} ${match[2] as string}`, { cause: err }) : err;
}

const GLIDE_CONNECT_ERROR = /Received error for address `(.*):(\d+)`: ([\s\S]*?)\s*\)?\s*$/;

/**
 * GLIDE's connection error as core reads one: GLIDE wraps the server's reply or the socket's
 * failure ("Connection error: Standalone(Received error for address `host:port`: WRONGPASS: …)")
 * — given back as the server's "WRONGPASS …" / "NOAUTH …", or ETIMEDOUT for "timed out" (how
 * GLIDE reports a refused or unreachable address), with the address, and GLIDE's error as cause.
 */
function connectError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const match = GLIDE_CONNECT_ERROR.exec(err.message);
  if (!match) return err;
  const [, address, port, reason] = match as unknown as [string, string, string, string];
  const reply = /^([A-Z]+): ([\s\S]*)$/.exec(reason);
  const error = new Error(reply ? `${reply[1]} ${reply[2]}` : reason, { cause: err });
  return Object.assign(error, { address, port: Number(port), ...(/timed out/.test(reason) && !reply && { code: 'ETIMEDOUT' }) });
}

/**
 * The `GlideClient` configuration of a `redis://` or `rediss://` URL: host, port, database,
 * username and password, TLS for `rediss:`.
 */
function configFromUrl(url: string): GlideClientConfiguration {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new InvalidArgumentError('connection', `Valkey GLIDE connects over TCP only: expected a redis:// or rediss:// URL, got ${parsed.protocol}//`);
  }
  const tls = parsed.protocol === 'rediss:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1';
  const port = parsed.port ? Number(parsed.port) : 6379;
  const db = parsed.pathname.replace(/^\//, '');
  const password = decodeURIComponent(parsed.password);
  const username = decodeURIComponent(parsed.username);
  return {
    addresses: [{ host, port }],
    ...(tls && { useTLS: true }),
    ...(db !== '' && { databaseId: Number(db) }),
    ...(password !== '' && { credentials: { password, ...(username !== '' && { username }) } }),
    // GLIDE's own default is 250 ms; hilok's calls carry their own deadlines (`commandTimeout`).
    requestTimeout: 10_000,
  };
}

/** A `GlideClusterClient` (or one of another copy of the package). */
function isClusterClient(client: ValkeyGlideClient): boolean {
  return typeof client.invokeScriptWithRoute === 'function';
}

/**
 * How @hilok/valkey-glide tells its clients (core's driver bindings ask it): a GLIDE client has
 * `customCommand`; an ioredis (`evalsha`) or node-redis (`evalSha`) client is named, with the
 * package that fits it.
 */
export const valkeyGlideClients: DriverClients<ValkeyGlideClient> = {
  isClient: (value): value is ValkeyGlideClient =>
    typeof value === 'object' && value !== null && typeof (value as { customCommand?: unknown }).customCommand === 'function',
  describeOther(value) {
    const c = value as Record<string, unknown> | null;
    if (typeof c !== 'object' || c === null) return undefined;
    if (typeof c.evalsha === 'function') {
      const kind = c.isCluster === true ? 'an ioredis Cluster' : 'an ioredis client';
      return `this is ${kind}, not a Valkey GLIDE client: use @hilok/ioredis for it (or pass a GlideClient / GlideClusterClient to @hilok/valkey-glide)`;
    }
    if (typeof c.evalSha === 'function') {
      return 'this is a node-redis client, not a Valkey GLIDE client: use @hilok/node-redis for it (or pass a GlideClient / GlideClusterClient to @hilok/valkey-glide)';
    }
    return undefined;
  },
};

/** A client of another driver is an `InvalidArgumentError` now, not a confusing error at the first lock call. */
function checkValkeyGlideClient(client: unknown): void {
  if (valkeyGlideClients.isClient(client)) return;
  const other = valkeyGlideClients.describeOther?.(client);
  if (other) throw new InvalidArgumentError('connection', other);
}
