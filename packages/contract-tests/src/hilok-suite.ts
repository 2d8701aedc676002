import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok, InvalidArgumentError, LockBusyError, LockLostError, LockReleaseError, ReadWriteLock, parseOwner, type Hold, type RedisAdapter } from '@hilok/core';
import { startRedis, type RedisServer } from '@hilok/testing';
import { Connections, countingAdapter, delay, handOffMs, redisCall, type DriverCase } from './driver.js';

/** The hierarchical read-write lock through one driver case, against a real redis-server. */
export function describeHiLokSuite<C>(driver: DriverCase<C>): void {
  describe(`hilok: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;
    let adapter: RedisAdapter;
    let hilok: HiLok;
    let n = 0;
    /** A fresh tree root per test, so tests never see each other's holds. */
    const root = () => `t${++n}`;

    beforeAll(async () => {
      server = await startRedis();
      conns = new Connections(driver);
      adapter = await conns.open(server.url);
      hilok = new HiLok(adapter, { ttl: 5_000 });
    });
    afterAll(async () => {
      await hilok?.close();
      await conns?.closeAll();
      await server?.stop();
    });

    const busy = (p: Promise<unknown>) => expect(p).rejects.toBeInstanceOf(LockBusyError);

    it('seed: a read on a/b makes a non-blocking write on a fail', async () => {
      const r = root();
      await using _read = await hilok.read(`${r}/b`);
      await busy(hilok.write(r, { block: false }));
    });

    it('seed: concurrent readers on a and a/b/c; a write on a blocks a read on a/b/c', async () => {
      const r = root();
      {
        await using _a = await hilok.read(r);
        await using _abc = await hilok.read(`${r}/b/c`);
      }
      await using _w = await hilok.write(r);
      await busy(hilok.read(`${r}/b/c`, { timeout: 100 }));
    });

    it('seed: a custom separator', async () => {
      const colon = new HiLok(adapter, { separator: ':' });
      const r = root();
      await using hold = await colon.write(`${r}:b:c`);
      expect(hold.path).toBe(`${r}:b:c`);
      await busy(colon.read(r, { block: false }));
      // The same string under "/" is one segment: a different tree, no conflict.
      await using other = await hilok.read(`${r}:b:c`, { block: false });
      expect(other.mode).toBe('read');
      await colon.close();
    });

    it('seed: long operations stay locked with refreshInterval', async () => {
      const refreshing = new HiLok(adapter, { ttl: 400, refreshInterval: 120 });
      const r = root();
      await using hold = await refreshing.write(`${r}/b`);
      await delay(1_200);
      expect(hold.signal.aborted).toBe(false);
      await busy(hilok.read(`${r}/b`, { block: false }));
      await refreshing.close();
    });

    it('seed: handles by id — re-taken manually and by another instance with refresh', async () => {
      const r = root();
      const first = new HiLok(adapter, { ttl: 2_000 });
      const id = await first.acquireWrite(`${r}/b`);
      await delay(300);
      const manual = new HiLok(adapter, { ttl: 2_000 });
      expect(await manual.acquireWrite(`${r}/b`, { id, block: false })).toBe(id);
      const other = new HiLok(adapter, { ttl: 2_000, refreshInterval: 500 });
      {
        await using hold = await other.write(`${r}/b`, { id, block: false });
        expect(hold.id).toBe(id);
      }
      expect((await hilok.status(r)).holds).toEqual([]);
      await Promise.all([first.close(), manual.close(), other.close()]);
    });

    it('a read on an ancestor blocks a write below it (true subtree read lock)', async () => {
      const r = root();
      await using _read = await hilok.read(r);
      await busy(hilok.write(`${r}/b/c`, { block: false }));
      await using _sibling = await hilok.read(`${r}/b/c`, { block: false });
    });

    it('a write excludes ancestors, itself and the subtree; siblings are independent', async () => {
      const r = root();
      await using _w = await hilok.write(`${r}/b`);
      for (const path of [r, `${r}/b`, `${r}/b/c`, `${r}/b/c/d`]) {
        await busy(hilok.read(path, { block: false }));
        await busy(hilok.write(path, { block: false }));
      }
      await using _sib = await hilok.write(`${r}/c`, { block: false });
      await using _other = await hilok.write(`${r}x/b`, { block: false });
    });

    it('each hold has its own lease: a crashed reader expires while another keeps refreshing', async () => {
      const r = root();
      const crashed = await hilok.acquireRead(r, { ttl: 300 });
      const steady = await hilok.read(r, { ttl: 300, autoRenew: 100 });
      await delay(700);
      const { holds } = await hilok.status(r);
      expect(holds.map((h) => h.id)).toEqual([steady.id]);
      expect(holds.map((h) => h.id)).not.toContain(crashed);
      await busy(hilok.write(r, { block: false }));
      await steady.release();
      await using _w = await hilok.write(r, { block: false });
    });

    it('writers do not starve while overlapping readers keep arriving', async () => {
      const r = root();
      let stop = false;
      let readsDuringWait = 0;
      const readers = Array.from({ length: 4 }, async (_, i) => {
        await delay(i * 40);
        while (!stop) {
          const hold = await hilok.read(r, { timeout: 10_000 });
          readsDuringWait++;
          await delay(120);
          await hold.release();
        }
      });
      await delay(300);
      const writer = await hilok.write(r, { timeout: 8_000 });
      stop = true;
      expect(writer.held).toBe(true);
      expect(readsDuringWait).toBeGreaterThan(2);
      await writer.release();
      await Promise.all(readers);
    });

    it('a waiting writer holds back new readers, and withdrawing it lets them in', async () => {
      const r = root();
      const first = await hilok.read(r);
      const controller = new AbortController();
      const writer = hilok.write(`${r}/b`, { signal: controller.signal }).catch((e: unknown) => e);
      await delay(100);
      expect((await hilok.status(r)).waitingWriters).toHaveLength(1);
      await busy(hilok.read(`${r}/b/c`, { block: false }));
      controller.abort(new Error('writer gave up'));
      expect(await writer).toMatchObject({ message: 'writer gave up' });
      await using _reader = await hilok.read(`${r}/b/c`, { block: false });
      await first.release();
    });

    it('wakes a writer by pub/sub when a hold below it is released', async () => {
      const r = root();
      const below = await hilok.read(`${r}/b/c`, { ttl: 20_000 });
      expect(await handOffMs(below, hilok.write(r, { timeout: 15_000 }))).toBeLessThan(5_000);
    });

    it('wakes a reader by pub/sub when a write on an ancestor is released', async () => {
      const r = root();
      const above = await hilok.write(r, { ttl: 20_000 });
      expect(await handOffMs(above, hilok.read(`${r}/b/c`, { timeout: 15_000 }))).toBeLessThan(5_000);
    });

    it('gives conflicting holds strictly increasing fencing tokens', async () => {
      const r = root();
      let last = 0;
      for (const path of [r, `${r}/b`, r, `${r}/b/c`, `${r}/b`]) {
        const hold = await hilok.write(path);
        expect(hold.fence).toBeGreaterThan(last);
        last = hold.fence;
        await hold.release();
      }
    });

    it('never touches a newer hold when releasing or refreshing a lost one', async () => {
      const r = root();
      const old = await hilok.write(r, { ttl: 150 });
      await delay(250);
      const current = await hilok.write(r, { block: false });
      await expect(old.extend()).rejects.toBeInstanceOf(LockLostError);
      expect(await old.release()).toBe(false);
      expect(await hilok.release(r, old.id)).toBe(false);
      expect((await hilok.status(r)).holds.map((h) => h.id)).toEqual([current.id]);
      await current.release();
    });

    it('status lists holds at a path and below with ttl, fence and mode', async () => {
      const r = root();
      const a = await hilok.read(`${r}/b`);
      const b = await hilok.write(`${r}/c/d`);
      const status = await hilok.status(r);
      expect(status.holds.map((h) => [h.path, h.mode]).sort()).toEqual([
        [`${r}/b`, 'read'],
        [`${r}/c/d`, 'write'],
      ]);
      for (const h of status.holds) {
        expect(h.ttl).toBeGreaterThan(4_000);
        expect(h.fence).toBeGreaterThan(0);
      }
      expect((await hilok.status(`${r}/c`)).holds.map((h) => h.id)).toEqual([b.id]);
      await a.release();
      await b.release();
    });

    it('refuses an id that already holds another path', async () => {
      const r = root();
      const id = await hilok.acquireWrite(r);
      await expect(hilok.acquireRead(`${r}x`, { id })).resolves.toBe(id); // another tree: another meta hash
      await expect(hilok.acquireRead(`${r}/b`, { id, block: false })).rejects.toBeInstanceOf(InvalidArgumentError);
      expect(await hilok.release(r, id)).toBe(true);
      expect(await hilok.release(`${r}x`, id)).toBe(true);
    });

    it('withWrite: the body error wins over a failed release; a clean body with a lost hold throws LockReleaseError', async () => {
      const r = root();
      const boom = new Error('write operation error');
      const err = await hilok
        .withWrite(r, async () => {
          await redisCall(adapter, 'FLUSHALL');
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(err).toBe(boom);
      await expect(hilok.withRead(r, async () => void (await redisCall(adapter, 'FLUSHALL')))).rejects.toBeInstanceOf(LockReleaseError);
      expect(await hilok.withRead(r, () => 7)).toBe(7);
    });

    it('rejects bad input with InvalidArgumentError before any Redis call', async () => {
      const counted = countingAdapter(adapter);
      const h = new HiLok(counted, { ttl: 1_000 });
      const bad: [string, () => Promise<unknown>][] = [
        ['empty path', () => h.read('')],
        ['double separator', () => h.read('a//b')],
        ['leading separator', () => h.write('/a')],
        ['trailing separator', () => h.write('a/')],
        ['separator only', () => h.write('/')],
        ['non-string path', () => h.read(undefined as unknown as string)],
        ['too deep', () => h.read(Array.from({ length: 65 }, () => 'x').join('/'))],
        ['ttl NaN', () => h.read('a', { ttl: NaN })],
        ['ttl > 2^31', () => h.read('a', { ttl: 2 ** 31 + 1 })],
        ['timeout negative', () => h.write('a', { timeout: -1 })],
        ['empty id', () => h.acquireWrite('a', { id: '' })],
        ['id not a string', () => h.acquireWrite('a', { id: 5 as unknown as string })],
        ['release empty id', () => h.release('a', '')],
        ['release bad path', () => h.release('a//b', 'x')],
        ['status bad path', () => h.status('')],
        ['withRead no fn', () => h.withRead('a', null as unknown as () => void)],
        ['unknown option key (tiemout)', () => h.write('a', { tiemout: 5 } as never)],
        ['unknown option key (tttl)', () => h.acquireRead('a', { tttl: 100 } as never)],
      ];
      for (const [label, call] of bad) {
        const err = await call().then(
          () => new Error(`${label}: resolved`),
          (e: unknown) => e,
        );
        expect(err, label).toBeInstanceOf(InvalidArgumentError);
      }
      expect(() => new HiLok(counted, { separator: '' })).toThrow(InvalidArgumentError);
      expect(() => new HiLok(counted, { ttl: 1_000, refreshInterval: 1_000 })).toThrow(InvalidArgumentError);
      expect(() => new HiLok(counted, { refreshInterval: -5 })).toThrow(InvalidArgumentError);
      expect(() => new HiLok(counted, { intentTtl: 0 })).toThrow(InvalidArgumentError);
      expect(() => new HiLok(counted, { refresh: 100 } as never)).toThrow(/refresh: unknown option \(did you mean refreshInterval\?\)/);
      expect(counted.calls).toBe(0);
      await h.close();
    });

    /** The LockBusyError of `call`, which must reject with one. */
    const busyError = async (call: Promise<unknown>): Promise<LockBusyError> => {
      const err = await call.then(
        () => new Error('resolved'),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(LockBusyError);
      return err as LockBusyError;
    };

    it("retryAfter is never later than the blocker's lease end (the tree's earliest lease end)", async () => {
      const r = root();
      await using _blocker = await hilok.read(`${r}/a`, { ttl: 4_000 });
      const alone = await busyError(hilok.write(r, { block: false }));
      expect(alone.retryAfter).toBeGreaterThan(0);
      expect(alone.retryAfter).toBeLessThanOrEqual(4_000);
      // A shorter lease elsewhere in the tree (not in the way) makes it earlier, never later.
      await using _other = await hilok.read(`${r}/b`, { ttl: 1_000 });
      const withOther = await busyError(hilok.write(`${r}/a`, { block: false }));
      expect(withOther.retryAfter).toBeGreaterThan(0);
      expect(withOther.retryAfter).toBeLessThanOrEqual(1_000);
    });

    it('busy names the blocker: a read on a descendant blocks a write on the ancestor', async () => {
      const r = root();
      // A write released there before must not be reported: the node forgets its writer.
      await (await hilok.write(`${r}/b`)).release();
      await using _read = await hilok.read(`${r}/b`);
      const err = await busyError(hilok.write(r, { block: false }));
      expect(err.blocker).toEqual({ path: `${r}/b`, mode: 'read' });
      expect(err.message).toBe(`"${r}" is blocked by a read hold on "${r}/b"`);
      expect(err.resource).toBe(r);
      expect(err.reason).toBe('held');
    });

    it('busy names the blocker: a write on an ancestor blocks a read on a descendant (with its id)', async () => {
      const r = root();
      await using write = await hilok.write(r);
      const err = await busyError(hilok.read(`${r}/b/c`, { block: false }));
      expect(err.blocker).toEqual({ path: r, mode: 'write', id: write.id });
      expect(err.message).toContain(`"${r}/b/c" is blocked by a write hold on "${r}" (id "${write.id}")`);
    });

    it('busy names the blocker: a write below, the same path, and after a timeout', async () => {
      const r = root();
      await using below = await hilok.write(`${r}/x/y`, { id: 'writer-below' });
      expect((await busyError(hilok.read(r, { block: false }))).blocker).toEqual({ path: `${r}/x/y`, mode: 'write', id: 'writer-below' });
      expect((await busyError(hilok.write(`${r}/x/y`, { block: false }))).blocker).toEqual({ path: `${r}/x/y`, mode: 'write', id: 'writer-below' });
      await using _read = await hilok.read(`${r}/q`);
      const same = await busyError(hilok.write(`${r}/q`, { block: false }));
      expect(same.blocker).toEqual({ path: `${r}/q`, mode: 'read' });
      const timedOut = await busyError(hilok.write(r, { timeout: 150 }));
      expect(timedOut.reason).toBe('timeout');
      expect([`${r}/x/y`, `${r}/q`]).toContain(timedOut.blocker?.path);
      expect(timedOut.message).toMatch(new RegExp(`^timed out waiting for "${r}", still blocked by a (read|write) hold on "${r}/(x/y|q)"`));
      await below.release();
    });

    it('busy names the blocker: a reader queued behind a waiting writer is told so', async () => {
      const r = root();
      const reader = await hilok.read(r);
      const waitingWriter = hilok.write(r, { timeout: 5_000 });
      // The writer's first attempt leaves its intent.
      for (let i = 0; i < 50 && (await hilok.status(r)).waitingWriters.length === 0; i++) await delay(20);
      const err = await busyError(hilok.read(`${r}/b`, { block: false }));
      expect(err.blocker).toEqual({ path: r, mode: 'write', waiting: true });
      expect(err.message).toBe(`"${r}/b" is blocked by a writer waiting for "${r}"`);
      await reader.release();
      await (await waitingWriter).release();
    });

    it('busy names the blocker on a ReadWriteLock', async () => {
      const rw = new ReadWriteLock(adapter, { ttl: 5_000 });
      const name = `rw-${root()}`;
      {
        await using _read = await rw.read(name);
        const err = await busyError(rw.write(name, { block: false }));
        expect(err.blocker).toEqual({ path: name, mode: 'read' });
        expect(err.message).toBe(`"${name}" is blocked by a read hold on "${name}"`);
      }
      await using write = await rw.write(name);
      const err = await busyError(rw.read(name, { block: false }));
      expect(err.blocker).toEqual({ path: name, mode: 'write', id: write.id });
      await rw.close();
    });

    it('sends the acquires, extends and releases that many tasks make in one tick as one script call each; each tree is still checked and changed on its own', async () => {
      const counted = countingAdapter(adapter);
      const batching = new HiLok(counted, { ttl: 5_000 });
      const roots = Array.from({ length: 24 }, () => root());
      // One tree is busy (a write below our path), one has an unrelated read (not empty, still free for us).
      const busyRoot = roots[5] as string;
      const blocker = await hilok.write(`${busyRoot}/a/x`);
      const unrelated = await hilok.read(`${roots[7] as string}/other`);
      const results = await Promise.allSettled(roots.map((r) => batching.write(`${r}/a`, { block: false })));
      expect(counted.calls).toBe(1);
      // The busy tree gets its own busy reply, with its blocker; every other tree was granted.
      const failed = results[5];
      expect(failed?.status === 'rejected' && failed.reason).toBeInstanceOf(LockBusyError);
      expect(failed?.status === 'rejected' && (failed.reason as LockBusyError).blocker).toEqual({ path: `${busyRoot}/a/x`, mode: 'write', id: blocker.id });
      const holds = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
      expect(holds.length).toBe(roots.length - 1);
      expect(holds.every((h) => h.held)).toBe(true);
      // Each tree is exclusive on its own: a conflicting hold is refused on every one of them.
      for (const h of holds) await busy(hilok.read(h.path, { block: false }));
      // Extends and releases of the same tick: one script call each.
      let before = counted.calls;
      await Promise.all(holds.map((h) => h.extend()));
      expect(counted.calls).toBe(before + 1);
      before = counted.calls;
      expect(await Promise.all(holds.map((h) => h.release()))).toEqual(holds.map(() => true));
      expect(counted.calls).toBe(before + 1);
      // Two entries on one tree in one call run in order, each on the tree the one before left.
      const r = root();
      before = counted.calls;
      const [first, second] = await Promise.allSettled([batching.write(`${r}/a`, { block: false }), batching.write(r, { block: false })]);
      expect(counted.calls).toBe(before + 1);
      expect(first.status).toBe('fulfilled');
      expect(second.status === 'rejected' && (second.reason as LockBusyError).blocker).toMatchObject({ path: `${r}/a`, mode: 'write' });
      if (first.status === 'fulfilled') await first.value.release();
      await blocker.release();
      await unrelated.release();
      for (const t of [...roots, r]) expect((await redisCall(adapter, 'KEYS', `hilok:tree:{${t}}*`)) as unknown[]).toEqual([]);
      await batching.close();
    });

    it('leaves no key in Redis once every hold is released or expired', async () => {
      const r = root();
      const holds: Hold[] = await Promise.all([
        hilok.read(`${r}/a/b/c`),
        hilok.read(`${r}/a`),
        hilok.write(`${r}/x/y`),
      ]);
      await hilok.acquireRead(`${r}/z`, { ttl: 200 });
      for (const hold of holds) await hold.release();
      await delay(400);
      const keys = ((await redisCall(adapter, 'KEYS', `hilok:tree:{${r}}*`)) as unknown[]).map(String);
      expect(keys).toEqual([]);
    });

    describe('several paths as one hold (acquire / withLock)', () => {
      const noKeys = async (...roots: string[]) => {
        for (const t of roots) expect(((await redisCall(adapter, 'KEYS', `hilok:tree:{${t}}*`)) as unknown[]).map(String)).toEqual([]);
      };

      it('takes reads and writes in several trees as one lease: a fence per part, one release', async () => {
        const [r, s] = [root(), root()];
        const hold = await hilok.acquire([
          { path: `${r}/a`, mode: 'write' },
          { path: `${r}/b`, mode: 'read' },
          { path: `${s}/x`, mode: 'write' },
        ]);
        expect(hold.parts.map((p) => [p.path, p.mode])).toEqual([
          [`${r}/a`, 'write'],
          [`${r}/b`, 'read'],
          [`${s}/x`, 'write'],
        ]);
        for (const p of hold.parts) expect(p.fence).toBeGreaterThan(0);
        expect(hold.fence).toBe(Math.max(...hold.parts.map((p) => p.fence)));
        // The parts of one tree share their grant's fence.
        expect(hold.parts[0]?.fence).toBe(hold.parts[1]?.fence);
        // Each part is a hold of its own, "<id>#<path>", and status() names its owner by the token.
        const status = await hilok.status(r);
        expect(status.holds.map((h) => h.id).sort()).toEqual([`${hold.id}#${r}/a`, `${hold.id}#${r}/b`]);
        for (const h of status.holds) expect(h.ownerInfo).toEqual(parseOwner(hold.id));
        expect(parseOwner(hold.id)).not.toBeNull();
        await busy(hilok.read(`${r}/a/deep`, { block: false }));
        await busy(hilok.write(`${r}/b`, { block: false }));
        await busy(hilok.read(`${s}/x`, { block: false }));
        // The read part shares; unrelated paths are free.
        await (await hilok.read(`${r}/b`, { block: false })).release();
        await (await hilok.write(`${s}/y`, { block: false })).release();
        await hold.extend();
        expect(hold.held).toBe(true);
        await hold.release();
        expect(hold.held).toBe(false);
        await (await hilok.write(r, { block: false })).release();
        await (await hilok.write(s, { block: false })).release();
        await noKeys(r, s);
      });

      it('all or none: a busy part leaves no other part held, in its tree or in an earlier one', async () => {
        const [r, s] = [root(), root()].sort() as [string, string];
        const blocker = await hilok.read(`${s}/x`);
        await busy(hilok.acquire([{ path: `${r}/a`, mode: 'write' }, { path: `${s}/x`, mode: 'write' }], { block: false }));
        await busy(hilok.acquire([{ path: `${s}/y`, mode: 'write' }, { path: `${s}/x`, mode: 'write' }], { timeout: 150 }));
        // Nothing of the failed requests is left: every other part is free at once.
        await (await hilok.write(`${r}/a`, { block: false })).release();
        await (await hilok.write(`${s}/y`, { block: false })).release();
        expect((await hilok.status(s)).waitingWriters).toEqual([]);
        await blocker.release();
        await noKeys(r, s);
      });

      it('waits for the busy part and is woken by its release (pub/sub), within the timeout', async () => {
        const r = root();
        const blocker = await hilok.read(`${r}/b`, { ttl: 20_000 });
        const waiting = hilok.acquire([{ path: `${r}/a`, mode: 'write' }, { path: `${r}/b`, mode: 'write' }], { timeout: 15_000 });
        expect(await handOffMs(blocker, waiting)).toBeLessThan(5_000);
        const hold = await waiting;
        expect(hold.parts.map((p) => p.mode)).toEqual(['write', 'write']);
        await hold.release();
        await noKeys(r);
      });

      it('an abort or a timeout while waiting leaves no part and no intent behind', async () => {
        const [r, s] = [root(), root()].sort() as [string, string];
        const blocker = await hilok.write(`${s}/x`);
        const controller = new AbortController();
        const aborted = hilok.acquire([{ path: `${r}/a`, mode: 'write' }, { path: `${s}/x`, mode: 'read' }, { path: `${s}/y`, mode: 'write' }], { signal: controller.signal }).catch((e: unknown) => e);
        await delay(150);
        // The first tree is held while the second waits; the second's write part waits as a writer.
        await busy(hilok.read(`${r}/a`, { block: false }));
        expect((await hilok.status(s)).waitingWriters.map((w) => w.path)).toEqual([`${s}/y`]);
        controller.abort(new Error('gave up'));
        expect(await aborted).toMatchObject({ message: 'gave up' });
        await (await hilok.write(`${r}/a`, { block: false })).release();
        expect((await hilok.status(s)).waitingWriters).toEqual([]);
        await busy(hilok.acquire([{ path: `${r}/a`, mode: 'read' }, { path: `${s}/x`, mode: 'read' }], { timeout: 100 }));
        await (await hilok.write(`${r}/a`, { block: false })).release();
        await blocker.release();
        await noKeys(r, s);
      });

      it('merges duplicates (write wins) and covered descendants; rejects a write below a read of the same request', async () => {
        const r = root();
        const hold = await hilok.acquire([
          { path: `${r}/a`, mode: 'read' },
          { path: `${r}/a`, mode: 'write' },
          { path: `${r}/a/b`, mode: 'read' },
          { path: `${r}/c/d`, mode: 'read' },
          { path: `${r}/c`, mode: 'read' },
        ]);
        expect(hold.parts.map((p) => `${p.mode}:${p.path}`)).toEqual([`write:${r}/a`, `read:${r}/c`]);
        await hold.release();
        await expect(hilok.acquire([{ path: `${r}/c`, mode: 'read' }, { path: `${r}/c/d`, mode: 'write' }])).rejects.toBeInstanceOf(InvalidArgumentError);
        await noKeys(r);
      });

      it('rejects an empty list and bad entries with InvalidArgumentError before any Redis call', async () => {
        const counted = countingAdapter(adapter);
        const h = new HiLok(counted, { ttl: 1_000 });
        const bad: unknown[] = [
          [],
          'a',
          [{ path: 'a' }],
          [{ path: 'a', mode: 'exclusive' }],
          [{ path: 'a//b', mode: 'read' }],
          [{ path: '', mode: 'read' }],
          [{ path: 'a', mode: 'read', ttl: 5 }],
          [null],
          Array.from({ length: 65 }, (_, i) => ({ path: `p${i}`, mode: 'read' })),
        ];
        for (const parts of bad) await expect(h.acquire(parts as never)).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(h.acquire([{ path: 'a', mode: 'read' }], { bogus: 1 } as never)).rejects.toBeInstanceOf(InvalidArgumentError);
        await expect(h.withLock([{ path: 'a', mode: 'read' }], 'nope' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
        expect(counted.calls).toBe(0);
        await h.close();
      });

      it('two requests for overlapping sets listed in opposite orders never deadlock', async () => {
        const [r, s] = [root(), root()];
        const setA = [{ path: `${r}/a`, mode: 'write' as const }, { path: `${s}/b`, mode: 'write' as const }, { path: `${r}/c`, mode: 'read' as const }];
        const setB = [...setA].reverse();
        let inside = 0;
        let overlap = 0;
        const run = async (parts: typeof setA) => {
          for (let i = 0; i < 15; i++) {
            await hilok.withLock(parts, async () => {
              if (++inside > 1) overlap++;
              await delay(2);
              inside--;
            }, { timeout: 10_000 });
          }
        };
        await Promise.all([run(setA), run(setB), run(setA), run(setB)]);
        expect(overlap).toBe(0);
        await noKeys(r, s);
      });

      it('a lost part aborts the signal and frees the other parts', async () => {
        const [r, s] = [root(), root()];
        const hold = await hilok.acquire([{ path: `${r}/a`, mode: 'write' }, { path: `${s}/b`, mode: 'write' }], { ttl: 2_000 });
        // Someone removes one part's hold behind our back (as an operator's forced release would).
        expect(await hilok.release(`${s}/b`, `${hold.id}#${s}/b`)).toBe(true);
        await expect(hold.extend()).rejects.toBeInstanceOf(LockLostError);
        expect(hold.signal.aborted).toBe(true);
        await (await hilok.write(`${r}/a`, { block: false })).release();
        await noKeys(r, s);
      });

      it('a multi-path writer is not starved by a stream of single-path holders on its paths', async () => {
        const r = root();
        let stop = false;
        const stream = (path: string, mode: 'read' | 'write', offset: number) =>
          (async () => {
            await delay(offset);
            while (!stop) {
              const h = mode === 'read' ? await hilok.read(path, { timeout: 20_000 }) : await hilok.write(path, { timeout: 20_000 });
              await delay(15);
              await h.release();
            }
          })();
        const streams = [stream(`${r}/a`, 'read', 0), stream(`${r}/a`, 'read', 7), stream(`${r}/b`, 'write', 0), stream(`${r}/b`, 'write', 5), stream(`${r}/a`, 'write', 3)];
        await delay(100);
        const waits: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const hold = await hilok.acquire([{ path: `${r}/a`, mode: 'write' }, { path: `${r}/b`, mode: 'write' }], { timeout: 10_000 });
          waits.push(performance.now() - t0);
          await delay(5);
          await hold.release();
          await delay(20);
        }
        stop = true;
        await Promise.all(streams);
        // A bound that catches starvation (the stream never pauses by itself), not a speed.
        expect(Math.max(...waits)).toBeLessThan(3_000);
        await noKeys(r);
      });

      it('a multi-path request with a read part is not starved by a stream of writers on its paths', async () => {
        const r = root();
        let stop = false;
        const writer = (path: string, offset: number) =>
          (async () => {
            await delay(offset);
            while (!stop) {
              const h = await hilok.write(path, { timeout: 20_000 });
              await delay(10);
              await h.release();
            }
          })();
        // Writers on the read part's path and below it, and on the write part's path: think 0.
        const streams = [writer(`${r}/a`, 0), writer(`${r}/a/x`, 4), writer(`${r}/a`, 7), writer(`${r}/b`, 2), writer(`${r}/b`, 6)];
        await delay(100);
        const waits: number[] = [];
        try {
          for (let i = 0; i < 5; i++) {
            const t0 = performance.now();
            const hold = await hilok.acquire([{ path: `${r}/a`, mode: 'read' }, { path: `${r}/b`, mode: 'write' }], { timeout: 10_000 });
            waits.push(performance.now() - t0);
            await delay(5);
            await hold.release();
            await delay(20);
          }
        } finally {
          stop = true;
          await Promise.all(streams);
        }
        expect(Math.max(...waits)).toBeLessThan(3_000);
        await noKeys(r);
      });
    });

    describe('several names as one hold on a ReadWriteLock', () => {
      it('takes names in their own trees, all or none, and checks names as flat', async () => {
        const rw = new ReadWriteLock(adapter, { ttl: 5_000 });
        const [a, b] = [root(), root()];
        const hold = await rw.acquire([{ path: a, mode: 'write' }, { path: b, mode: 'read' }]);
        await busy(rw.read(a, { block: false }));
        await (await rw.read(b, { block: false })).release();
        await busy(rw.acquire([{ path: b, mode: 'write' }], { block: false }));
        await hold.release();
        await expect(rw.acquire([{ path: 'x\u0000y', mode: 'read' }])).rejects.toBeInstanceOf(InvalidArgumentError);
        // A "/" is part of a flat name: no overlap between "x" and "x/y".
        await (await rw.acquire([{ path: `${a}`, mode: 'write' }, { path: `${a}/y`, mode: 'write' }])).release();
        await rw.close();
      });
    });
  });
}
