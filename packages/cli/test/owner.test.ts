import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIoredisAdapter, FairLock, HiLok, InvalidArgumentError, Mutex, Semaphore } from '@hilok/ioredis';
import { Redlock } from '@hilok/redlock';
import { useRedisInstances, type RedisInstances } from '@hilok/testing';
import { connect } from '../src/connect.js';
import type { RedlockView } from '../src/redlock.js';
import { PLAIN, renderTree } from '../src/render.js';
import { readSnapshot, type Snapshot } from '../src/snapshot.js';
import { freshPrefix, runCli } from './helpers.js';

// Owners people can recognise (issue 21): inspect's OWNER column and JSON record, watch's tree,
// and the Redlock view, on one server and on a set of three.
const HOST = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'localhost';
const owner = (app: string | undefined) => ({ app, host: HOST, pid: process.pid, startedAt: expect.any(Number) });

let set: RedisInstances;
beforeAll(async () => {
  set = await useRedisInstances(3);
});
afterAll(async () => {
  await set?.stopAll();
});

describe('hilok inspect / watch: who holds what', () => {
  it('shows app@host:pid for every kind, the full record in --json, and "-" for an id the caller chose', { timeout: 60_000 }, async () => {
    const url = set.urls[0] as string;
    const prefix = freshPrefix();
    const mutex = new Mutex(url, { prefix, app: 'billing-worker' });
    const tree = new HiLok(url, { prefix, app: 'catalog-sync' });
    const fair = new FairLock(url, { prefix });
    const sem = new Semaphore(url, { prefix, app: 'pool.user' });
    try {
      const m = await mutex.acquire('invoice:42');
      const mine = await mutex.acquire('invoice:43', { id: 'job-43' });
      const w = await tree.acquireWrite('shop/catalog');
      const f = await fair.acquire('printer');
      const s = await sem.acquire('pool', { limit: 3 });

      const json = await runCli(['inspect', '--json', '--url', url, '--prefix', prefix]);
      expect(json.code).toBe(0);
      const snap = JSON.parse(json.stdout) as Snapshot;
      const byPath = new Map(snap.holds.map((h) => [h.path, h]));
      expect(byPath.get('invoice:42')).toMatchObject({ id: m.token, owner: owner('billing-worker') });
      expect(byPath.get('invoice:43')).toMatchObject({ id: 'job-43', owner: null });
      expect(byPath.get('shop/catalog')).toMatchObject({ id: w, owner: owner('catalog-sync') });
      // No app: host and pid only (JSON drops the undefined app).
      expect(byPath.get('printer')).toMatchObject({ id: f.token, owner: { host: HOST, pid: process.pid } });
      expect(byPath.get('printer')?.owner?.app).toBeUndefined();
      if (byPath.has('pool')) expect(byPath.get('pool')).toMatchObject({ id: s.token, owner: owner('pool.user') });
      for (const h of snap.holds) {
        if (h.owner) expect(Math.abs(h.owner.startedAt - (Date.now() - process.uptime() * 1000))).toBeLessThan(2_000);
      }

      const text = await runCli(['inspect', '--url', url, '--prefix', prefix]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/KIND +PATH +MODE +TTL +HELD +FENCE +OWNER +ID/);
      expect(text.stdout).toMatch(new RegExp(`invoice:42 +write .* billing-worker@${HOST}:${process.pid} +${m.token}`));
      expect(text.stdout).toMatch(/invoice:43 +write .* - +job-43/);
      expect(text.stdout).toMatch(new RegExp(`printer +write .* ${HOST}:${process.pid} +${f.token}`));

      // watch draws the same snapshot: the owner next to each hold.
      const conn = await connect(url, 'ioredis');
      try {
        const lines = renderTree(await readSnapshot(conn, { prefix }), { colors: PLAIN }).join('\n');
        expect(lines).toMatch(new RegExp(`catalog +write +catalog-sync@${HOST}:${process.pid} +ttl`));
        expect(lines).toMatch(new RegExp(`invoice:42 +write +billing-worker@${HOST}:${process.pid} +ttl`));
        expect(lines).toMatch(/invoice:43 +write +job-43 +ttl/);
      } finally {
        await conn.close();
      }
      await Promise.all([m.release(), mine.release(), tree.release('shop/catalog', w), f.release(), s.release()]);
    } finally {
      await Promise.all([mutex.close(), tree.close(), fair.close(), sem.close()]);
    }
  });

  it('the Redlock view shows the owner of each hold across the instances', { timeout: 60_000 }, async () => {
    const prefix = freshPrefix();
    const redlock = Redlock.fromUrls(set.urls, { connect: (u) => createIoredisAdapter(u), prefix, ttl: 30_000, app: 'ledger' });
    try {
      const lease = await redlock.lock('invoice:42');
      const json = await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix, '--json']);
      expect(json.code).toBe(0);
      const view = JSON.parse(json.stdout) as RedlockView;
      expect(view.holds).toEqual([expect.objectContaining({ id: lease.token, held: 3, owner: owner('ledger') })]);
      const text = await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix]);
      expect(text.stdout).toMatch(/MAJORITY +TTL +OWNER +ID/);
      expect(text.stdout).toMatch(new RegExp(`yes +\\S+ +ledger@${HOST}:${process.pid} +${lease.token}`));
      await lease.release();
    } finally {
      await redlock.close();
    }
  });

  it('bad app values are refused before any connection (InvalidArgumentError)', async () => {
    expect(() => new Mutex(set.urls[0] as string, { app: 'no spaces' })).toThrow(InvalidArgumentError);
    expect(() => Redlock.fromUrls(set.urls, { connect: (u) => createIoredisAdapter(u), app: 'x'.repeat(65) })).toThrow(InvalidArgumentError);
    expect(() => Redlock.fromUrls(set.urls, { connect: (u) => createIoredisAdapter(u), app: 'a:b' })).toThrow(/app/);
  });
});
