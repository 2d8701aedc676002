import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import type { RedisAdapter } from '@hilok/core';
import { connectionFailureReason } from '@hilok/core/internal';
import { createIoredisAdapter } from '@hilok/ioredis';
import { createNodeRedisAdapter } from '@hilok/node-redis';
import { UnreachableError } from './errors.js';

/** The drivers the CLI can use. */
export type Driver = 'ioredis' | 'node-redis';

/** A host and port (a sentinel, a cluster node). */
export interface HostPort {
  host: string;
  port: number;
}

/** Where to connect: a server (or any node of a cluster) by URL, or a master through sentinels. */
export interface Target {
  /** Redis URL; with `sentinel`, only its user, password and database are used (for the master). */
  url: string;
  /** Reach the master named `name` through these sentinels instead of `url`'s host. */
  sentinel?: { sentinels: HostPort[]; name: string } | undefined;
}

/** One master the connection can address directly (for `SCAN`, which works node by node). */
export interface NodeCommander {
  /** `host:port` of the node. */
  readonly address: string;
  /** Send one command to this node only. */
  command(args: readonly string[]): Promise<unknown>;
}

/** Commands without a key: on a cluster they go to any node (the rest are routed by their first argument). */
const KEYLESS = new Set(['TIME', 'INFO', 'PING', 'SCAN', 'PUBLISH', 'CLUSTER']);

/** Longest wait for the first connection, in ms: an unreachable Redis fails fast, never hangs. */
export const CONNECT_TIMEOUT_MS = 3_000;

/**
 * One connection to Redis through either driver: plain commands for read-only inspection, and
 * an adapter over the same client for the lock classes and core's scripts.
 */
export interface Connection {
  /** The driver in use. */
  readonly driver: Driver;
  /** The URL, with any password masked (for messages). */
  readonly displayUrl: string;
  /** `standalone` (one server), `cluster` (every master, found from the given node) or `sentinel`. */
  readonly topology: 'standalone' | 'cluster' | 'sentinel';
  /**
   * Send one command; replies come back raw (RESP2: arrays are flat, e.g. HGETALL). On a cluster
   * a keyed command goes to its slot's master (the driver follows MOVED / ASK).
   */
  command(args: readonly string[]): Promise<unknown>;
  /** Every master: the server itself, or each master of a cluster. */
  masters(): Promise<NodeCommander[]>;
  /** A {@link RedisAdapter} over the same client (it does not own the client). */
  readonly adapter: RedisAdapter;
  /** Close the adapter and the client. */
  close(): Promise<void>;
}

/** `url` with the password replaced by `***`. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Check that `url` is a usable Redis URL (`redis://` or `rediss://`, a host, a numeric port, a
 * numeric database) before any driver sees it.
 * @throws {@link UnreachableError} (exit code 3) when it is not
 */
export function checkUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UnreachableError(`bad Redis URL "${url}": expected redis://[[user]:password@]host[:port][/db]`, 'BAD_URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UnreachableError(`bad Redis URL "${maskUrl(url)}": the scheme must be redis:// or rediss://, not ${parsed.protocol}//`, 'BAD_URL');
  }
  if (!parsed.hostname) throw new UnreachableError(`bad Redis URL "${maskUrl(url)}": no host`, 'BAD_URL');
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UnreachableError(`bad Redis URL "${maskUrl(url)}": the database must be a number, not "${db}"`, 'BAD_URL');
  return parsed;
}

