import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, Semaphore, SpinLock, type RedisAdapter } from '@hilok/core';
import { keySlot, lockKey, mutexKeys, scripts } from '@hilok/core/internal';
import { startCluster, type Cluster, type RedisServer } from '@hilok/testing';
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

    it('mutex multi-name: names on different masters are taken slot by slot in slot order, all or none, without deadlock', async () => {
      const a = new Mutex(await conns.openCluster(cluster.rootNodes), { ttl: 3_000 });
      const b = new Mutex(await conns.openCluster(cluster.rootNodes), { ttl: 3_000 });
      // Names on (at least) two masters: every name is its own hash tag, so slots differ.
      const names = ['multi-x', 'multi-y', 'multi-z'];
      const slots = names.map((n) => keySlot(lockKey('hilok:', 'mutex', n)));
      expect(new Set(slots).size).toBe(3);
      const all = await a.acquire(names);
      for (const n of names) expect(await b.inspect(n)).toMatchObject({ owner: all.token });
      await all.release();
      // All or none across slots: the part taken before the busy one is given back.
      const last = names[slots.indexOf(Math.max(...slots))] as string;
      const holder = await b.acquire(last);
      await expect(a.acquire(names, { timeout: 200 })).rejects.toBeInstanceOf(LockBusyError);
      for (const n of names) if (n !== last) expect(await b.isLocked(n)).toBe(false);
      // A waiter holding the earlier slots keeps them alive past their ttl, and gets in on release.
      const waiter = a.acquire(names, { timeout: 10_000 });
      await delay(3_500);
      await holder.release();
      const lease = await waiter;
      for (const n of names) expect(await b.inspect(n)).toMatchObject({ owner: lease.token });
      await lease.release();
      // [x, y, z] against [z, y, x] over two connections: exclusive, and nobody deadlocks.
      const result = await checkMutualExclusion({
        tasks: 6,
        rounds: 3,
        acquire: (task) => (task % 2 ? a.acquire(names, { timeout: 20_000 }) : b.acquire([...names].reverse(), { timeout: 20_000 })),
      });
      expect(result).toEqual({ maxConcurrent: 1, counter: 18 });
      for (const n of names) expect(await a.isLocked(n)).toBe(false);
      await Promise.all([a.close(), b.close()]);
    });

    it('semaphore: its four keys share a slot on every master, and a release hands off across cluster connections', async () => {
      const a = new Semaphore(await conns.openCluster(cluster.rootNodes), { limit: 2 });
      const b = new Semaphore(await conns.openCluster(cluster.rootNodes), { limit: 2 });
      // 12 names over the three masters' slot ranges: each script's four keys in one slot (no CROSSSLOT).
      const leases = await Promise.all(Array.from({ length: 12 }, (_, i) => a.acquire(`cluster-sem-${i}`, { permits: 2, block: false })));
      await Promise.all(leases.map((l) => l.release()));
      const holder = await a.acquire('cluster-sem-wake', { permits: 2, ttl: 20_000 });
      expect(await handOffMs(holder, b.acquire('cluster-sem-wake', { timeout: 15_000 }))).toBeLessThan(5_000);
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

    it('hilok multi-path: parts in trees on different masters, tree by tree in sorted order, all or none, without deadlock', async () => {
      const a = new HiLok(await conns.openCluster(cluster.rootNodes), { ttl: 3_000 });
      const b = new HiLok(await conns.openCluster(cluster.rootNodes), { ttl: 3_000 });
      const roots = ['mp-x', 'mp-y', 'mp-z'];
      expect(new Set(roots.map((r) => keySlot(lockKey('hilok:', 'tree', r)))).size).toBe(3);
      const parts = [
        { path: 'mp-x/a', mode: 'write' as const },
        { path: 'mp-x/b', mode: 'read' as const },
        { path: 'mp-y/a', mode: 'write' as const },
        { path: 'mp-z', mode: 'read' as const },
      ];
      const all = await a.acquire(parts);
      expect(all.parts.map((p) => p.path)).toEqual(parts.map((p) => p.path));
      await expect(b.write('mp-z', { block: false })).rejects.toBeInstanceOf(LockBusyError);
      await all.release();
      // All or none: the last tree (in key order) busy gives back the trees taken before it.
      const last = [...roots].sort().at(-1) as string;
      const holder = await b.write(`${last}`, { ttl: 20_000 });
      await expect(a.acquire(parts, { timeout: 200 })).rejects.toBeInstanceOf(LockBusyError);
      for (const r of roots.filter((r) => r !== last)) await (await b.write(r, { block: false })).release();
      // A waiter keeps its earlier trees alive past their ttl and gets in on the release.
      const waiter = a.acquire(parts, { timeout: 10_000 });
      await delay(3_500);
      await holder.release();
      await (await waiter).release();
      // The same set in opposite orders over two connections: exclusive, nobody deadlocks.
      const writes = roots.map((r) => ({ path: `${r}/w`, mode: 'write' as const }));
      const result = await checkMutualExclusion({
        tasks: 6,
        rounds: 3,
        acquire: (task) => (task % 2 ? a.acquire(writes, { timeout: 20_000 }) : b.acquire([...writes].reverse(), { timeout: 20_000 })),
      });
      expect(result).toEqual({ maxConcurrent: 1, counter: 18 });
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

    /** Calls of `command` on all masters since their last `CONFIG RESETSTAT` (scripts' commands count). */
    const calls = async (command: string): Promise<number> => {
      let total = 0;
      for (const master of cluster.masters) {
        const stats = String(await master.command('INFO', 'commandstats'));
        total += Number(stats.match(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm'))?.[1] ?? 0);
      }
      return total;
    };
    const resetStats = () => Promise.all(cluster.masters.map((master) => master.command('CONFIG', 'RESETSTAT')));

    /**
     * One hand-off per lock kind on a name of each master's slot range, waiter on another
     * connection. The Mutex's waiter is in this process, so the release grants it directly (no
     * message); a Mutex waiter of another process — queued by hand here — is woken by a message.
     */
    const handOffs = async (a: RedisAdapter, b: RedisAdapter, tag: string, masters = 3): Promise<number[]> => {
      const [ma, mb, fa, fb, ha, hb] = [new Mutex(a), new Mutex(b), new FairLock(a), new FairLock(b), new HiLok(a), new HiLok(b)];
      // A name in each third of the slots: one per master.
      const names = [0, 1, 2].slice(0, masters).map((third) => {
        for (let i = 0; ; i++) if (Math.floor((keySlot(lockKey('hilok:', 'mutex', `${tag}-${i}`)) * 3) / 16384) === third) return `${tag}-${i}`;
      });
      const times: number[] = [];
      for (const name of names) {
        times.push(await handOffMs(await ma.acquire(name, { ttl: 20_000 }), mb.acquire(name, { timeout: 15_000 })));
        times.push(await handOffMs(await fa.acquire(name, { ttl: 20_000 }), fb.acquire(name, { timeout: 15_000 })));
        times.push(await handOffMs(await ha.write(`${name}/x`, { ttl: 20_000 }), hb.read(`${name}/x/y`, { timeout: 15_000 })));
        const [key, queue] = mutexKeys('hilok:', name);
        const holder = await ma.acquire(name, { ttl: 20_000 });
        await b.eval(scripts.mutexAcquire.source, [key, queue], ['other-process', 20_000, 'w']);
        await delay(20); // starved: the release reserves the lock for it and wakes it with a message
        await holder.release();
        expect(String(await b.eval(scripts.mutexWithdraw.source, [key, queue], ['other-process']))).toBe('1'); // it was still queued (a reservation keeps its place)
      }
      await Promise.all([ma, mb, fa, fb, ha, hb].map((lock) => lock.close()));
      return times;
    };

    // Skipped only for a driver whose cluster client has no sharded pub/sub (iovalkey): for it the
    // next test checks that 'auto' settles on plain PUBLISH and that `true` is refused.
    it.skipIf(driver.shardedPubSub === false)('sharded pub/sub (Redis 7, the default): wake-ups go with SPUBLISH to the lock\'s shard and reach waiters on other connections', async () => {
      const [a, b] = [await conns.openCluster(cluster.rootNodes), await conns.openCluster(cluster.rootNodes)];
      await resetStats();
      const times = await handOffs(a, b, 'sharded');
      expect(await a.shardedPubSub).toBe(true);
      // The waiter's own retry comes ≥ 0.9 s after the release: far below that, the message woke it.
      expect(Math.max(...times)).toBeLessThan(500);
      expect(await calls('spublish')).toBeGreaterThanOrEqual(9);
      expect(await calls('publish')).toBe(0);
    });

    it.runIf(driver.shardedPubSub === false)('a driver without sharded pub/sub: the default (\'auto\') settles on plain PUBLISH, and shardedPubSub: true is refused', async () => {
      const [a, b] = [await conns.openCluster(cluster.rootNodes), await conns.openCluster(cluster.rootNodes)];
      await resetStats();
      const times = await handOffs(a, b, 'unsharded', 1);
      expect(await a.shardedPubSub).toBe(false);
      expect(Math.max(...times)).toBeLessThan(500);
      expect(await calls('publish')).toBeGreaterThanOrEqual(3);
      expect(await calls('spublish')).toBe(0);
      await expect(conns.openCluster(cluster.rootNodes, { shardedPubSub: true })).rejects.toThrow(/sharded/);
    });

    it('shardedPubSub: false (what a Redis 6 cluster gets) keeps plain PUBLISH working on the cluster', async () => {
      const [a, b] = [await conns.openCluster(cluster.rootNodes, { shardedPubSub: false }), await conns.openCluster(cluster.rootNodes, { shardedPubSub: false })];
      await resetStats();
      const times = await handOffs(a, b, 'plain', 1);
      expect(a.shardedPubSub).toBe(false);
      expect(Math.max(...times)).toBeLessThan(500);
      expect(await calls('publish')).toBeGreaterThanOrEqual(3);
      expect(await calls('spublish')).toBe(0);
    });

    it('a slot migration during a wait does not strand the waiter, and its subscription follows the slot', async () => {
      const [a, b] = [await conns.openCluster(cluster.rootNodes), await conns.openCluster(cluster.rootNodes)];
      const [ma, mb] = [new Mutex(a), new Mutex(b)];
      const name = 'migrating';
      const slot = keySlot(lockKey('hilok:', 'mutex', name));
      const holder = await ma.acquire(name, { ttl: 20_000 });
      const waiting = mb.acquire(name, { timeout: 15_000 });
      await delay(100); // queued and subscribed on the slot's master
      const { from, to } = await migrateSlot(cluster, slot);
      expect(from).not.toBe(to);
      // The lock and its queue moved with the slot; the release runs on the new master.
      const released = performance.now();
      await holder.release();
      const next = await waiting;
      // Woken by the message if the driver already follows the slot, else by its own retry (≤ 1 s).
      expect(performance.now() - released).toBeLessThan(2_500);
      await next.release();
      // Once the driver followed the move, hand-offs are message-fast again.
      await delay(300);
      expect(await handOffMs(await ma.acquire(name, { ttl: 20_000 }), mb.acquire(name, { timeout: 15_000 }))).toBeLessThan(500);
      await Promise.all([ma.close(), mb.close()]);
    });
  });
}

/** The master that owns `slot` now, by the cluster's own map. */
async function ownerOf(cluster: Cluster, slot: number): Promise<RedisServer> {
  const ranges = (await cluster.masters[0]?.command('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
  const range = ranges.find(([start, end]) => start <= slot && slot <= end);
  const owner = cluster.masters.find((m) => m.port === Number(range?.[2][1]));
  if (!owner) throw new Error(`no master owns slot ${slot}`);
  return owner;
}

/**
 * Move `slot` to the next master the way `redis-cli --cluster reshard` does: IMPORTING on the
 * target, MIGRATING on the source, MIGRATE its keys, then SETSLOT NODE on every master.
 */
async function migrateSlot(cluster: Cluster, slot: number): Promise<{ from: number; to: number }> {
  const source = await ownerOf(cluster, slot);
  const target = cluster.masters[(cluster.masters.indexOf(source) + 1) % cluster.masters.length] as RedisServer;
  const [sourceId, targetId] = [String(await source.command('CLUSTER', 'MYID')), String(await target.command('CLUSTER', 'MYID'))];
  await target.command('CLUSTER', 'SETSLOT', slot, 'IMPORTING', sourceId);
  await source.command('CLUSTER', 'SETSLOT', slot, 'MIGRATING', targetId);
  const keys = (await source.command('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
  if (keys.length > 0) await source.command('MIGRATE', target.host, target.port, '', 0, 5_000, 'KEYS', ...keys);
  for (const master of [target, source, ...cluster.masters.filter((m) => m !== source && m !== target)]) {
    await master.command('CLUSTER', 'SETSLOT', slot, 'NODE', targetId);
  }
  return { from: source.port, to: target.port };
}
