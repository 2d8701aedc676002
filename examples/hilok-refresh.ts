/**
 * redishilok's "Long-Running Operations with Refresh" in TypeScript: with `refreshInterval`,
 * a hold taken by `write()` is refreshed in the background, so an operation may outlast the
 * ttl (2 s here; the operation takes 2.5 s — the seed's 5 s, shortened).
 *
 *   pnpm exec tsx examples/hilok-refresh.ts     # REDIS_URL, or a throwaway redis-server
 *
 * Prints:
 *   Long operation starts
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HiLok } from '@hilok/ioredis'; // or '@hilok/node-redis': same API
import { otherHiLok, printer, runIfMain, withRedisUrl, type Driver } from './hilok-common.js';

/**
 * Run the example and return the lines it printed.
 * @param url - Redis URL; default `REDIS_URL`, else a throwaway redis-server
 * @param driver - driver package to run on (the tests run every driver)
 * @throws the hold's `LockLostError` if the refresh failed to keep it alive
 */
export async function main(url?: string, driver: Driver = 'ioredis'): Promise<string[]> {
  const Lock = driver === 'ioredis' ? HiLok : await otherHiLok(driver);
  const { lines, print } = printer();
  await withRedisUrl(url, async (redisUrl) => {
    await using hilok = new Lock(redisUrl, { ttl: 2_000, refreshInterval: 1_000 });
    await using hold = await hilok.write('a/b');
    print('Long operation starts');
    await sleep(2_500); // longer than the ttl: the lock is automatically refreshed
    // The seed only trusts the refresh; we check it: the signal aborts if the hold was ever lost.
    hold.signal.throwIfAborted();
  });
  return lines;
}

runIfMain(import.meta.url, main);
