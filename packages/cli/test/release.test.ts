import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, Mutex, ReadWriteLock, ReentrantMutex } from '@hilok/ioredis';
import { useRedis, type RedisServer } from '@hilok/testing';
import type { ReleaseOutcome } from '../src/commands/release.js';
import { freshPrefix, runCli } from './helpers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await useRedis();
});
afterAll(async () => {
  await server?.stop();
});

const keysOf = async (prefix: string) => ((await server.command('SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '1000')) as [string, string[]])[1].sort();

describe('hilok release --id', () => {
  it('releases exactly that tree hold, and exits 1 for a foreign id without touching anything', async () => {
    const prefix = freshPrefix();
    const a = new HiLok(server.url, { prefix, ttl: 20_000 });
    const b = new HiLok(server.url, { prefix, ttl: 20_000 });
    try {
      const mine = await a.acquireRead('shop/catalog');
      const theirs = await b.acquireRead('shop/catalog');
      const below = await b.acquireRead('shop/catalog/item-1');
      const url = ['--url', server.url, '--prefix', prefix];

      const foreign = await runCli(['release', 'shop/catalog', '--id', 'not-a-holder', ...url]);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toMatch(/no live hold with id not-a-holder on "shop\/catalog"/);
      const wrongPath = await runCli(['release', 'shop/catalog', '--id', below, ...url]);
      expect(wrongPath.code).toBe(1);
      expect(wrongPath.stderr).toContain('tree path "shop/catalog/item-1"');
      expect((await a.status('shop')).holds).toHaveLength(3);

      const done = await runCli(['release', 'shop/catalog', '--id', mine, '--json', ...url]);
      expect(done.code).toBe(0);
      expect(JSON.parse(done.stdout)).toEqual({
        action: 'id',
        path: 'shop/catalog',
        released: [{ kind: 'tree', path: 'shop/catalog', id: mine, mode: 'read' }],
        deletedKeys: [],
      } satisfies ReleaseOutcome);
      expect((await a.status('shop')).holds.map((h) => h.id).sort()).toEqual([theirs, below].sort());
      // Released already: a second try is "not found".
      expect((await runCli(['release', 'shop/catalog', '--id', mine, ...url])).code).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('releases a mutex (a reentrant one entirely), a read-write and a fair hold by id, waking the next waiter', async () => {
    const prefix = freshPrefix();
    const o = { prefix, ttl: 20_000 };
    const mutex = new Mutex(server.url, o);
    const reentrant = new ReentrantMutex(server.url, o);
    const rw = new ReadWriteLock(server.url, o);
    const fair = new FairLock(server.url, o);
    const url = ['--url', server.url, '--prefix', prefix];
    try {
      const m = await mutex.acquire('invoice:42');
      const other = await mutex.acquire('invoice:43');
      expect((await runCli(['release', 'invoice:42', '--id', other.token, ...url])).code).toBe(1);
      const waiter = mutex.acquire('invoice:42', { timeout: 10_000 });
      const run = await runCli(['release', 'invoice:42', '--id', m.token, ...url]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`released mutex write hold ${m.token} on "invoice:42"`);
      const next = await waiter; // woken by the release's publish
      expect(next.fence).toBeGreaterThan(m.fence);
      expect(await mutex.inspect('invoice:43')).toMatchObject({ owner: other.token });

      await reentrant.acquire('res', { owner: 'job-1' });
      await reentrant.acquire('res', { owner: 'job-1' });
      expect((await runCli(['release', 'res', '--id', 'job-1', ...url])).code).toBe(0);
      expect(await reentrant.inspect('res')).toBeNull();

      const r1 = await rw.acquireRead('config');
      const r2 = await rw.acquireRead('config');
      expect((await runCli(['release', 'config', '--id', r1, '--kind', 'rw', ...url])).code).toBe(0);
      expect((await rw.status('config')).holds.map((h) => h.id)).toEqual([r2]);

      const f = await fair.acquire('printer');
      const queued = fair.acquire('printer', { timeout: 10_000 });
      await new Promise((r) => setTimeout(r, 100));
      expect((await runCli(['release', 'printer', '--id', f.token, ...url])).code).toBe(0);
      const head = await queued;
      expect((await fair.inspect('printer'))?.owner).toBe(head.token);
    } finally {
      await Promise.all([mutex, reentrant, rw, fair].map((l) => l.close()));
    }
  });
});

describe('hilok release --force', () => {
  it('deletes only the named lock’s keys with --yes, and nothing when the answer is no', async () => {
    const prefix = freshPrefix();
    const o = { prefix, ttl: 20_000 };
    const mutex = new Mutex(server.url, o);
    const fair = new FairLock(server.url, o);
    const rw = new ReadWriteLock(server.url, o);
    const url = ['--url', server.url, '--prefix', prefix];
    try {
      await mutex.acquire('a');
      const keep = await mutex.acquire('ab');
      await fair.acquire('a');
      await rw.acquireRead('a');
      await rw.acquireRead('keep');
      const before = await keysOf(prefix);

      const refused = await runCli(['release', 'a', '--force', ...url], 'n\n');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('Proceed? [y/N]');
      expect(refused.stderr).toContain('aborted');
      expect(await keysOf(prefix)).toEqual(before);
      expect((await runCli(['release', 'a', '--force', ...url], '')).code).toBe(1); // EOF is a no

      const forced = await runCli(['release', 'a', '--force', '--yes', '--kind', 'mutex,fair', '--json', ...url]);
      expect(forced.code).toBe(0);
      const outcome = JSON.parse(forced.stdout) as ReleaseOutcome;
      expect(outcome.deletedKeys.sort()).toEqual([`${prefix}fair:{a}`, `${prefix}mutex:{a}`]);
      expect(outcome.released.map((r) => r.kind).sort()).toEqual(['fair', 'mutex']);
      expect(await mutex.isLocked('a')).toBe(false);
      expect(await mutex.inspect('ab')).toMatchObject({ owner: keep.token });
      expect((await rw.status('a')).holds).toHaveLength(1);

      const yes = await runCli(['release', 'a', '--force', ...url], 'y\n');
      expect(yes.code).toBe(0);
      expect((await rw.status('a')).holds).toHaveLength(0);
      expect((await rw.status('keep')).holds).toHaveLength(1);
      expect((await keysOf(prefix)).every((k) => !k.includes('{a}'))).toBe(true);

      expect((await runCli(['release', 'a', '--force', '--yes', ...url])).code).toBe(1); // nothing left
    } finally {
      await Promise.all([mutex, fair, rw].map((l) => l.close()));
    }
  });

  it('ends every hold on exactly a tree path through the release script, nothing around it', async () => {
    const prefix = freshPrefix();
    const tree = new HiLok(server.url, { prefix, ttl: 20_000 });
    const url = ['--url', server.url, '--prefix', prefix];
    try {
      await tree.acquireRead('shop/catalog');
      await tree.acquireRead('shop/catalog');
      const below = await tree.acquireRead('shop/catalog/item-1');
      const beside = await tree.acquireWrite('shop/orders');
      const run = await runCli(['release', 'shop/catalog', '--force', '--yes', ...url]);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('2 hold(s) ended');
      expect((await tree.status('shop')).holds.map((h) => h.id).sort()).toEqual([below, beside].sort());
    } finally {
      await tree.close();
    }
  });
});
