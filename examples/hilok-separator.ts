/**
 * redishilok's "Custom Separator" in TypeScript: with `separator: ':'`, `a:b:c` is the path
 * a → b → c (under the default `/` it would be one node named "a:b:c").
 *
 *   pnpm exec tsx examples/hilok-separator.ts   # REDIS_URL, or a throwaway redis-server
 *
 * Prints:
 *   Write lock acquired on 'a:b:c'
 */
import { HiLok } from '@hilok/ioredis'; // or '@hilok/node-redis': same API
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
    await using hilok = new Lock(redisUrl, { separator: ':' });
    await using _write = await hilok.write('a:b:c');
    print("Write lock acquired on 'a:b:c'");
  });
  return lines;
}

runIfMain(import.meta.url, main);