function unreachable(url: string, err: unknown): UnreachableError {
  // The same reason as the lock calls' RedisUnavailableError gives (a system code, else the driver's message).
  const reason = connectionFailureReason(err);
  return new UnreachableError(`cannot reach Redis at ${maskUrl(url)} (${reason}); is it running? (set --url or REDIS_URL)`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Connect with `driver` to `target` (a URL, or a master through sentinels), answering PING
 * within {@link CONNECT_TIMEOUT_MS}. A URL that names a cluster node (`INFO cluster` says
 * `cluster_enabled:1`) gives a connection to the whole cluster, discovered from that node.
 * @throws {@link UnreachableError} for a bad URL or an unreachable / unresponsive server
 */
export async function connect(target: string | Target, driver: Driver): Promise<Connection> {
  const t = typeof target === 'string' ? { url: target } : target;
  const parsed = checkUrl(t.url);
  if (t.sentinel) return driver === 'ioredis' ? connectIoredisSentinel(t.url, parsed, t.sentinel) : connectNodeRedisSentinel(t.url, parsed, t.sentinel);
  const conn = driver === 'ioredis' ? await connectIoredis(t.url) : await connectNodeRedis(t.url);
  let info: string;
  try {
    info = String(await conn.command(['INFO', 'cluster']));
  } catch {
    return conn; // INFO refused (ACL): use it as one server
  }
  if (!/^cluster_enabled:1\b/m.test(info)) return conn;
  await conn.close();
  return driver === 'ioredis' ? connectIoredisCluster(t.url, parsed) : connectNodeRedisCluster(t.url, parsed);
}

/** The credentials and TLS of a URL, for clients built from host and port (cluster nodes, sentinel masters). */
function credentials(u: URL): { username?: string; password?: string; tls: boolean; db: number } {
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    tls: u.protocol === 'rediss:',
    db: Number(u.pathname.replace(/^\//, '') || 0),
  };
}

const sentinelLabel = (s: { sentinels: HostPort[]; name: string }) => `master "${s.name}" via sentinel ${s.sentinels.map((a) => `${a.host}:${a.port}`).join(',')}`;

async function connectIoredis(url: string): Promise<Connection> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    commandTimeout: 5_000,
  });
  let lastError: unknown;
  client.on('error', (err) => (lastError = err));
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      CONNECT_TIMEOUT_MS + 500,
      () => client.disconnect(),
    );
  } catch (err) {
    client.disconnect();
    // ioredis rejects with "Connection is closed."; the socket error says why.
    throw unreachable(url, lastError ?? err);
  }
  // Connected: from now on ride out short outages (watch keeps running through a restart).
  client.options.retryStrategy = (times: number) => Math.min(100 * times, 2_000);
  const adapter = createIoredisAdapter(client as never, { ownsClient: false });
  return {
    driver: 'ioredis',
    displayUrl: maskUrl(url),
    topology: 'standalone',
    command: ([name, ...args]) => client.call(name as string, ...args),
    masters: async () => [{ address: `${client.options.host}:${client.options.port}`, command: ([name, ...args]) => client.call(name as string, ...args) }],
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function connectNodeRedis(url: string): Promise<Connection> {
  let connected = false;
  const client = createClient({
    url,
    socket: {
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (retries: number) => (connected ? Math.min(100 * (retries + 1), 2_000) : false),
    },
  });
  let lastError: unknown;
  client.on('error', (err: unknown) => (lastError = err));
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      CONNECT_TIMEOUT_MS + 500,
      () => void client.destroy(),
    );
  } catch (err) {
    if (client.isOpen) client.destroy();
    throw unreachable(url, (err as { code?: string })?.code === 'ETIMEDOUT' ? err : (lastError ?? err));
  }
  connected = true;
  const adapter = createNodeRedisAdapter(client as never, { ownsClient: false });
  return {
    driver: 'node-redis',
    displayUrl: maskUrl(url),
    topology: 'standalone',
    command: (args) => client.sendCommand([...args]),
    masters: async () => [{ address: `${new URL(url).hostname}:${new URL(url).port || 6379}`, command: (args) => client.sendCommand([...args]) }],
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.close().catch(() => client.destroy());
    },
  };
}

async function connectIoredisCluster(url: string, u: URL): Promise<Connection> {
  const { username, password, tls } = credentials(u);
  const client = new Cluster([{ host: u.hostname, port: Number(u.port || 6379) }], {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(tls ? { tls: {} } : {}),
      connectTimeout: CONNECT_TIMEOUT_MS,
      maxRetriesPerRequest: 1,
      commandTimeout: 5_000,
    },
  });
  let lastError: unknown;
  client.on('error', (err) => (lastError = err));
  try {
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS + 500, () => client.disconnect());
  } catch (err) {
    client.disconnect();
    throw unreachable(url, lastError ?? err);
  }
  client.options.clusterRetryStrategy = (times: number) => Math.min(100 * times, 2_000);
  const adapter = createIoredisAdapter(client as never, { ownsClient: false });
  return {
    driver: 'ioredis',
    displayUrl: `cluster via ${maskUrl(url)}`,
    topology: 'cluster',
    // ioredis routes by the command's key and follows MOVED / ASK.
    command: ([name, ...args]) => client.call(name as string, ...args),
    masters: async () =>
      client.nodes('master').map((node) => ({ address: `${node.options.host}:${node.options.port}`, command: ([name, ...args]: readonly string[]) => node.call(name as string, ...args) })),
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function connectNodeRedisCluster(url: string, u: URL): Promise<Connection> {
  const { username, password, tls } = credentials(u);
  let connected = false;
  const client = createCluster({
    rootNodes: [{ url }],
    defaults: {
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (retries: number) => (connected ? Math.min(100 * (retries + 1), 2_000) : false),
        ...(tls ? { tls: true as const } : {}),
      },
    },
  });
  let lastError: unknown;
  client.on('error', (err: unknown) => (lastError = err));
  try {
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS + 500, () => void client.destroy());
  } catch (err) {
    void Promise.resolve(client.destroy()).catch(() => undefined);
    throw unreachable(url, (err as { code?: string })?.code === 'ETIMEDOUT' ? err : (lastError ?? err));
  }
  connected = true;
  const adapter = createNodeRedisAdapter(client as never, { ownsClient: false });
  return {
    driver: 'node-redis',
    displayUrl: `cluster via ${maskUrl(url)}`,
    topology: 'cluster',
    // Routed by the first key (the slot's master); node-redis follows MOVED / ASK.
    command: (args) => client.sendCommand(KEYLESS.has(String(args[0]).toUpperCase()) ? undefined : args[1], false, [...args]),
    masters: async () =>
      client.masters.map((m) => ({ address: `${m.host}:${m.port}`, command: async (args: readonly string[]) => (await client.nodeClient(m)).sendCommand([...args]) })),
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.close().catch(() => client.destroy());
    },
  };
}

