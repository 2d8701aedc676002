/**
 * aioredlock's README example (seed 004) in TypeScript: a Redlock over independent Redis
 * instances — here mixing both drivers — with isLocked, lock, valid, extend, unlock, the
 * scoped form (`await using`) and destroy (`close`).
 *
 *   pnpm exec tsx examples/redlock.ts    # REDLOCK_URLS=redis://a,redis://b,... or 3 throwaway redis-servers
 *
 * Prints:
 *   not locked: true
 *   lock.valid: true
 *   isLocked: true
 *   extended, remaining > 15 s: true
 *   released, lock.valid: false
 *   isLocked after unlock: false
 *   in the block, lock.valid: true
 *   after the block, lock.valid: false
 */
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { createIoredisAdapter } from '@hilok/ioredis';
import { createNodeRedisAdapter } from '@hilok/node-redis';
import { startRedisInstances } from '@hilok/testing';
// In your code: `from '@hilok/redlock'` (the examples workspace runs it from source).
import { LockBusyError, QuorumError, Redlock } from '@hilok/redlock';

/**
 * Run the example and return the lines it printed.
 * @param urls - the instances; default `REDLOCK_URLS` (comma-separated), else 3 throwaway redis-servers
 */
export async function main(urls?: readonly string[]): Promise<string[]> {
  const lines: string[] = [];
  const print = (line: string): void => {
    lines.push(line);
    console.log(line);
  };
  const given = urls ?? process.env.REDLOCK_URLS?.split(',').filter(Boolean);
  const servers = given ? undefined : await startRedisInstances(3);
  const list = given ?? servers!.urls;
  try {
    // A list of independent instances; drivers may be mixed (aioredlock: tuples, dicts, URIs).
    const lockManager = new Redlock(
      list.map((url, i) => (i % 2 === 0 ? createIoredisAdapter(url) : createNodeRedisAdapter(url))),
      { closeAdapters: true, retryCount: 3, retryDelayMin: 100, retryDelayMax: 300 },
    );
    // Same thing when every instance uses one driver:
    //   Redlock.fromUrls(list, { connect: (url) => createIoredisAdapter(url) })

    // Check whether a resource is locked by any other redlock instance:
    print(`not locked: ${!(await lockManager.isLocked('resource_name'))}`);

    // Try to acquire the lock:
    let lock;
    try {
      lock = await lockManager.lock('resource_name', { ttl: 10_000 });
    } catch (err) {
      // Busy and broken are different errors (aioredlock has one LockError for both).
      if (err instanceof LockBusyError) print('Lock not acquired: held by someone else');
      else if (err instanceof QuorumError) print(`Lock not acquired: ${err.failures.length} instances unreachable`);
      throw err;
    }

    // Now the lock is acquired:
    assert.ok(lock.valid);
    print(`lock.valid: ${lock.valid}`);
    print(`isLocked: ${await lockManager.isLocked('resource_name')}`);

    // Extend the lifetime of the lock (throws unless a majority extends it in time):
    await lockManager.extend(lock, 20_000);
    print(`extended, remaining > 15 s: ${lock.remaining > 15_000}`);

    // Release the lock; the released lock becomes invalid:
    await lockManager.unlock(lock);
    print(`released, lock.valid: ${lock.valid}`);
    print(`isLocked after unlock: ${await lockManager.isLocked('resource_name')}`);

    // Or use the lock in a block (aioredlock's `async with`):
    let inBlock;
    {
      await using scoped = await lockManager.lock('resource_name');
      inBlock = scoped;
      print(`in the block, lock.valid: ${scoped.valid}`);
      await scoped.extend(); // alias for lockManager.extend(scoped)
    }
    print(`after the block, lock.valid: ${inBlock.valid}`);

    // Clear the connections with Redis (aioredlock's destroy):
    await lockManager.close();
  } finally {
    await servers?.stopAll();
  }
  return lines;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
