import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return sleep(ms);
}

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 (bind port 0, read it, close).
 *
 * The port is only free at the moment of asking: another process may take it before the caller
 * binds it, so callers that start servers must retry on EADDRINUSE (the server helpers do).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the bound port'))));
    });
  });
}

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many milliseconds. Default 10 000. */
  timeout?: number;
  /** Milliseconds between attempts. Default 50. */
  interval?: number;
  /** Describes what is awaited, for the timeout error. */
  message?: string;
}

/**
 * Polls `predicate` until it returns a truthy value (or a promise of one), and resolves with
 * that value. A predicate that throws counts as "not yet"; the last error is reported if the
 * wait times out, which usually explains why.
 *
 * @example
 * await waitFor(async () => (await server.dbsize()) === 0, { timeout: 5_000 });
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const { timeout = 10_000, interval = 50, message = 'condition' } = options;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastValue = value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why =
        lastError !== undefined
          ? `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
          : `; last value: ${JSON.stringify(lastValue)}`;
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${why}`);
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

/**
 * Keeps the last `capacity` bytes written to it: enough of a server's log to explain a
 * failed start without holding a chatty server's whole output in memory.
 */
export class RingBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly capacity = 64 * 1024) {}

  /** Appends a chunk, dropping the oldest bytes beyond capacity. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.capacity && this.chunks.length > 1) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  /** The retained bytes as UTF-8 text. */
  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.capacity)).toString('utf8');
  }
}
