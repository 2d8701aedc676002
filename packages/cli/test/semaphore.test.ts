/**
 * The CLI and the counting semaphore (issue 19) on a real redis-server: `inspect` lists its holds
 * (kind `semaphore`, permits, ttl, fence, id), its waiters and its counts, in text and JSON, on
 * both drivers; `--kind semaphore` and `--limit`; `watch` draws them; `release --id` and `--force`
 * end holds through core's owner-checked release script, handing the permits to the waiters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mutex, Semaphore } from '@hilok/ioredis';
import { useRedis, type RedisServer } from '@hilok/testing';
import { frame } from '../src/commands/watch.js';
import type { ReleaseOutcome } from '../src/commands/release.js';
import { connect } from '../src/connect.js';
import { parseKey } from '../src/keys.js';
import { PLAIN } from '../src/render.js';
import type { Snapshot } from '../src/snapshot.js';
import { freshPrefix, runCli } from './helpers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await useRedis();
});
afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('semaphore keys, read back', () => {
  it('recognises the four keys core builds (semaphoreKeys), and nothing else', () => {
    const parts = ['holders', 'permits', 'queue', 'alive'];
    const keys = ['p:semaphore:{a%7Bb}', 'p:semaphore:{a%7Bb}:p', 'p:semaphore:{a%7Bb}:q', 'p:semaphore:{a%7Bb}:a'];
    expect(keys.map((k) => parseKey(k, 'p:'))).toEqual(parts.map((part) => ({ kind: 'semaphore', name: 'a{b', part })));
    expect(parseKey('p:semaphore:{x}:wake', 'p:')).toBeNull();
    expect(parseKey('p:semaphore:{x}:z', 'p:')).toBeNull();
  });
});

describe('hilok inspect / watch: semaphores', () => {
  it('lists holds with their permits, waiters with what they ask, and the counts; text, JSON, both drivers', async () => {
    const prefix = freshPrefix();
    const sem = new Semaphore(server.url, { prefix, ttl: 20_000 });
    const mutex = new Mutex(server.url, { prefix, ttl: 20_000 });
    try {
      const a = await sem.acquire('pool', { limit: 4, permits: 3 });
      const b = await sem.acquire('pool', { limit: 4 });
      const m = await mutex.acquire('pool-lock');
      // A waiter for 2 permits (limit 4): it queues in Redis.
      const waiting = sem.acquire('pool', { limit: 4, permits: 2, timeout: 10_000 });
      waiting.catch(() => undefined); // a failing test closes the Semaphore under it
      await sleep(100);

      const text = await runCli(['inspect', '--url', server.url, '--prefix', prefix]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`semaphore +pool +3 permits +\\d+s +\\d\\.\\ds +${a.fence} .*${a.token}`));
      expect(text.stdout).toMatch(new RegExp(`semaphore +pool +1 permit +\\d+s +\\d\\.\\ds +${b.fence} .*${b.token}`));
      expect(text.stdout).toMatch(/semaphore +pool +waiting 2 permits +#1 +\d\.\ds +\S+/);
      expect(text.stdout).toMatch(/1 semaphore\n.*PATH +USED +LIMIT +AVAILABLE\npool +4 +4 +0/);

      for (const driver of ['ioredis', 'node-redis']) {
        const json = await runCli(['inspect', '--json', '--driver', driver, '--url', server.url, '--prefix', prefix]);
        expect(json.code).toBe(0);
        const snap = JSON.parse(json.stdout) as Snapshot;
        const mine = snap.holds.filter((h) => h.kind === 'semaphore');
        expect(mine).toEqual([
          expect.objectContaining({ kind: 'semaphore', path: 'pool', mode: 'read', id: a.token, permits: 3, fence: a.fence, count: 1 }),
          expect.objectContaining({ kind: 'semaphore', path: 'pool', mode: 'read', id: b.token, permits: 1, fence: b.fence, count: 1 }),
        ]);
        for (const h of mine) {
          expect(h.ttl).toBeGreaterThan(15_000);
          expect(h.acquiredAt).toBeGreaterThan(snap.now - 5_000);
        }
        expect(snap.holds.find((h) => h.kind === 'mutex')).toMatchObject({ path: 'pool-lock', id: m.token });
        expect(snap.waiting).toEqual([expect.objectContaining({ kind: 'semaphore', path: 'pool', position: 1, permits: 2, limit: 4 })]);
        expect(snap.waiting[0]!.ttl).toBeGreaterThan(0);
        expect(snap.waiting[0]!.ttl).toBeLessThanOrEqual(3_000);
        // The limit is not stored in Redis: the first waiter's is used.
        expect(snap.semaphores).toEqual([{ path: 'pool', used: 4, limit: 4, available: 0 }]);
      }

      // --kind semaphore: only semaphores; --limit overrides the waiter's limit for the counts.
      const only = JSON.parse((await runCli(['inspect', '--json', '--kind', 'semaphore', '--limit', '6', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect(new Set(only.holds.map((h) => h.kind))).toEqual(new Set(['semaphore']));
      expect(only.semaphores).toEqual([{ path: 'pool', used: 4, limit: 6, available: 2 }]);
      const noSem = JSON.parse((await runCli(['inspect', '--json', '--kind', 'mutex', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect(noSem.holds.map((h) => h.kind)).toEqual(['mutex']);
      expect(noSem.waiting).toEqual([]);
      expect(noSem.semaphores).toEqual([]);
      expect((await runCli(['inspect', '--limit', '0', '--url', server.url])).code).toBe(2);

      // watch renders the same snapshot: a semaphore section with the counts, holds and waiter.
      const conn = await connect(server.url, 'ioredis');
      try {
        const lines = (await frame(conn, { title: 't', prefix, separator: '/', colors: PLAIN, plain: true })).join('\n');
        expect(lines).toContain('semaphore (Semaphore)');
        expect(lines).toMatch(/└─ pool +4 of 4 permits used, 0 available/);
        expect(lines).toMatch(new RegExp(`\n +3 permits .*fence ${a.fence}`));
        expect(lines).toMatch(new RegExp(`\n +1 permit .*fence ${b.fence}`));
        expect(lines).toMatch(/waiting 2 permits #1 /);
      } finally {
        await conn.close();
      }

      await a.release();
      const got = await waiting;
      await Promise.all([got.release(), b.release(), m.release()]);
      // No holder and no waiter: nothing is listed (and no key is left).
      const empty = JSON.parse((await runCli(['inspect', '--json', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect([empty.holds, empty.waiting, empty.semaphores]).toEqual([[], [], []]);
      expect(await server.command('KEYS', `${prefix}*`)).toEqual([]);
    } finally {
      await Promise.all([sem.close(), mutex.close()]);
    }
  });

  it('an expired hold is not listed (its permits are free; the next script purges it)', async () => {
    const prefix = freshPrefix();
    const sem = new Semaphore(server.url, { prefix, ttl: 20_000 });
    try {
      const a = await sem.acquire('short', { limit: 2 });
      // Expire it on the server's clock without running a semaphore script.
      await server.command('ZADD', `${prefix}semaphore:{short}`, '1', a.token);
      const snap = JSON.parse((await runCli(['inspect', '--json', '--url', server.url, '--prefix', prefix])).stdout) as Snapshot;
      expect(snap.holds).toEqual([]);
      expect(snap.semaphores).toEqual([]);
      await a.release().catch(() => undefined);
    } finally {
      await sem.close();
    }
  });
});

describe('hilok release: semaphores', () => {
  it('--id releases exactly that hold through the release script, which hands the permits to the waiter', async () => {
    const prefix = freshPrefix();
    const sem = new Semaphore(server.url, { prefix, ttl: 20_000 });
    const url = ['--url', server.url, '--prefix', prefix];
    try {
      const a = await sem.acquire('jobs', { limit: 2, permits: 2 });
      const waiting = sem.acquire('jobs', { limit: 2, timeout: 10_000 });
      waiting.catch(() => undefined);
      await sleep(100);
      // Not a holder's id: exit 1, nothing changed.
      expect((await runCli(['release', 'jobs', '--id', 'nobody', ...url])).code).toBe(1);
      expect((await runCli(['release', 'jobs', '--id', a.token, '--kind', 'mutex', ...url])).code).toBe(1);
      expect((await sem.status('jobs', { limit: 2 })).used).toBe(2);

      const run = await runCli(['release', 'jobs', '--id', a.token, '--kind', 'semaphore', '--json', ...url]);
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as ReleaseOutcome).released).toEqual([{ kind: 'semaphore', path: 'jobs', id: a.token, mode: 'read' }]);
      const next = await waiting; // handed the freed permits by the script's wake-up
      expect(next.fence).toBeGreaterThan(a.fence);
      expect((await sem.status('jobs', { limit: 2 })).holders.map((h) => h.id)).toEqual([next.token]);
      await a.release().catch(() => undefined); // already gone on the server
      const text = await runCli(['release', 'jobs', '--id', next.token, ...url]);
      expect(text.stdout).toContain(`released semaphore read hold ${next.token} on "jobs"`);
      expect(await server.command('KEYS', `${prefix}*`)).toEqual([]);
    } finally {
      await sem.close();
    }
  });

  it('--force ends every hold of the named semaphore (after a confirmation), nothing else; waiters keep their places', async () => {
    const prefix = freshPrefix();
    const sem = new Semaphore(server.url, { prefix, ttl: 20_000 });
    const url = ['--url', server.url, '--prefix', prefix];
    try {
      const held = [await sem.acquire('s', { limit: 3 }), await sem.acquire('s', { limit: 3, permits: 2 })];
      const other = await sem.acquire('s2', { limit: 1 });
      const waiting = sem.acquire('s', { limit: 3, permits: 3, timeout: 10_000 });
      waiting.catch(() => undefined);
      await sleep(100);

      const refused = await runCli(['release', 's', '--force', ...url], 'n\n');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/semaphore "s": release 2 hold\(s\)/);
      expect((await sem.status('s', { limit: 3 })).used).toBe(3);

      const forced = await runCli(['release', 's', '--force', '--yes', '--json', ...url]);
      expect(forced.code).toBe(0);
      const outcome = JSON.parse(forced.stdout) as ReleaseOutcome;
      expect(outcome.deletedKeys).toEqual([]);
      expect(outcome.released.map((r) => r.id).sort()).toEqual(held.map((h) => h.token).sort());
      const big = await waiting; // the 3-permit waiter got them
      expect((await sem.status('s', { limit: 3 })).holders.map((h) => h.id)).toEqual([big.token]);
      expect((await sem.status('s2', { limit: 1 })).holders.map((h) => h.id)).toEqual([other.token]);
      await Promise.all([big.release(), other.release()]);
      expect((await runCli(['release', 's', '--force', '--yes', ...url])).code).toBe(1); // nothing left
      expect(await server.command('KEYS', `${prefix}*`)).toEqual([]);
    } finally {
      await sem.close();
    }
  });
});
