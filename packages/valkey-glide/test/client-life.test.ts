/**
 * Connections behave like the user's own (GLIDE): a process that closed its client exits without
 * close(), hilok's wake-up client goes when idle or closed, a manager from a URL works and owns its
 * client, a server that cannot be reached fails calls with the driver's reason, and clients of the
 * other drivers are turned away naming the package that fits (both ways).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { GlideClient, GlideClusterClient } from '@valkey/valkey-glide';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, sendCommandTo, startRedis, type RedisServer } from '@hilok/testing';
import { handOffMs, runChild } from '@hilok/contract-tests';
import { Mutex as IoredisMutex } from '@hilok/ioredis';
import { Mutex as NodeRedisMutex } from '@hilok/node-redis';
import { createValkeyGlideAdapter, InvalidArgumentError, Mutex, RedisUnavailableError } from '@hilok/valkey-glide';
import { glide } from './drivers.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

/** The connections `target` has other than the one asking (named `name`, if given). */
async function connections(target: RedisServer, name?: string): Promise<number> {
  const lines = String(await target.command('CLIENT', 'LIST')).trim().split('\n');
  return lines.filter((line) => !line.includes('cmd=client|list') && (name === undefined || line.includes(` name=${name} `))).length;
}

describe('wake-ups', () => {
  it('a waiter is woken by pub/sub (not its timer), on a RESP2 client too', async () => {
    for (const protocol of [undefined, 1 /* ProtocolVersion.RESP2 */]) {
      const client = await GlideClient.createClient({ addresses: [{ host: '127.0.0.1', port: server.port }], ...(protocol !== undefined && { protocol }) });
      const mutex = new Mutex(client);
      const woken: string[] = [];
      const onHandoff = (event: unknown): void => void woken.push((event as { resource: string }).resource);
      subscribe('hilok:handoff', onHandoff);
      try {
        const held = await mutex.acquire('life:wake');
        expect(await handOffMs(held, mutex.acquire('life:wake', { timeout: 4_000 }))).toBeLessThan(1_000);
        expect(woken).toContain('life:wake');
      } finally {
        unsubscribe('hilok:handoff', onHandoff);
        await mutex.close();
        client.close();
      }
    }
  });

  it("the wake-up client is opened by the first wait, closed after 5 s without subscriptions, and by close(); the user's client stays", async () => {
    // It inherits the user's configuration, its client name too. GLIDE drops a closed client's
    // connection a second or two after close().
    const client = await GlideClient.createClient({ addresses: [{ host: '127.0.0.1', port: server.port }], clientName: 'life-idle' });
    const adapter = createValkeyGlideAdapter(client);
    expect(await connections(server, 'life-idle')).toBe(1);
    await adapter.subscribe('life:idle', () => undefined);
    expect(await connections(server, 'life-idle')).toBe(2);
    await adapter.unsubscribe('life:idle');
    await expect.poll(() => connections(server, 'life-idle'), { timeout: 10_000, interval: 250 }).toBe(1);
    await adapter.subscribe('life:idle', () => undefined);
    expect(await connections(server, 'life-idle')).toBe(2);
    await adapter.close();
    await expect.poll(() => connections(server, 'life-idle'), { timeout: 5_000, interval: 250 }).toBe(1);
    expect(await client.customCommand(['PING'])).toBe('PONG');
    client.close();
  }, 20_000);
});