async function connectIoredisSentinel(url: string, u: URL, sentinel: { sentinels: HostPort[]; name: string }): Promise<Connection> {
  const { username, password, tls, db } = credentials(u);
  const client = new Redis({
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls: {} } : {}),
    db,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    sentinelRetryStrategy: () => null,
    retryStrategy: () => null,
    commandTimeout: 5_000,
  });
  let lastError: unknown;
  client.on('error', (err) => (lastError = err));
  const label = sentinelLabel(sentinel);
  try {
    await withTimeout(
      client.connect().then(() => client.ping()),
      CONNECT_TIMEOUT_MS + 500,
      () => client.disconnect(),
    );
  } catch (err) {
    client.disconnect();
    throw new UnreachableError(`cannot reach ${label} (${connectionFailureReason(lastError ?? err)}); are the sentinels running and is --name right?`);
  }
  // Follow failovers from now on: ask the sentinels again after a lost connection.
  client.options.retryStrategy = (times: number) => Math.min(100 * times, 2_000);
  client.options.sentinelRetryStrategy = (times: number) => Math.min(100 * times, 2_000);
  const adapter = createIoredisAdapter(client as never, { ownsClient: false });
  const call = ([name, ...args]: readonly string[]) => client.call(name as string, ...args);
  return {
    driver: 'ioredis',
    displayUrl: label,
    topology: 'sentinel',
    command: call,
    masters: async () => [{ address: `${sentinel.name} (sentinel)`, command: call }],
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function connectNodeRedisSentinel(url: string, u: URL, sentinel: { sentinels: HostPort[]; name: string }): Promise<Connection> {
  const { username, password, tls, db } = credentials(u);
  let connected = false;
  const socket = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    reconnectStrategy: (retries: number) => (connected ? Math.min(100 * (retries + 1), 2_000) : false),
  };
  const client = createSentinel({
    name: sentinel.name,
    sentinelRootNodes: sentinel.sentinels,
    // Fail on the first unanswered discovery: node-redis would otherwise retry each second and
    // console.log the error (onto our stdout) until the connect timeout.
    maxCommandRediscovers: 0,
    nodeClientOptions: { ...(username ? { username } : {}), ...(password ? { password } : {}), database: db, socket: { ...socket, ...(tls ? { tls: true as const } : {}) } },
    sentinelClientOptions: { socket },
  });
  let lastError: unknown;
  client.on('error', (err: unknown) => (lastError = err));
  const label = sentinelLabel(sentinel);
  try {
    await withTimeout(client.connect(), CONNECT_TIMEOUT_MS + 500, () => void client.destroy().catch(() => undefined));
  } catch (err) {
    void client.destroy().catch(() => undefined);
    throw new UnreachableError(`cannot reach ${label} (${connectionFailureReason((err as { code?: string })?.code === 'ETIMEDOUT' ? err : (lastError ?? err))}); are the sentinels running and is --name right?`);
  }
  connected = true;
  const adapter = createNodeRedisAdapter(client as never, { ownsClient: false });
  const call = (args: readonly string[]) => client.sendCommand(false, [...args]);
  return {
    driver: 'node-redis',
    displayUrl: label,
    topology: 'sentinel',
    command: call,
    masters: async () => [{ address: `${sentinel.name} (sentinel)`, command: call }],
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.close().catch(() => client.destroy());
    },
  };
}
