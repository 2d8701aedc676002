import { Cluster as IoCluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, Mutex, ReadWriteLock, Semaphore } from '@hilok/ioredis';
import { keySlot, startCluster, type Cluster } from '@hilok/testing';
import type { ReleaseOutcome } from '../src/commands/release.js';
import type { Snapshot } from '../src/snapshot.js';
import { freshPrefix, runCli } from './helpers.js';

// A real 3-master cluster: the CLI is pointed at one node and must see and reach all three.
let cluster: Cluster;
let client: IoCluster;
beforeAll(async () => {
  cluster = await startCluster({ masters: 3 });
  client = new IoCluster(cluster.rootNodes);
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
});

/** The port of the master that serves `key`'s slot. */
async function ownerPort(key: string): Promise<number> {
  const slot = keySlot(key);
  const slots = (await cluster.masters[0]!.command('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
  const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi)!;
  return Number(range[2][1]);
}

describe('hilok on a 3-master cluster', () => {
  it('inspect on one node shows the holds of every master; release routes to the slot’s master', { timeout: 60_000 }, async () => {
    const prefix = freshPrefix();
    const o = { prefix, ttl: 30_000, app: 'cluster-test' };
    const mutex = new Mutex(client, o);
    const tree = new HiLok(client, o);
    const fair = new FairLock(client, o);
    const rw = new ReadWriteLock(client, o);
    try {
      const names = 'abcdefghij'.split('');
      const leases = new Map<string, string>();
      for (const n of names) leases.set(n, (await mutex.acquire(n)).token);
      const w = await tree.acquireWrite('shop/catalog');
      const f = await fair.acquire('printer');
      const r = await rw.acquireRead('config');
      // The ten mutexes really are spread over the masters.
      const ports = new Set(await Promise.all(names.map((n) => ownerPort(`${prefix}mutex:{${n}}`))));
      expect(ports.size).toBe(3);

      const seed = cluster.urls[0] as string;
      for (const driver of ['ioredis', 'node-redis']) {
        const run = await runCli(['inspect', '--json', '--driver', driver, '--url', seed, '--prefix', prefix]);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const snap = JSON.parse(run.stdout) as Snapshot;
        expect(snap.holds).toHaveLength(13);
        expect(snap.holds.filter((h) => h.kind === 'mutex').map((h) => [h.path, h.id])).toEqual(names.map((n) => [n, leases.get(n)]));
        expect(snap.holds.find((h) => h.kind === 'tree')).toMatchObject({ path: 'shop/catalog', id: w, mode: 'write' });
        expect(snap.holds.find((h) => h.kind === 'fair')).toMatchObject({ path: 'printer', id: f.token });
        expect(snap.holds.find((h) => h.kind === 'rw')).toMatchObject({ path: 'config', id: r });
        // Every master's holds name their owner (issue 21): app, host, pid, process start.
        for (const h of snap.holds) expect(h.owner).toMatchObject({ app: 'cluster-test', pid: process.pid });
      }
      const text = await runCli(['inspect', '--url', seed, '--prefix', prefix]);
      expect(text.stdout).toContain('13 holds');
      expect(text.stdout.match(new RegExp(`cluster-test@\\S+:${process.pid} `, 'g'))).toHaveLength(13);

      // Locks whose slot another master serves: --force and --id go there (no MOVED error), on both drivers.
      const seedPort = Number(new URL(seed).port);
      const elsewhere = [];
      for (const n of names) if ((await ownerPort(`${prefix}mutex:{${n}}`)) !== seedPort) elsewhere.push(n);
      const [first, second] = elsewhere as [string, string];
      const forced = await runCli(['release', first, '--force', '--yes', '--json', '--url', seed, '--prefix', prefix]);
      expect(forced.stderr).not.toMatch(/MOVED/);
      expect(forced.code).toBe(0);
      expect((JSON.parse(forced.stdout) as ReleaseOutcome).deletedKeys).toEqual([`${prefix}mutex:{${first}}`]);
      expect(await mutex.isLocked(first)).toBe(false);
      const byId = await runCli(['release', second, '--id', leases.get(second) as string, '--driver', 'node-redis', '--url', seed, '--prefix', prefix]);
      expect(byId.code).toBe(0);
      expect(await mutex.isLocked(second)).toBe(false);
      for (const driver of ['ioredis', 'node-redis']) {
        const released = await runCli(['release', 'shop/catalog', '--id', w, '--driver', driver, '--url', seed, '--prefix', prefix]);
        if (driver === 'ioredis') expect(released.code).toBe(0);
        else expect(released.code).toBe(1); // released already by the first run
      }
      expect((await tree.status('shop')).holds).toEqual([]);
      const after = JSON.parse((await runCli(['inspect', '--json', '--url', cluster.urls[2] as string, '--prefix', prefix])).stdout) as Snapshot;
      expect(after.holds).toHaveLength(10);
    } finally {
      await Promise.all([mutex, tree, fair, rw].map((l) => l.close()));
    }
  });
});

describe('hilok and semaphores on a 3-master cluster (issue 19)', () => {
  it('inspect on one node shows every master\'s semaphores; release --id routes to the slot\'s master', { timeout: 60_000 }, async () => {
    const prefix = freshPrefix();
    const sem = new Semaphore(client, { prefix, ttl: 30_000, limit: 2 });
    try {
      const names = 'abcdefghij'.split('');
      const leases = new Map<string, { token: string; fence: number }>();
      for (const n of names) leases.set(n, await sem.acquire(n, { permits: 2 }));
      const ports = new Set(await Promise.all(names.map((n) => ownerPort(`${prefix}semaphore:{${n}}`))));
      expect(ports.size).toBe(3);
      const seed = cluster.urls[0] as string;
      for (const driver of ['ioredis', 'node-redis']) {
        const snap = JSON.parse((await runCli(['inspect', '--json', '--kind', 'semaphore', '--limit', '2', '--driver', driver, '--url', seed, '--prefix', prefix])).stdout) as Snapshot;
        expect(snap.holds.map((h) => [h.kind, h.path, h.id, h.permits])).toEqual(names.map((n) => ['semaphore', n, leases.get(n)!.token, 2]));
        expect(snap.semaphores).toEqual(names.map((n) => ({ path: n, used: 2, limit: 2, available: 0 })));
      }
      const seedPort = Number(new URL(seed).port);
      const far: string[] = [];
      for (const n of names) if ((await ownerPort(`${prefix}semaphore:{${n}}`)) !== seedPort) far.push(n);
      const [first, second] = far as [string, string];
      const byId = await runCli(['release', first, '--id', leases.get(first)!.token, '--driver', 'node-redis', '--url', seed, '--prefix', prefix]);
      expect(byId.stderr).not.toMatch(/MOVED/);
      expect(byId.code).toBe(0);
      expect((await sem.status(first)).holders).toEqual([]);
      const forced = await runCli(['release', second, '--force', '--yes', '--json', '--url', seed, '--prefix', prefix]);
      expect(forced.code).toBe(0);
      expect((JSON.parse(forced.stdout) as ReleaseOutcome).released.map((r) => r.id)).toEqual([leases.get(second)!.token]);
      expect((await sem.status(second)).holders).toEqual([]);
    } finally {
      await sem.close();
    }
  });
});
