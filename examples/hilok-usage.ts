/**
 * redishilok's usage example in TypeScript: a read on `a/b` makes a non-blocking write on its
 * ancestor `a` fail at once.
 *
 *   pnpm exec tsx examples/hilok-usage.ts       # REDIS_URL, or a throwaway redis-server
 *
 * Prints:
 *   Read lock acquired on 'a/b'
 *   Failed to acquire write lock on 'a'
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
    // Built from a URL, the HiLok owns its connection: disposing it closes the connection.
    await using hilok = new Lock(redisUrl);

    // Acquire a read lock
    await using _read = await hilok.read('a/b');
    print("Read lock acquired on 'a/b'");

    // Acquire a write lock in non-blocking mode: `a` is an ancestor of the read `a/b`
    try {
      {
        await using _write = await hilok.write('a', { block: false });
        print("Write lock acquired on 'a'");
      }
      print('Never gets here');
    } catch (err) {
      // Only "busy" is the expected outcome; a Redis failure must not look like one.
      if (!(err instanceof LockBusyError)) throw err;
      print("Failed to acquire write lock on 'a'");
    }
  });
  return lines;
}

runIfMain(import.meta.url, main);
