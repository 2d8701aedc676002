/**
 * redishilok's "Basic Hierarchical Locking" in TypeScript: reads coexist at any depth; a write
 * on `a` keeps even a read on its descendant `a/b/c` out.
 *
 *   pnpm exec tsx examples/hilok-basic.ts       # REDIS_URL, or a throwaway redis-server
 *
 * Prints:
 *   Both read locks succeed
 *   Failed to acquire read lock on 'a/b/c' due to write lock on 'a'
 */
import { HiLok, LockBusyError } from '@hilok/ioredis'; // or '@hilok/node-redis': same API
import { otherHiLok, printer, runIfMain, withRedisUrl, type Driver } from './hilok-common.js';

/**
 * Run the example and return the lines it printed.
 * @param url - Redis URL; default `REDIS_URL`, else a throwaway redis-server
 * @param driver - driver package to run on (the tests run every driver)
 */
export async function main(url?: string, driver: Driver = 'ioredis'): Promise<string[]> {
  const Lock = driver === 'ioredis' ? HiLok : await otherHiLok(driver);
  const { lines, print } = printer();
  await withRedisUrl(url, async (redisUrl) => {
    await using hilok = new Lock(redisUrl);

    // Concurrent readers
    {
      await using _a = await hilok.read('a');
      await using _abc = await hilok.read('a/b/c');
      print('Both read locks succeed');
    }

    // Write lock blocks descendants
    {
      await using _write = await hilok.write('a');
      try {
        await using _read = await hilok.read('a/b/c', { timeout: 100 });
      } catch (err) {
        if (!(err instanceof LockBusyError)) throw err;
        print("Failed to acquire read lock on 'a/b/c' due to write lock on 'a'");
      }
    }
  });
  return lines;
}

runIfMain(import.meta.url, main);
