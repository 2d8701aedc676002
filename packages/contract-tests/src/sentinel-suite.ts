import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, type RedisAdapter } from '@hilok/core';
import { startSentinelGroup, type SentinelGroup } from '@hilok/testing';
import { delay, type DriverCase } from './driver.js';

/**
 * Every lock kind through a Sentinel-managed client of one driver: a local master, a replica and
 * three sentinels; locks work before a forced failover and, on the promoted master, after it.
 * (What a failover can do to a lock held across it is an out-of-model case: see docs/cluster-and-sentinel.md.)
 */
export function describeSentinelSuite<C>(driver: DriverCase<C>): void {
  const sentinelClient = driver.sentinelClient;
  if (!sentinelClient) throw new Error(`${driver.name} has no sentinelClient`);
  describe(`sentinel: ${driver.name}`, () => {
    let group: SentinelGroup;
    let client: C;
    let adapter: RedisAdapter;

    beforeAll(async () => {
      group = await startSentinelGroup();
      client = await sentinelClient.call(driver, { masterName: group.masterName, sentinels: group.sentinels });
      adapter = driver.adapter(client);
    }, 60_000);
    afterAll(async () => {
      await adapter?.close();
      if (client) await driver.closeClient(client);
      await group?.stop();
    });

    /** Take and hand over each kind of lock once. */
    async function exerciseLocks(tag: string): Promise<void> {
      const mutex = new Mutex(adapter, { ttl: 5_000 });
      const reentrant = new ReentrantMutex(adapter);
      const rw = new ReadWriteLock(adapter);
      const fair = new FairLock(adapter);
      try {
        const held = await mutex.acquire(`m-${tag}`);
        await expect(mutex.acquire(`m-${tag}`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
        const waiting = mutex.acquire(`m-${tag}`, { timeout: 10_000 }); // woken by pub/sub through the sentinel client
        await held.release();
        await (await waiting).release();

        await reentrant.withLock(`re-${tag}`, () =>
          reentrant.withLock(`re-${tag}`, async () => {
            expect((await reentrant.holdCount(`re-${tag}`)).count).toBe(2);
          }),
        );

        const r = await rw.read(`rw-${tag}`);
        await expect(rw.write(`rw-${tag}`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
        await r.release();

        const f = await fair.acquire(`f-${tag}`);
        const next = fair.acquire(`f-${tag}`, { timeout: 10_000 });
        await delay(50);
        await f.release();
        await (await next).release();
      } finally {
        await Promise.all([mutex.close(), reentrant.close(), rw.close(), fair.close()]);
      }
    }

    it('locks work before and after a failover', async () => {
      const before = group.master.port;
      await exerciseLocks('before');
      await group.failover();
      expect(group.master.port).not.toBe(before);
      // The client learns about the promoted master on its own; retry until it has.
      for (const end = Date.now() + 20_000; ; await delay(100)) {
        try {
          await exerciseLocks(`after-${Date.now()}`);
          break;
        } catch (err) {
          if (Date.now() > end) throw err;
        }
      }
    }, 90_000);
  });
}
