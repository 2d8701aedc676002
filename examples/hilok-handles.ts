/**
 * redishilok's "Manually-managed Operations with Handles" in TypeScript: `acquireWrite` returns
 * only the hold's id and does not refresh it; any HiLok (any process) can re-take — refresh —
 * that hold by id, by hand or under an auto-refreshing `write()`.
 *
 *   pnpm exec tsx examples/hilok-handles.ts     # REDIS_URL, or a throwaway redis-server
 *
 * Prints nothing, like the seed: it fails loudly instead if a re-take does not get the same hold.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { HiLok } from '@hilok/ioredis'; // or '@hilok/node-redis': same API
import { otherHiLok, printer, runIfMain, withRedisUrl, type Driver } from './hilok-common.js';

/**
 * Run the example and return the lines it printed (none).
 * @param url - Redis URL; default `REDIS_URL`, else a throwaway redis-server
 * @param driver - driver package to run on (the tests run every driver)
 */
export async function main(url?: string, driver: Driver = 'ioredis'): Promise<string[]> {
  const Lock = driver === 'ioredis' ? HiLok : await otherHiLok(driver);
  const { lines } = printer();
  await withRedisUrl(url, async (redisUrl) => {
    const hilok = new Lock(redisUrl);
    const uuid = await hilok.acquireWrite('a/b');
    await sleep(1_000); // the lock is not refreshed automatically: the caller must re-take it

    // refresh by id, manually
    const manual = new Lock(redisUrl);
    const again = await manual.acquireWrite('a/b', { id: uuid });

    // refresh automatically
    const other = new Lock(redisUrl, { refreshInterval: 1_000 });
    {
      await using hold = await other.write('a/b', { id: uuid });
      // the lock is auto-refreshing in the background
      if (again !== uuid || hold.id !== uuid) throw new Error('re-taking by id must give back the same hold');
    } // disposing the hold releases it: the id's hold ends here

    // free resources
    await hilok.close();
    await manual.close();
    await other.close();
  });
  return lines;
}

runIfMain(import.meta.url, main);
