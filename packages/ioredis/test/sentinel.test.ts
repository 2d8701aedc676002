/**
 * hilok through a Sentinel-managed ioredis client: a local master, a replica and three
 * sentinels; locks of every kind work before a forced failover and, on the promoted master, after.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startSentinelGroup, type SentinelGroup } from '@hilok/testing';
import { FairLock, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, closeGracefully } from '@hilok/ioredis';

describe('sentinel: ioredis 5', () => {
  let group: SentinelGroup;
  let client: Redis;

  beforeAll(async () => {
    group = await startSentinelGroup();
    // failoverDetector: ioredis listens for +switch-master and reconnects; without it a forced
    // failover leaves the client talking to the demoted master (now a read-only replica).
    client = new Redis({ sentinels: group.sentinels, name: group.masterName, maxRetriesPerRequest: 20, failoverDetector: true });
    client.on('error', () => undefined);
    await client.ping();
  }, 60_000);
  afterAll(async () => {
    await client && closeGracefully(() => client.quit(), () => client.disconnect());
    await group?.stop();
  });

  /** Take and hand over each kind of lock once through `client`. */
  async function exerciseLocks(tag: string): Promise<void> {
    const mutex = new Mutex(client, { ttl: 5_000 });
    const held = await mutex.acquire(`m-${tag}`);
    await expect(mutex.acquire(`m-${tag}`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
    const waiting = mutex.acquire(`m-${tag}`, { timeout: 10_000 }); // woken by pub/sub through sentinel
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
    // ioredis re-asks the sentinels on reconnect; allow it to find the promoted master.
    for (const end = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 100))) {
      try {
        if (((await client.call('ROLE')) as unknown[])[0] === 'master') break;
      } catch {
        /* reconnecting */
      }
      if (Date.now() > end) throw new Error('client never reached the new master');
    }
    await exerciseLocks('after');
  }, 90_000);
});
