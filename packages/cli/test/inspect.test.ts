import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, Mutex, ReadWriteLock, ReentrantMutex, SpinLock } from '@hilok/ioredis';
import { useRedis, type RedisServer } from '@hilok/testing';
import type { Snapshot } from '../src/snapshot.js';
import { freshPrefix, runCli } from './helpers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await useRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('hilok inspect', () => {
  it('shows every lock kind, held by the real lock classes, in text and JSON, on both drivers', async () => {
    const prefix = freshPrefix();
    const o = { prefix, ttl: 20_000 };
    const tree = new HiLok(server.url, o);
    const mutex = new Mutex(server.url, o);
    const spin = new SpinLock(server.url, o);
    const reentrant = new ReentrantMutex(server.url, o);
    const rw = new ReadWriteLock(server.url, o);
    const fair = new FairLock(server.url, o);
    try {
      const w = await tree.acquireWrite('shop/catalog');
      const r = await tree.acquireRead('shop/orders/42');
      const m = await mutex.acquire('invoice:42');
      const s = await spin.acquire('spin{1}');
      await reentrant.acquire('res', { owner: 'job-7' });
      await reentrant.acquire('res', { owner: 'job-7' });
      const rwId = await rw.acquireWrite('config');
      const f = await fair.acquire('printer');

      const text = await runCli(['inspect', '--url', server.url, '--prefix', prefix]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('7 holds');
      expect(text.stdout).toMatch(new RegExp(`tree +shop/catalog +write +\\d+s +\\d\\.\\ds +\\d+ +\\S+ +${w}`));
      expect(text.stdout).toMatch(new RegExp(`tree +shop/orders/42 +read +\\d+s +\\d\\.\\ds +\\d+ +\\S+ +${r}`));
      expect(text.stdout).toMatch(new RegExp(`mutex +invoice:42 +write +\\d+s +\\d\\.\\ds +${m.fence} +\\S+ +${m.token}`));
      expect(text.stdout).toMatch(new RegExp(`mutex +spin\\{1\\} +write .*${s.token}`));
      expect(text.stdout).toMatch(/mutex +res +write×2 .* job-7/);
      expect(text.stdout).toMatch(new RegExp(`rw +config +write .*${rwId}`));
      expect(text.stdout).toMatch(new RegExp(`fair +printer +write +\\d+s +\\d\\.\\ds +${f.fence} +\\S+ +${f.token}`));

      for (const driver of ['ioredis', 'node-redis']) {
        const json = await runCli(['inspect', '--json', '--driver', driver, '--url', server.url, '--prefix', prefix]);
        expect(json.code).toBe(0);
        const snap = JSON.parse(json.stdout) as Snapshot;
        expect(snap.prefix).toBe(prefix);
        const byId = new Map(snap.holds.map((h) => [h.id, h]));
        expect(byId.get(w)).toMatchObject({ kind: 'tree', path: 'shop/catalog', mode: 'write', count: 1 });
        expect(byId.get(r)).toMatchObject({ kind: 'tree', path: 'shop/orders/42', mode: 'read' });
        expect(byId.get(m.token)).toMatchObject({ kind: 'mutex', path: 'invoice:42', mode: 'write', fence: m.fence });
        expect(byId.get(s.token)).toMatchObject({ kind: 'mutex', path: 'spin{1}' });
        expect(byId.get('job-7')).toMatchObject({ kind: 'mutex', path: 'res', count: 2 });
        expect(byId.get(rwId)).toMatchObject({ kind: 'rw', path: 'config', mode: 'write' });
        expect(byId.get(f.token)).toMatchObject({ kind: 'fair', path: 'printer', fence: f.fence });
        for (const h of snap.holds) expect(h.ttl).toBeGreaterThan(15_000);
        // Granted moments ago, on the server's clock (the fence is its µs at the grant).
        for (const h of snap.holds) expect(snap.now - (h.acquiredAt as number)).toBeGreaterThanOrEqual(0);
        for (const h of snap.holds) expect(snap.now - (h.acquiredAt as number)).toBeLessThan(15_000);
        expect(snap.waiting).toEqual([]);
      }

      // A path shows itself and what lies below it, nothing beside it.
      const shop = JSON.parse((await runCli(['inspect', 'shop/orders', '--json', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect(shop.holds.map((h) => h.id)).toEqual([r]);
      const kinds = JSON.parse((await runCli(['inspect', '--kind', 'fair,rw', '--json', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect(kinds.holds.map((h) => h.kind).sort()).toEqual(['fair', 'rw']);
    } finally {
      await Promise.all([tree, mutex, spin, reentrant, rw, fair].map((l) => l.close()));
    }
  });

  it('shows waiting writers (tree, rw) and the fair queue, and changes nothing', async () => {
    const prefix = freshPrefix();
    const o = { prefix, ttl: 20_000 };
    const tree = new HiLok(server.url, o);
    const rw = new ReadWriteLock(server.url, o);
    const fair = new FairLock(server.url, { ...o, queueTtl: 3_000 });
    const abort = new AbortController();
    try {
      const reader = await tree.acquireRead('shop/catalog/item-1');
      await rw.acquireRead('config');
      await fair.acquire('printer');
      const waits = [
        tree.acquireWrite('shop/catalog', { timeout: 10_000, signal: abort.signal }),
        rw.acquireWrite('config', { timeout: 10_000, signal: abort.signal }),
        fair.acquire('printer', { timeout: 10_000, signal: abort.signal }),
        fair.acquire('printer', { timeout: 10_000, signal: abort.signal }),
      ].map((p) => p.catch(() => undefined));
      await new Promise((r) => setTimeout(r, 300));

      const before = await server.command('SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '1000');
      await server.command('CONFIG', 'RESETSTAT');
      const text = await runCli(['inspect', 'shop', '--url', server.url, '--prefix', prefix]);
      // SCAN, never KEYS (docs/cli.md).
      const stats = String(await server.command('INFO', 'commandstats'));
      expect(stats).toMatch(/^cmdstat_scan:/m);
      expect(stats).not.toMatch(/^cmdstat_keys:/m);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`tree +shop/catalog/item-1 +read .*${reader}`));
      expect(text.stdout).toMatch(/1 waiting\n.*\ntree +shop\/catalog +waiting write +- +\d\.\ds +[0-9a-f-]{36}/);

      const snap = JSON.parse((await runCli(['inspect', '--json', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect(snap.waiting.map((w) => [w.kind, w.path, w.mode, w.position])).toEqual([
        ['fair', 'printer', 'write', 1],
        ['fair', 'printer', 'write', 2],
        ['rw', 'config', 'write', undefined],
        ['tree', 'shop/catalog', 'write', undefined],
      ]);
      for (const w of snap.waiting) expect(w.ttl).toBeGreaterThan(0);
      const after = await server.command('SCAN', '0', 'MATCH', `${prefix}*`, 'COUNT', '1000');
      expect((after as [string, string[]])[1].sort()).toEqual((before as [string, string[]])[1].sort());
      abort.abort();
      await Promise.all(waits);
    } finally {
      abort.abort();
      await Promise.all([tree, rw, fair].map((l) => l.close()));
    }
  });

  it('a plain name selects what lies below it after a colon too; a glob selects the names it matches', async () => {
    const prefix = freshPrefix();
    const o = { prefix, ttl: 20_000 };
    const mutex = new Mutex(server.url, o);
    const tree = new HiLok(server.url, o);
    const url = ['--url', server.url, '--prefix', prefix];
    const ids = async (...args: string[]) => ((JSON.parse((await runCli(['inspect', ...args, '--json', ...url])).stdout) as Snapshot).holds.map((h) => h.path)).sort();
    try {
      for (const n of ['invoice:42', 'invoice:43', 'invoice:142', 'invoices', 'invoice']) await mutex.acquire(n);
      await tree.acquireRead('shop/catalog/item-1');
      await tree.acquireWrite('shop/orders');
      expect(await ids('invoice')).toEqual(['invoice', 'invoice:142', 'invoice:42', 'invoice:43']);
      expect(await ids('invoice:4*')).toEqual(['invoice:42', 'invoice:43']);
      expect(await ids('invoice?')).toEqual(['invoices']);
      expect(await ids('invoice:[14]*')).toEqual(['invoice:142', 'invoice:42', 'invoice:43']);
      expect(await ids('shop/*/item-*')).toEqual(['shop/catalog/item-1']);
      expect(await ids('*/orders')).toEqual(['shop/orders']);
      const text = await runCli(['inspect', 'invoice:4*', ...url]);
      expect(text.stdout).toContain('2 holds matching "invoice:4*"');
    } finally {
      await Promise.all([mutex.close(), tree.close()]);
    }
  });

  it('says so when nothing is held', async () => {
    const run = await runCli(['inspect', 'nothing/here', '--url', server.url, '--prefix', freshPrefix()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no locks held at "nothing/here"');
  });
});
