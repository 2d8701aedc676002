/**
 * hilok through node-redis's Sentinel client (`createSentinel`): a local master, a replica and
 * three sentinels; locks of every kind work before a forced failover and after it. The sentinel
 * client is passed as it is: it has no `duplicate()`, so the adapter uses the sentinel's own
 * pub/sub connection for wake-ups.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSentinel } from 'redis';
import { startSentinelGroup, type SentinelGroup } from '@hilok/testing';
import { FairLock, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, type NodeRedisClient } from '@hilok/node-redis';

describe('sentinel: node-redis 5', () => {
  let group: SentinelGroup;
  let sentinel: ReturnType<typeof createSentinel>;
  let client: NodeRedisClient;

  beforeAll(async () => {
    group = await startSentinelGroup();
    sentinel = createSentinel({ name: group.masterName, sentinelRootNodes: group.sentinels });
    sentinel.on('error', () => undefined);
    await sentinel.connect();
    client = sentinel as unknown as NodeRedisClient; // the test keeps one typed handle for all kinds
  }, 60_000);
  afterAll(async () => {
    await sentinel?.close().catch(() => sentinel.destroy());
    await group?.stop();
  });

  /** Take and hand over each kind of lock once through the sentinel client. */
  async function exerciseLocks(tag: string): Promise<void> {
    const mutex = new Mutex(client, { ttl: 5_000 });
    const held = await mutex.acquire(`m-${tag}`);
    await expect(mutex.acquire(`m-${tag}`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
    const waiting = mutex.acquire(`m-${tag}`, { timeout: 10_000 });
    await held.release();
    await (await waiting).release();

    const reentrant = new ReentrantMutex(client);
    await reentrant.withLock(`re-${tag}`, () => reentrant.withLock(`re-${tag}`, async () => {
      expect((await reentrant.holdCount(`re-${tag}`)).count).toBe(2);
    }));

    const rw = new ReadWriteLock(client);
    const r = await rw.read(`rw-${tag}`);
    await expect(rw.write(`rw-${tag}`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
    await r.release();

    const fair = new FairLock(client);
    const f = await fair.acquire(`f-${tag}`);
    const next = fair.acquire(`f-${tag}`, { timeout: 10_000 });
    await new Promise((res) => setTimeout(res, 50));
    await f.release();
    await (await next).release();
    await Promise.all([mutex.close(), reentrant.close(), rw.close(), fair.close()]);
  }

  it('locks work before and after a failover', async () => {
    const before = group.master.port;
    await exerciseLocks('before');
    await group.failover();
    expect(group.master.port).not.toBe(before);
    // The sentinel client follows +switch-master on its own; retry the first lock until it has.
    for (const end = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 100))) {
      try {
        await exerciseLocks(`after-${Date.now()}`);
        break;
      } catch (err) {
        if (Date.now() > end) throw err;
      }
    }
  }, 90_000);
});