describe('process life', () => {
  it('a process that waited, released and closed its client exits without close()', async () => {
    const result = await runChild(here('./fixtures/exit-child.ts'), [server.url], here('./fixtures/tsconfig.json'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('done');
    expect(result.lingeredMs).toBeLessThan(3_000);
  });
});

describe('a manager from a URL', () => {
  it('connects, locks, wakes waiters and closes its own client', async () => {
    const own = await startRedis(); // nobody else's connections
    try {
      const mutex = new Mutex(own.url);
      const held = await mutex.acquire('life:url');
      expect(await handOffMs(held, mutex.acquire('life:url', { timeout: 4_000 }))).toBeLessThan(1_000);
      expect(await connections(own)).toBe(2); // commands and wake-ups
      await mutex.close();
      await expect.poll(() => connections(own), { timeout: 5_000, interval: 250 }).toBe(0);
    } finally {
      await own.stop();
    }
  }, 15_000);

  it('takes the database, username and password of the URL', async () => {
    const secured = await startRedis({ args: ['--requirepass', 'sekret'] });
    try {
      const mutex = new Mutex(`redis://:sekret@127.0.0.1:${secured.port}/3`);
      await (await mutex.acquire('life:db')).release();
      const lease = await mutex.acquire('life:db');
      expect(Number(await sendCommandTo({ port: secured.port, password: 'sekret', db: 3 }, 'EXISTS', 'hilok:mutex:{life:db}'))).toBe(1);
      await lease.release();
      await mutex.close();
      // GLIDE's connect errors are read for the server's reply: what to check, as on the other drivers.
      for (const [url, message] of [
        [`redis://:wrong@127.0.0.1:${secured.port}`, /^Redis rejected the authentication \(WRONGPASS/],
        [`redis://127.0.0.1:${secured.port}`, /^Redis requires authentication \(NOAUTH/],
      ] as const) {
        const refused = new Mutex(url);
        const error = await refused.acquire('x').then(() => expect.fail('acquired'), (err: unknown) => err);
        expect(error).toBeInstanceOf(RedisUnavailableError);
        expect((error as Error).message).toMatch(message);
        await refused.close();
      }
    } finally {
      await secured.stop();
    }
  });

  it('an unreachable server fails the call with the driver\'s reason, and closing is immediate', async () => {
    const port = await freePort();
    const mutex = new Mutex(`redis://127.0.0.1:${port}`);
    const error = await mutex.acquire('gone', { timeout: 5_000 }).then(() => expect.fail('acquired'), (err: unknown) => err);
    expect(error).toBeInstanceOf(RedisUnavailableError);
    // GLIDE reports a refused connection as a connect timeout: the message names the address.
    expect((error as Error).message).toContain(`127.0.0.1:${port} did not answer in time (ETIMEDOUT)`);
    const started = performance.now();
    await mutex.close();
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('a unix:// URL is turned away (GLIDE connects over TCP only)', () => {
    expect(() => new Mutex('unix:///tmp/redis.sock')).toThrow(InvalidArgumentError);
  });
});

describe('wrong driver', () => {
  it('a GLIDE client given to @hilok/ioredis or @hilok/node-redis is turned away, naming @hilok/valkey-glide', async () => {
    const standalone = await glide.client(server.url);
    try {
      for (const Other of [IoredisMutex, NodeRedisMutex]) {
        expect(() => new Other(standalone as never)).toThrow(InvalidArgumentError);
        expect(() => new Other(standalone as never)).toThrow(/GLIDE.*use @hilok\/valkey-glide/);
      }
    } finally {
      standalone.close();
    }
    expect(GlideClusterClient.prototype).toHaveProperty('customCommand');
  });

  it.each([
    ['an ioredis Redis', () => new Redis(server.url, { lazyConnect: true }), /ioredis.*use @hilok\/ioredis/],
    ['an ioredis Cluster', () => new Redis.Cluster([{ host: '127.0.0.1', port: server.port }], { lazyConnect: true }), /ioredis Cluster.*use @hilok\/ioredis/],
    ['a node-redis client', () => createClient({ url: server.url }), /node-redis.*use @hilok\/node-redis/],
  ])('%s given to @hilok/valkey-glide is turned away, naming its package', (_kind, make, message) => {
    expect(() => new Mutex(make() as never)).toThrow(InvalidArgumentError);
    expect(() => new Mutex(make() as never)).toThrow(message);
  });
});
