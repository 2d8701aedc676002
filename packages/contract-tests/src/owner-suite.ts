import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, InvalidArgumentError, Mutex, ReentrantMutex, Semaphore, parseOwner, type OwnerInfo, type RedisAdapter } from '@hilok/core';
import { startRedis, type RedisServer } from '@hilok/testing';
import { Connections, countingAdapter, type DriverCase } from './driver.js';

/**
 * Owner metadata (issue 21, "owners people can recognise"), through one driver case against a
 * real redis-server: every token a manager makes names its `app`, host, pid and process start;
 * every kind's inspect / status reports it with the grant time; a caller's own `id` stays as
 * given; a bad `app` is an `InvalidArgumentError` before any Redis call; and it costs no Redis
 * call (the same calls with and without `app`).
 */
export function describeOwnerSuite<C>(driver: DriverCase<C>): void {
  describe(`owner metadata: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;
    let adapter: RedisAdapter;
    let n = 0;
    const fresh = () => `owner-${++n}`;
    const me = (app: string | undefined): OwnerInfo => ({
      app,
      host: hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'localhost',
      pid: process.pid,
      startedAt: expect.any(Number) as unknown as number,
    });
    /** The grant time reported must be the server's clock at the grant (same machine: ours, ±1 s). */
    const around = (before: number) => ({
      asymmetricMatch: (t: unknown) => typeof t === 'number' && t >= before - 1_000 && t <= Date.now() + 1_000,
      toString: () => `a server time in ms from ${before - 1_000}`,
    });

    beforeAll(async () => {
      server = await startRedis();
      conns = new Connections(driver);
      adapter = await conns.open(server.url);
    });
    afterAll(async () => {
      await conns?.closeAll();
      await server?.stop();
    });

    it('a Mutex token names app, host, pid and process start; inspect reports it and the grant time', async () => {
      const mutex = new Mutex(adapter, { app: 'billing-worker' });
      const name = fresh();
      const before = Date.now();
      const lease = await mutex.acquire(name);
      const owner = parseOwner(lease.token);
      expect(owner).toEqual(me('billing-worker'));
      const started = Date.now() - process.uptime() * 1000;
      expect(Math.abs((owner?.startedAt ?? 0) - started)).toBeLessThan(2_000);
      const info = await mutex.inspect(name);
      expect(info).toMatchObject({ owner: lease.token, ownerInfo: me('billing-worker'), acquiredAt: around(before) });
      // Every token is new, and the stored owner is the token the lease carries.
      const other = await mutex.acquire(fresh());
      expect(other.token).not.toBe(lease.token);
      await lease.release();
      await other.release();
      await mutex.close();
    });

    it('FairLock, Semaphore, HiLok and ReentrantMutex report the owner and grant time in inspect / status', async () => {
      const fair = new FairLock(adapter, { app: 'fair-app' });
      const sem = new Semaphore(adapter, { app: 'sem.app' });
      const hilok = new HiLok(adapter, { app: 'tree_app' });
      const reentrant = new ReentrantMutex(adapter);
      const before = Date.now();
      const [f, s, h] = [fresh(), fresh(), fresh()];
      const fl = await fair.acquire(f);
      const sl = await sem.acquire(s, { limit: 2 });
      const hl = await hilok.write(`${h}/a`);
      expect(await fair.inspect(f)).toMatchObject({ owner: fl.token, ownerInfo: me('fair-app'), acquiredAt: around(before) });
      expect((await sem.status(s, { limit: 2 })).holders).toEqual([expect.objectContaining({ id: sl.token, ownerInfo: me('sem.app'), acquiredAt: around(before) })]);
      expect((await hilok.status(h)).holds).toEqual([expect.objectContaining({ id: hl.id, ownerInfo: me('tree_app'), acquiredAt: around(before) })]);
      const r = fresh();
      await reentrant.withLock(r, async () => {
        // No app: host and pid only.
        expect(await reentrant.inspect(r)).toMatchObject({ ownerInfo: me(undefined), acquiredAt: around(before) });
      });
      await Promise.all([fl.release(), sl.release(), hl.release()]);
      expect(await fair.inspect(f)).toMatchObject({ owner: undefined, ownerInfo: undefined, acquiredAt: undefined });
      await Promise.all([fair.close(), sem.close(), hilok.close(), reentrant.close()]);
    });

    it("a caller's own id is stored as given and has no owner metadata", async () => {
      const mutex = new Mutex(adapter, { app: 'billing-worker' });
      const hilok = new HiLok(adapter, { app: 'billing-worker' });
      const name = fresh();
      const lease = await mutex.acquire(name, { id: 'job-42' });
      const hold = await hilok.read(`${name}/x`, { id: 'reader-7' });
      expect(await mutex.inspect(name)).toMatchObject({ owner: 'job-42', ownerInfo: undefined });
      expect((await hilok.status(name)).holds).toEqual([expect.objectContaining({ id: 'reader-7', ownerInfo: undefined })]);
      expect(parseOwner('job-42')).toBeNull();
      await lease.release();
      await hold.release();
      await Promise.all([mutex.close(), hilok.close()]);
    });

    it('a bad app is an InvalidArgumentError before any Redis call, for every kind', async () => {
      const counted = countingAdapter(adapter);
      for (const app of ['', 'has space', 'x'.repeat(65), 'a@b', 'a:b', 'é', 42, null, {}]) {
        for (const make of [
          () => new Mutex(counted, { app } as never),
          () => new FairLock(counted, { app } as never),
          () => new Semaphore(counted, { app } as never),
          () => new HiLok(counted, { app } as never),
          () => new ReentrantMutex(counted, { app } as never),
        ]) {
          expect(make, JSON.stringify(app)).toThrow(InvalidArgumentError);
        }
      }
      expect(counted.calls).toBe(0);
    });

    it('costs no Redis call: acquires and releases make the same calls with and without app', async () => {
      const calls = async (options: { app?: string }) => {
        const counted = countingAdapter(adapter);
        const mutex = new Mutex(counted, options);
        // Warm the script cache first (NOSCRIPT → EVAL is a second call once per script).
        await (await mutex.acquire(fresh())).release();
        counted.calls = 0;
        for (let i = 0; i < 5; i++) await (await mutex.acquire(fresh())).release();
        await mutex.close();
        return counted.calls;
      };
      expect(await calls({ app: 'billing-worker' })).toBe(await calls({}));
      expect(await calls({})).toBe(10);
    });
  });
}
