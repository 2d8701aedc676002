import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mutex, RedisUnavailableError } from '@hilok/core';
import { freePort, startRedis, type RedisServer } from '@hilok/testing';
import type { DriverCase } from './driver.js';

/** Well under the default `commandTimeout` (5 000 ms): catches a hang, not a speed assertion. */
const FAST_MS = 2_500;

/** The error an acquire rejects with, and how long it took. */
async function failure(mutex: Mutex): Promise<{ error: RedisUnavailableError; ms: number }> {
  const started = performance.now();
  const error = await mutex.acquire('conn:x', { timeout: 10_000 }).then(
    () => expect.fail('acquired'),
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(RedisUnavailableError);
  return { error: error as RedisUnavailableError, ms: performance.now() - started };
}

/** The driver's own error behind a hilok error (an ioredis/node-redis error, maybe wrapped once). */
function driverCode(error: Error): string | undefined {
  const cause = error.cause as { code?: string; errors?: { code?: string }[] } | undefined;
  return cause?.code ?? cause?.errors?.[0]?.code;
}

/**
 * "Redis is down" is fast, specific and actionable: a refused connection, an unknown host and a
 * wrong or missing password fail a lock call well before `commandTimeout`, with a
 * `RedisUnavailableError` whose `cause` is the driver's error and whose message says what to
 * check — and a connection that comes back works again.
 */
export function describeConnectionSuite<C>(driver: DriverCase<C>): void {
  const connecting = driver.connectingClient;
  // Skipped only for a driver with no client that connects later on its own (Valkey GLIDE: its
  // createClient connects or rejects, and reports refused or unknown hosts as connect timeouts
  // without system codes — see packages/valkey-glide/README.md and docs/drivers.md).
  describe.skipIf(!connecting)(`connection failures: ${driver.name}`, () => {
    const clients: C[] = [];
    const managers: Mutex[] = [];
    let secured: RedisServer;
    const open = (url: string): Mutex => {
      const client = (connecting as (url: string) => C)(url);
      clients.push(client);
      const mutex = new Mutex(driver.adapter(client), { commandTimeout: 5_000, ttl: 5_000 });
      managers.push(mutex);
      return mutex;
    };

    beforeAll(async () => {
      secured = await startRedis({ args: ['--requirepass', 'sekret'] });
    });
    afterAll(async () => {
      await Promise.allSettled(managers.map((m) => m.close()));
      await Promise.allSettled(clients.map((c) => driver.closeClient(c)));
      await secured?.stop();
    });

    it('a refused connection fails fast with ECONNREFUSED as cause, naming host and port', async () => {
      const port = await freePort();
      const { error, ms } = await failure(open(`redis://127.0.0.1:${port}`));
      expect(ms).toBeLessThan(FAST_MS);
      expect(driverCode(error)).toBe('ECONNREFUSED');
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.message).toMatch(/host and port/);
    });

    it('an unknown host fails fast with ENOTFOUND as cause', async () => {
      const { error, ms } = await failure(open('redis://nonexistent.invalid:6379'));
      expect(ms).toBeLessThan(FAST_MS);
      expect(driverCode(error)).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
      expect(error.message).toMatch(/resolve.*host name/);
    });

    it('a wrong password is an authentication error', async () => {
      const { error, ms } = await failure(open(`redis://:wrong@127.0.0.1:${secured.port}`));
      expect(ms).toBeLessThan(FAST_MS);
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.message).toMatch(/authentication.*password/i);
    });

    it('a missing password is an authentication error', async () => {
      const { error, ms } = await failure(open(`redis://127.0.0.1:${secured.port}`));
      expect(ms).toBeLessThan(FAST_MS);
      expect(error.cause).toBeInstanceOf(Error);
      expect(error.message).toMatch(/authentication.*password/i);
    });

    it('waits through a healthy connect, fails fast while the server is down, and works once it is back', async () => {
      const server = await startRedis();
      try {
        // Called before the client connected: the initial connect must not fail the call.
        const mutex = open(server.url);
        await (await mutex.acquire('conn:back')).release();
        await server.kill();
        // The drop itself is not "down"; the refused reconnects are.
        await expect.poll(async () => (await failure(mutex)).error.cause, { timeout: 5_000 }).toBeDefined();
        expect((await failure(mutex)).ms).toBeLessThan(FAST_MS);
        await server.restart();
        await expect.poll(() => mutex.acquire('conn:back').then((l) => l.release()), { timeout: 10_000 }).toBe(true);
      } finally {
        await server.stop();
      }
    });
  });
}
