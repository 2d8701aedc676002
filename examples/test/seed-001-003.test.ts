/**
 * The TypeScript counterparts of redis-lock-py's (seed 001) and redis-kit's (seed 003) examples
 * run against a real redis-server, print what the seeds print, and leave no lock key behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '@hilok/testing';
import { main as redisLockPy } from '../redis-lock-py.js';
import { main as redisKit } from '../redis-kit.js';

describe('seed examples 001 (redis-lock-py) and 003 (redis-kit)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const keysLeft = async (): Promise<string[]> => {
    const client = new Redis(server.url);
    try {
      return await client.keys('*');
    } finally {
      await client.quit();
    }
  };

  it('redis-lock-py: acquire/release, context manager, asyncio, spin lock', async () => {
    expect(await redisLockPy(server.url)).toEqual(Array(4).fill('Acquired lock successfully!'));
    expect(await keysLeft()).toEqual([]);
  });

  it('redis-kit: basic, reentrant, read-write, watchdog, exception safety, async', async () => {
    expect(await redisKit(server.url)).toEqual([
      'did critical work',
      're-entered without deadlock',
      'read shared state',
      'updated shared state',
      'long-running work under the watchdog',
      'propagated: business logic error',
      'propagated: write operation error',
      'did async work',
    ]);
    expect(await keysLeft()).toEqual([]);
  });

  it('main() starts its own redis-server when given no url', async () => {
    const saved = process.env.REDIS_URL;
    delete process.env.REDIS_URL;
    try {
      expect(await redisLockPy()).toHaveLength(4);
    } finally {
      if (saved !== undefined) process.env.REDIS_URL = saved;
    }
  });
});
