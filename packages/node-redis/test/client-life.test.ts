/**
 * Connections behave like the user's own (node-redis): a process that quit its client exits
 * without close(), a manager on an unreachable server closes at once, and a node-redis client
 * given to @hilok/ioredis is turned away with the package that fits it.
 */
import { fileURLToPath } from 'node:url';
import { createClient, createCluster, createSentinel } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '@hilok/testing';
import { runChild } from '@hilok/contract-tests';
import { Mutex, RedisUnavailableError } from '@hilok/node-redis';
import { InvalidArgumentError, Mutex as IoredisMutex } from '@hilok/ioredis';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('process life', () => {
  it.each(['5', '6'])('redis %s: a process that waited, released and closed its client exits without close()', async (major) => {
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

describe('wrong driver (node-redis client, ioredis package)', () => {
  it.each([
    ['createClient', () => createClient({ url: server.url })],
    ['createCluster', () => createCluster({ rootNodes: [{ url: server.url }] })],
    ['createSentinel', () => createSentinel({ name: 'm', sentinelRootNodes: [{ host: '127.0.0.1', port: server.port }] })],
  ])('a node-redis %s client is turned away, naming @hilok/node-redis', (_kind, make) => {
    expect(() => new IoredisMutex(make() as never)).toThrow(InvalidArgumentError);
    expect(() => new IoredisMutex(make() as never)).toThrow(/node-redis.*use @hilok\/node-redis/);
  });
});
