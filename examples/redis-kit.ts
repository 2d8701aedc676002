/**
 * Every example of redis-kit's "Distributed Lock" page (seed 003) in TypeScript. redis-kit's
 * `timeout` (the lock's ttl, in s) is hilok's `ttl` (ms); its `blocking_timeout` is our
 * `blockingTimeout` (alias of `timeout`, the wait).
 *
 *   pnpm exec tsx examples/redis-kit.ts   # REDIS_URL, or a throwaway redis-server
 */
import { Redis } from 'ioredis';
import { Mutex, ReadWriteLock, ReentrantMutex } from '@hilok/ioredis';
import { printer, runIfMain, withRedisUrl } from './hilok-common.js';

/**
 * Run the examples and return the lines printed.
 * @param url - Redis URL; default `REDIS_URL`, else a throwaway redis-server
 */
export async function main(url?: string): Promise<string[]> {
  const { lines, print } = printer();
  await withRedisUrl(url, async (redisUrl) => {
    const client = new Redis(redisUrl);
    const lock = new Mutex(client, { prefix: 'myapp:lock:' });
    const reentrant = new ReentrantMutex(client, { prefix: 'myapp:lock:' });
    const rw = new ReadWriteLock(client, { prefix: 'myapp:lock:' });
    try {
      // Basic lock: `with lock("resource-1", timeout=10)`
      await lock.withLock('resource-1', () => print('did critical work'), { ttl: 10_000 });

      // Reentrant lock: nested entries by the same owner, no deadlock.
      await reentrant.withLock('resource', () => reentrant.withLock('resource', () => print('re-entered without deadlock'), { ttl: 10_000 }), { ttl: 10_000 });

      // Read-write lock: blocking_timeout on read, auto_renew on write.
      const data = await rw.withRead('resource', () => 'shared state', { blockingTimeout: 5_000 });
      print(`read ${data}`);
      await rw.withWrite('resource', () => print('updated shared state'), { autoRenew: true });

      // Watchdog auto-renewal: `lock("resource", timeout=30, auto_renew=True)` renews every 10 s.
      await lock.withLock('resource', () => print('long-running work under the watchdog'), { ttl: 30_000, autoRenew: true });

      // Cluster mode: nothing to configure; keys always carry a {hash tag}.

      // Exception safety: the business error propagates unchanged, for every kind.
      for (const run of [
        () => lock.withLock('resource', () => { throw new Error('business logic error'); }, { ttl: 5_000 }),
        () => rw.withWrite('resource', () => { throw new Error('write operation error'); }, { ttl: 5_000 }),
      ]) {
        try {
          await run();
        } catch (err) {
          print(`propagated: ${(err as Error).message}`);
        }
      }

      // Async usage: `async with AsyncLock(...)("resource", timeout=10)` — every call is async.
      await lock.withLock('resource', async () => print('did async work'), { ttl: 10_000 });
    } finally {
      await Promise.all([lock.close(), reentrant.close(), rw.close()]);
      await client.quit();
    }
  });
  return lines;
}

runIfMain(import.meta.url, main);
