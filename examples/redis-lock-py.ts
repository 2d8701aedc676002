/**
 * Every example of redis-lock-py's README (seed 001) in TypeScript.
 *
 *   pnpm exec tsx examples/redis-lock-py.ts   # REDIS_URL, or a throwaway redis-server
 *
 * Prints "Acquired lock successfully!" four times: acquire/release, the context manager, the
 * asyncio context manager (the same thing in Node), and the spin lock.
 */
import { Redis } from 'ioredis';
import { Mutex, SpinLock } from '@hilok/ioredis';
import { printer, runIfMain, withRedisUrl } from './hilok-common.js';

/**
 * Run the examples and return the lines printed.
 * @param url - Redis URL; default `REDIS_URL`, else a throwaway redis-server
 */
export async function main(url?: string): Promise<string[]> {
  const { lines, print } = printer();
  await withRedisUrl(url, async (redisUrl) => {
    const client = new Redis(redisUrl);
    try {
      const name = 'foo';
      // 3.1 acquire / release (RedisLock(client, name).acquire())
      const lock = new Mutex(client);
      const lease = await lock.tryAcquire(name);
      if (!lease) throw new Error('Fail to acquire lock');
      print('Acquired lock successfully!');
      await lease.release();

      // 3.2 `with RedisLock(client, name="foo", blocking_timeout=10):`
      {
        await using _held = await lock.acquire(name, { blockingTimeout: 10_000 });
        print('Acquired lock successfully!');
      }

      // asyncio: `async with RedisLock(...)` — every hilok call is already async.
      await lock.withLock(name, () => print('Acquired lock successfully!'), { blockingTimeout: 10_000 });

      // RedisSpinLock: `acquire(blocking=True, sleep_time=0.1)` → fixed 100 ms polling.
      const spin = new SpinLock(client, { spin: { initialDelay: 100, maxDelay: 100, factor: 1 } });
      const spun = await spin.acquire(name);
      print('Acquired lock successfully!');
      await spun.release();
      await Promise.all([lock.close(), spin.close()]);
    } finally {
      await client.quit();
    }
  });
  return lines;
}

runIfMain(import.meta.url, main);
