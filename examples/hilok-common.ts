/**
 * Plumbing shared by the `hilok-*.ts` examples (not an example itself): where Redis is, which
 * driver package to use, printing, and "run main() when executed directly".
 */
import { pathToFileURL } from 'node:url';
import type { HiLok, HiLokOptions } from '@hilok/ioredis';
import { startRedis } from '@hilok/testing';

/** Which driver package an example runs on. All export the same `HiLok` API. */
export type Driver = 'ioredis' | 'node-redis' | 'valkey-glide';

/** The `HiLok` class of either driver package, as the examples use it: built from a `redis://` URL. */
export type HiLokClass = new (url: string, options?: HiLokOptions) => HiLok;

/**
 * `HiLok` of `@hilok/node-redis` or `@hilok/valkey-glide`. The examples are written against
 * `@hilok/ioredis`; the tests also run them through the other drivers — the one import an example
 * would change — loaded only then, so running an example needs only ioredis.
 */
export async function otherHiLok(driver: Exclude<Driver, 'ioredis'>): Promise<HiLokClass> {
  return driver === 'node-redis' ? (await import('@hilok/node-redis')).HiLok : ((await import('@hilok/valkey-glide')).HiLok as unknown as HiLokClass);
}

/**
 * Run `fn` with a Redis URL: `url`, else `REDIS_URL`, else a throwaway redis-server started
 * here and stopped afterwards (even when `fn` throws) — so every example runs with no setup.
 */
export async function withRedisUrl<T>(url: string | undefined, fn: (url: string) => Promise<T>): Promise<T> {
  const given = url ?? process.env.REDIS_URL;
  if (given) return fn(given);
  const server = await startRedis();
  try {
    return await fn(server.url);
  } finally {
    await server.stop();
  }
}

/**
 * A `print` that writes a line to stdout and records it, so `main()` can return exactly what
 * it printed and the tests can compare that with the seed's expected output.
 */
export function printer(): { lines: string[]; print: (line: string) => void } {
  const lines: string[] = [];
  return {
    lines,
    print: (line) => {
      lines.push(line);
      console.log(line);
    },
  };
}

/**
 * Call `main()` if the module `metaUrl` is the script node/tsx was started with (and not
 * imported by a test). A failure sets a non-zero exit code instead of an unhandled rejection.
 */
export function runIfMain(metaUrl: string, main: () => Promise<unknown>): void {
  const entry = process.argv[1];
  if (entry === undefined || metaUrl !== pathToFileURL(entry).href) return;
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
