import { sendCommandTo, type RespArg, type RespTarget, type RespValue } from './resp.js';
import type { RedisServer } from './server.js';

/**
 * Shared by servers this process does not control as a child process: it talks RESP to
 * `target` and refuses process control with an error naming `why` (e.g. "with REDIS_URL").
 */
export abstract class RemoteRedisServer implements RedisServer {
  abstract readonly kind: 'docker' | 'external';
  readonly pid = undefined;
  readonly dir = undefined;
  readonly host: string;
  readonly port: number;
  readonly url: string;

  protected constructor(
    protected readonly target: RespTarget & { host: string },
    url: string,
    private readonly why: string,
  ) {
    this.host = target.host;
    this.port = target.port;
    this.url = url;
  }

  abstract readonly running: boolean;
  abstract stop(): Promise<void>;

  /** The error process-control methods throw. */
  protected unavailable(method: string): Error {
    return new Error(`${method}() is not available ${this.why}: this server is not a redis-server child process of the test run`);
  }

  command(...args: RespArg[]): Promise<RespValue> {
    return sendCommandTo(this.target, ...args);
  }

  async kill(): Promise<void> {
    throw this.unavailable('kill');
  }

  async restart(): Promise<void> {
    throw this.unavailable('restart');
  }

  async pause(): Promise<void> {
    throw this.unavailable('pause');
  }

  async resume(): Promise<void> {
    throw this.unavailable('resume');
  }

  async dbsize(): Promise<number> {
    return Number(await this.command('DBSIZE'));
  }

  async keys(pattern = '*'): Promise<string[]> {
    return (await this.command('KEYS', pattern)) as string[];
  }

  async flushall(): Promise<void> {
    await this.command('FLUSHALL');
  }

  logs(): string {
    return '';
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}

/**
 * The server named by a `redis://[user:password@]host[:port][/db]` URL (from `REDIS_URL`).
 * `stop()` leaves it running and its data alone: it is shared, so tests using it should use
 * unique key names rather than FLUSHALL.
 */
export class ExternalRedisServer extends RemoteRedisServer {
  readonly kind = 'external' as const;
  readonly running = true;

  constructor(url: string) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'redis:') {
      throw new Error(`REDIS_URL must be a redis:// URL (TLS is not supported by the test harness), got ${parsed.protocol}`);
    }
    const db = Number(parsed.pathname.slice(1) || 0);
    super(
      {
        host: parsed.hostname || '127.0.0.1',
        port: Number(parsed.port || 6379),
        ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
        ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
        ...(db ? { db } : {}),
      },
      url,
      'with REDIS_URL',
    );
  }

  async stop(): Promise<void> {
    // Not ours: leave it running.
  }
}
