/**
 * Connections behave like the user's own (ioredis): any client option works (the pub/sub
 * duplicate inherits `lazyConnect` and `keyPrefix` too), a process that quit its client exits
 * without close(), a manager on an unreachable server closes at once, and an ioredis client
 * given to @hilok/node-redis is turned away with the package that fits it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Redis as Redis6 } from 'ioredis6';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '@hilok/testing';
import { handOffMs, runChild } from '@hilok/contract-tests';
import { InvalidArgumentError, Mutex, RedisUnavailableError } from '@hilok/ioredis';
import { Mutex as NodeRedisMutex } from '@hilok/node-redis';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe.each([
  ['ioredis 5', Redis],
  ['ioredis 6', Redis6],
] as const)('%s client options', (_name, Client) => {
  it.each([{ lazyConnect: true }, { keyPrefix: 'app:' }])('a waiter is woken by pub/sub with %o', async (options) => {
    const redis = new Client(server.url, options);
    if (options.lazyConnect) await redis.connect();
    const mutex = new Mutex(redis as never);
    // A waiter woken by a release message reports a hand-off (one that polled does not).
    const woken: string[] = [];
    const onHandoff = (event: unknown): void => void woken.push((event as { resource: string }).resource);
    subscribe('hilok:handoff', onHandoff);
    try {
      const held = await mutex.acquire('opts:lock');
      expect(await handOffMs(held, mutex.acquire('opts:lock', { timeout: 4_000 }))).toBeLessThan(1_000);
      expect(woken).toContain('opts:lock');
    } finally {
      unsubscribe('hilok:handoff', onHandoff);
      await mutex.close();
      await redis.quit();
    }
  });
});

describe('process life', () => {
  it.each(['5', '6'])('ioredis %s: a process that waited, released and quit its client exits without close()', async (major) => {
    const result = await runChild(here('./fixtures/exit-child.ts'), [major, server.url], here('./fixtures/tsconfig.json'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('done');
    expect(result.lingeredMs).toBeLessThan(3_000);
  });

  it('closing a manager of an unreachable server (from a URL) is immediate', async () => {
    const mutex = new Mutex(`redis://127.0.0.1:${await freePort()}`);
    await expect(mutex.acquire('gone')).rejects.toBeInstanceOf(RedisUnavailableError);
    const started = performance.now();
    await mutex.close();
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('wrong driver (ioredis client, node-redis package)', () => {
  it.each([
    ['Redis', () => new Redis(server.url, { lazyConnect: true })],
    ['Cluster', () => new Redis.Cluster([{ host: '127.0.0.1', port: server.port }], { lazyConnect: true })],
    ['Sentinel-managed Redis', () => new Redis({ sentinels: [{ host: '127.0.0.1', port: server.port }], name: 'm', lazyConnect: true })],
  ])('an ioredis %s given to @hilok/node-redis is turned away, naming @hilok/ioredis', (_kind, make) => {
    expect(() => new NodeRedisMutex(make() as never)).toThrow(InvalidArgumentError);
    expect(() => new NodeRedisMutex(make() as never)).toThrow(/ioredis.*use @hilok\/ioredis/);
  });
});
