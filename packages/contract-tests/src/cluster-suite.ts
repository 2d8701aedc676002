import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, SpinLock, keySlot, lockKey } from '@hilok/core';
import { startCluster, type Cluster } from '@hilok/testing';
import { Connections, delay, handOffMs, type DriverCase } from './driver.js';
import { checkMutualExclusion } from './exclusion.js';

/** Every lock kind on a real 3-master Redis Cluster: keys share a hash tag, so no CROSSSLOT. */
export function describeClusterSuite<C>(driver: DriverCase<C>): void {
  describe(`cluster: ${driver.name}`, () => {
    let cluster: Cluster;
    let conns: Connections<C>;

    beforeAll(async () => {
      cluster = await startCluster({ masters: 3 });
      conns = new Connections(driver);
    });
    afterAll(async () => {
      await conns?.closeAll();
      await cluster?.stop();
    });

    it('mutex: acquires and releases names spread over every master', async () => {
      const mutex = new Mutex(await conns.openCluster(cluster.rootNodes));
      // 30 names land on all three masters' slot ranges.
      const names = Array.from({ length: 30 }, (_, i) => `cluster-${i}{odd}`);
      const leases = await Promise.all(names.map((name) => mutex.acquire(name, { block: false })));
      for (const lease of leases) expect(await lease.release()).toBe(true);
      await mutex.close();
    });

    it('batches only keys of one slot: the slot hilok computes is the cluster\'s own', async () => {
      const names = ['a', 'user:{42}', '{}', '{', '}{', 'ünï€ödé', '{x}y{z}', 'glob*?[', ...Array.from({ length: 40 }, (_, i) => `n${i}`)];
      for (const name of names) {
        const key = lockKey('hilok:', 'mutex', name);
        expect(await cluster.masters[0]?.command('CLUSTER', 'KEYSLOT', key)).toBe(keySlot(key));
      }
      // Acquired in one tick, these names span every master: one batch per slot, no CROSSSLOT.
      const mutex = new Mutex(await conns.openCluster(cluster.rootNodes));
      const leases = await Promise.all(names.map((name) => mutex.acquire(name, { block: false })));
      expect(leases.every((l) => l.held)).toBe(true);
      const released = await Promise.all(leases.map((l) => l.release()));
      expect(released.every(Boolean)).toBe(true);
      await mutex.close();
    });

    it('mutex: mutual exclusion and pub/sub hand-off across two cluster connections', async () => {
      const a = new Mutex(await conns.openCluster(cluster.rootNodes));
      const b = new Mutex(await conns.openCluster(cluster.rootNodes));
      const result = await checkMutualExclusion({
        tasks: 6,
        rounds: 5,
        acquire: (task) => (task % 2 ? a : b).acquire('cluster-contended', { ttl: 10_000, timeout: 20_000 }),
      });
      expect(result).toEqual({ maxConcurrent: 1, counter: 30 });

      const holder = await a.acquire('cluster-wake', { ttl: 20_000 });
      expect(await handOffMs(holder, b.acquire('cluster-wake', { timeout: 15_000 }))).toBeLessThan(5_000);
      await Promise.all([a.close(), b.close()]);
    });

    it('spin lock works on the cluster', async () => {
      const spin = new SpinLock(await conns.openCluster(cluster.rootNodes));
      const lease = await spin.acquire('cluster-spin');
      expect(await spin.isLocked('cluster-spin')).toBe(true);
      await lease.release();
      await spin.close();
    });

    it('hilok: one-round-trip holds at any depth, trees spread over the masters', async () => {
      const hilok = new HiLok(await conns.openCluster(cluster.rootNodes));
      const roots = Array.from({ length: 12 }, (_, i) => `tree${i}`);
      for (const r of roots) {
        const deep = await hilok.read(`${r}/a/b/c/d/e/f/g`, { block: false });
        await expect(hilok.write(`${r}/a`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
        expect((await hilok.status(r)).holds).toHaveLength(1);
        await deep.release();
        await (await hilok.write(`${r}/a`, { block: false })).release();
      }
      await hilok.close();
    });

    it('hilok: a waiter on another connection is woken across the cluster', async () => {
      const a = new HiLok(await conns.openCluster(cluster.rootNodes));
      const b = new HiLok(await conns.openCluster(cluster.rootNodes));
      const holder = await a.write('wake/x', { ttl: 20_000 });
      expect(await handOffMs(holder, b.read('wake/x/y', { timeout: 15_000 }))).toBeLessThan(5_000);
      await Promise.all([a.close(), b.close()]);
    });

    it('family: reentrant, read-write and fair locks on names spread over every master', async () => {
      const conn = await conns.openCluster(cluster.rootNodes);
      const reentrant = new ReentrantMutex(conn);
      const rw = new ReadWriteLock(conn);
      const fair = new FairLock(conn);
      for (let i = 0; i < 12; i++) {
        const name = `family-${i}`;
        await reentrant.runAs('owner', async () => {
          const a = await reentrant.acquire(name, { block: false });
          const b = await reentrant.acquire(name, { block: false });
          expect((await reentrant.holdCount(name)).count).toBe(2);
          await b.release();
          await a.release();
        });
        const r = await rw.read(name, { block: false });
        await expect(rw.write(name, { block: false })).rejects.toBeInstanceOf(LockBusyError);
        await r.release();
        await (await rw.write(name, { block: false })).release();
        const held = await fair.acquire(name, { block: false });
        const waiting = fair.acquire(name, { timeout: 15_000 }); // queue and heartbeat keys share the tag
        await delay(50);
        await held.release();
        await (await waiting).release();
        expect((await fair.inspect(name)).queue).toEqual([]);
      }
      await Promise.all([reentrant.close(), rw.close(), fair.close()]);
    });
  });
}
