import { Redis } from 'ioredis';
import { createClient } from 'redis';
import type { RedisAdapter } from '@hilok/core';
import { connectionFailureReason } from '@hilok/core/internal';
import { createIoredisAdapter } from '@hilok/ioredis';
import { createNodeRedisAdapter } from '@hilok/node-redis';
import { UnreachableError } from './errors.js';

/** The drivers the CLI can use. */
export type Driver = 'ioredis' | 'node-redis';

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
  /** Send one command; replies come back raw (RESP2: arrays are flat, e.g. HGETALL). */
  command(args: readonly string[]): Promise<unknown>;
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
    throw new UnreachableError(`bad Redis URL "${url}": expected redis://[[user]:password@]host[:port][/db]`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UnreachableError(`bad Redis URL "${maskUrl(url)}": the scheme must be redis:// or rediss://, not ${parsed.protocol}//`);
  }
  if (!parsed.hostname) throw new UnreachableError(`bad Redis URL "${maskUrl(url)}": no host`);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UnreachableError(`bad Redis URL "${maskUrl(url)}": the database must be a number, not "${db}"`);
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
 * Connect to `url` with `driver`, answering PING within {@link CONNECT_TIMEOUT_MS}.
 * @throws {@link UnreachableError} for a bad URL or an unreachable / unresponsive server
 */
export async function connect(url: string, driver: Driver): Promise<Connection> {
  checkUrl(url);
  return driver === 'ioredis' ? connectIoredis(url) : connectNodeRedis(url);
}

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
    command: ([name, ...args]) => client.call(name as string, ...args),
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
    command: (args) => client.sendCommand([...args]),
    adapter,
    async close() {
      await adapter.close().catch(() => undefined);
      await client.close().catch(() => client.destroy());
    },
  };
}
