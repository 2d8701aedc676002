import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidArgumentError,
  LockBusyError,
  LockLostError,
  LockReleaseError,
  ReadWriteLock,
  ReentrantMutex,
  SpinLock,
  DEFAULT_SPIN,
  FairLock,
  type Lease,
  type RedisAdapter,
} from '@hilok/core';
import { spinDelay } from '@hilok/core/internal';
import { startRedis, type RedisServer } from '@hilok/testing';
import { Connections, countingAdapter, delay, redisCall, type DriverCase } from './driver.js';
import { waitUntil } from './adapter-contract.js';
import { checkMutualExclusion } from './exclusion.js';

/** Delete every key matching `pattern` (standalone test servers only): makes a held lock "lost". */
async function wipe(adapter: RedisAdapter, pattern: string): Promise<void> {
  await adapter.eval("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0", [], [pattern]);
}

/** Number of keys matching `pattern` (standalone only). */
async function countKeys(adapter: RedisAdapter, pattern: string): Promise<number> {
  return ((await redisCall(adapter, 'KEYS', pattern)) as unknown[]).length;
}

/**
 * Reader/writer workload: tasks take read or write holds at random and record who is inside.
 * A writer overlapping anyone, or a lost increment of the write-protected counter, shows up here.
 */
async function checkReadWriteExclusion(options: {
  tasks: number;
  rounds: number;
  read: (task: number) => Promise<Lease>;
  write: (task: number) => Promise<Lease>;
}): Promise<{ overlaps: number; counter: number; writes: number; maxReaders: number }> {
  let readers = 0;
  let writers = 0;
  let overlaps = 0;
  let counter = 0;
  let writes = 0;
  let maxReaders = 0;
  await Promise.all(
    Array.from({ length: options.tasks }, async (_, task) => {
      for (let round = 0; round < options.rounds; round++) {
        if ((task + round) % 3 === 0) {
          const lease = await options.write(task);
          writers++;
          if (writers > 1 || readers > 0) overlaps++;
          const read = counter;
          await delay(2);
          counter = read + 1;
          writes++;
          writers--;
          await lease.release();
        } else {
          const lease = await options.read(task);
          readers++;
          maxReaders = Math.max(maxReaders, readers);
          if (writers > 0) overlaps++;
          await delay(3);
          readers--;
          await lease.release();
        }
      }
    }),
  );
  return { overlaps, counter, writes, maxReaders };
}

/**
 * The single-resource lock family — ReentrantMutex, ReadWriteLock, SpinLock backoff — through
 * one driver case against a real redis-server.
 */
export function describeFamilySuite<C>(driver: DriverCase<C>): void {
  describe(`family: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;
    let adapter: RedisAdapter;
    let n = 0;
    const fresh = (kind: string) => `${kind}-${++n}`;

    beforeAll(async () => {
      server = await startRedis();
      conns = new Connections(driver);
      adapter = await conns.open(server.url);
    });
    afterAll(async () => {
      await conns?.closeAll();
      await server?.stop();
    });

    describe('ReentrantMutex', () => {
      it('the same owner re-enters N times and must release N times; another owner waits', async () => {
        await using lock = new ReentrantMutex(adapter, { ttl: 5_000 });
        const name = fresh('re');
        const entries: Lease[] = [];
        for (let i = 0; i < 3; i++) entries.push(await lock.acquire(name, { owner: 'job-1', block: false }));
        expect(await lock.holdCount(name)).toEqual({ owner: 'job-1', count: 3 });
        await expect(lock.acquire(name, { owner: 'job-2', block: false })).rejects.toBeInstanceOf(LockBusyError);
        const other = lock.acquire(name, { owner: 'job-2', timeout: 10_000 });
        for (const [i, entry] of entries.entries()) {
          expect(await lock.holdCount(name)).toMatchObject({ count: 3 - i });
          await entry.release();
        }
        const next = await other;
        expect(await lock.holdCount(name)).toEqual({ owner: 'job-2', count: 1 });
        await next.release();
        expect(await lock.holdCount(name)).toEqual({ owner: undefined, count: 0 });
      });

      it('runAs binds the owner to an async context: it follows awaits and timers, not siblings', async () => {
        await using lock = new ReentrantMutex(adapter, { ttl: 5_000 });
        const name = fresh('re');
        await lock.runAs('request-7', async () => {
          const outer = await lock.acquire(name);
          await delay(5);
          // A callback started inside runAs still runs as request-7.
          const inner = await new Promise<Lease>((resolve, reject) => setTimeout(() => lock.acquire(name, { block: false }).then(resolve, reject), 1));
          expect(lock.currentOwner).toBe('request-7');
          expect(await lock.holdCount(name)).toEqual({ owner: 'request-7', count: 2 });
          await inner.release();
          await outer.release();
        });
        expect(lock.currentOwner).toBeUndefined();
        // Two contexts with different owners exclude each other.
        const a = await lock.runAs('a', () => lock.acquire(name));
        await expect(lock.runAs('b', () => lock.acquire(name, { block: false }))).rejects.toBeInstanceOf(LockBusyError);
        await a.release();
      });

      it('withLock gives its body an implicit owner, so nested withLock re-enters instead of deadlocking', async () => {
        await using lock = new ReentrantMutex(adapter, { ttl: 5_000 });
        const name = fresh('re');
        const counts: number[] = [];
        await lock.withLock(name, async () => {
          counts.push((await lock.holdCount(name)).count);
          await lock.withLock(name, async () => {
            counts.push((await lock.holdCount(name)).count);
            await lock.withLock(name, async () => counts.push((await lock.holdCount(name)).count), { blockingTimeout: 0 });
          });
          counts.push((await lock.holdCount(name)).count);
          // A concurrent scope outside this one is another owner: it cannot get in.
        });
        expect(counts).toEqual([1, 2, 3, 1]);
        expect(await lock.isLocked(name)).toBe(false);
        // Two independent withLock scopes are two owners: mutual exclusion.
        const result = await checkMutualExclusion({
          tasks: 6,
          rounds: 4,
          acquire: () => lock.acquire(name, { ttl: 5_000 }), // outside any scope: a fresh owner each time
        });
        expect(result).toEqual({ maxConcurrent: 1, counter: 24 });
      });

      it('mutual exclusion and no lost updates between owners on several connections', async () => {
        const managers = [new ReentrantMutex(adapter), new ReentrantMutex(await conns.open(server.url))];
        const name = fresh('re');
        let inside = 0;
        let max = 0;
        let counter = 0;
        await Promise.all(
          Array.from({ length: 8 }, (_, task) =>
            managers[task % 2]!.withLock(name, async () => {
              for (let r = 0; r < 3; r++) {
                // Re-enter inside the scope: still exclusive against the other owners.
                await managers[task % 2]!.withLock(name, async () => {
                  inside++;
                  max = Math.max(max, inside);
                  const read = counter;
                  await delay(1);
                  counter = read + 1;
                  inside--;
                });
              }
            }, { timeout: 20_000 }),
          ),
        );
        expect({ max, counter }).toEqual({ max: 1, counter: 24 });
        await Promise.all(managers.map((m) => m.close()));
      });

      it('withLock exception safety: the body error wins; a failed clean release throws LockReleaseError', async () => {
        const reported: unknown[] = [];
        await using lock = new ReentrantMutex(adapter, { onReleaseError: (e) => reported.push(e) });
        const name = fresh('re');
        const boom = new Error('business logic error');
        const err = await lock
          .withLock(name, async () => {
            await wipe(adapter, `hilok:mutex:{${name}}`);
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(reported[0]).toBeInstanceOf(LockReleaseError);
        await expect(lock.withLock(name, () => wipe(adapter, `hilok:mutex:{${name}}`))).rejects.toBeInstanceOf(LockReleaseError);
      });

      it('watchdog keeps an entry past its ttl, stops after release; a lost lock aborts the signal', async () => {
        await using lock = new ReentrantMutex(adapter);
        const name = fresh('re');
        const lease = await lock.acquire(name, { owner: 'w', ttl: 300, autoRenew: 100 });
        await delay(900);
        expect(lease.signal.aborted).toBe(false);
        expect(await lock.holdCount(name)).toEqual({ owner: 'w', count: 1 });
        await lease.release();
        await delay(300);
        expect(await lock.isLocked(name)).toBe(false);

        const held = await lock.acquire(name, { owner: 'w', ttl: 400, autoRenew: 100 });
        await wipe(adapter, `hilok:mutex:{${name}}`);
        await lock.acquire(name, { owner: 'thief', block: false });
        await waitUntil(() => held.signal.aborted, 3_000);
        expect(held.signal.reason).toBeInstanceOf(LockLostError);
      });
    });

    describe('ReadWriteLock', () => {
      it('readers share, a writer is alone; blockingTimeout on read, autoRenew on write (redis-kit)', async () => {
        await using rw = new ReadWriteLock(adapter, { ttl: 5_000 });
        const name = fresh('rw');
        const r1 = await rw.read(name);
        const r2 = await rw.read(name, { blockingTimeout: 100 });
        await expect(rw.write(name, { block: false })).rejects.toBeInstanceOf(LockBusyError);
        await Promise.all([r1.release(), r2.release()]);
        const w = await rw.write(name, { autoRenew: true, ttl: 300 });
        await expect(rw.read(name, { blockingTimeout: 150 })).rejects.toMatchObject({ code: 'LOCK_BUSY', reason: 'timeout' });
        await delay(700); // the watchdog keeps the write past its 300 ms ttl
        expect(w.signal.aborted).toBe(false);
        expect((await rw.status(name)).holds).toMatchObject([{ mode: 'write', id: w.id }]);
        await w.release();
        expect((await rw.status(name)).holds).toEqual([]);
        // Names are flat: separators of HiLok mean nothing here.
        await (await rw.write('users/42', { block: false })).release();
        await (await rw.write('a:b:c', { block: false })).release();
      });

      it('reader and writer holds never overlap; writes lose no update (two connections)', async () => {
        const a = new ReadWriteLock(adapter);
        const b = new ReadWriteLock(await conns.open(server.url));
        const name = fresh('rw');
        const result = await checkReadWriteExclusion({
          tasks: 9,
          rounds: 6,
          read: (t) => (t % 2 ? a : b).read(name, { timeout: 20_000 }),
          write: (t) => (t % 2 ? a : b).write(name, { timeout: 20_000 }),
        });
        expect(result.overlaps).toBe(0);
        expect(result.counter).toBe(result.writes);
        expect(result.maxReaders).toBeGreaterThan(1); // readers really did share
        await Promise.all([a.close(), b.close()]);
      });

      it('no writer starvation: a writer gets in while readers keep arriving', async () => {
        await using rw = new ReadWriteLock(adapter);
        const name = fresh('rw');
        let stop = false;
        let readersInside = 0;
        let readsAfterWriterQueued = 0;
        let writerQueued = false;
        let overlap = false;
        // Four overlapping reader loops: without writer preference there is never a moment with no reader.
        const readers = Array.from({ length: 4 }, async (_, i) => {
          await delay(i * 10);
          while (!stop) {
            const hold = await rw.read(name, { timeout: 20_000 });
            readersInside++;
            if (writerQueued) readsAfterWriterQueued++;
            await delay(40);
            readersInside--;
            await hold.release();
          }
        });
        await delay(150);
        // "Queued" = the writer's first attempt came back busy, i.e. its intent is in Redis (the
        // same script registered it); reads granted later were either already in flight then
        // (at most one per reader) or are a starvation bug.
        const onWait = (event: unknown): void => {
          const e = event as { resource?: string; detail?: { mode?: string } };
          if (e.resource === name && e.detail?.mode === 'write') writerQueued = true;
        };
        subscribe('hilok:wait', onWait);
        // An anchor read guarantees the writer has to wait (the reader loops may leave a gap).
        const anchor = await rw.read(name);
        const writing = rw.write(name, { timeout: 15_000 }).finally(() => unsubscribe('hilok:wait', onWait));
        await delay(100);
        await anchor.release();
        const write = await writing;
        const sawQueue = writerQueued;
        writerQueued = false; // count only the reads granted while the writer was waiting
        overlap = readersInside > 0;
        await delay(20);
        overlap ||= readersInside > 0;
        await write.release();
        stop = true;
        await Promise.all(readers);
        expect(overlap).toBe(false);
        expect(sawQueue).toBe(true);
        expect(readsAfterWriterQueued).toBeLessThanOrEqual(4); // at most the reads already in flight when it queued
      });

      it('scoped forms are exception-safe; a lost hold aborts the signal', async () => {
        const reported: unknown[] = [];
        await using rw = new ReadWriteLock(adapter, { onReleaseError: (e) => reported.push(e) });
        const name = fresh('rw');
        const boom = new Error('write operation error');
        const err = await rw
          .withWrite(name, async () => {
            await wipe(adapter, `hilok:rw:{${name}}*`);
            throw boom;
          })
          .catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(reported[0]).toBeInstanceOf(LockReleaseError);
        await expect(rw.withRead(name, () => wipe(adapter, `hilok:rw:{${name}}*`))).rejects.toBeInstanceOf(LockReleaseError);
        expect(await rw.withRead(name, async (signal) => (signal.aborted ? 'lost' : 'ok'), { blockingTimeout: 1_000 })).toBe('ok');

        const hold = await rw.write(name, { ttl: 400, autoRenew: 100 });
        await wipe(adapter, `hilok:rw:{${name}}*`);
        await waitUntil(() => hold.signal.aborted, 3_000);
        expect(hold.signal.reason).toBeInstanceOf(LockLostError);
      });

      it('is a different lock from a HiLok path of the same name, and leaves no key behind', async () => {
        const { HiLok } = await import('@hilok/core');
        await using rw = new ReadWriteLock(adapter, { prefix: 'rwtest:' });
        await using tree = new HiLok(adapter, { prefix: 'rwtest:' });
        const w = await rw.write('shared', { block: false });
        const t = await tree.write('shared', { block: false });
        await Promise.all([w.release(), t.release()]);
        expect(await countKeys(adapter, 'rwtest:*')).toBe(0);
      });
    });

    describe('SpinLock', () => {
      it('backoff is exponential with equal jitter and capped', () => {
        const spin = { initialDelay: 10, maxDelay: 100, factor: 2 };
        for (let round = 0; round < 10; round++) {
          const ceiling = Math.min(100, 10 * 2 ** round);
          for (let i = 0; i < 20; i++) {
            const d = spinDelay(spin, round);
            expect(d).toBeGreaterThanOrEqual(ceiling / 2);
            expect(d).toBeLessThanOrEqual(ceiling);
          }
        }
        expect(DEFAULT_SPIN).toEqual({ initialDelay: 5, maxDelay: 200, factor: 2 });
      });

      it('polls with growing delays and gives up at the overall timeout', async () => {
        const counted = countingAdapter(adapter);
        await using spin = new SpinLock(counted, { spin: { initialDelay: 5, maxDelay: 80, factor: 2 } });
        const name = fresh('spin');
        const held = await spin.acquire(name);
        counted.calls = 0;
        const err = await spin.acquire(name, { timeout: 600 }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'LOCK_BUSY', reason: 'timeout' });
        // Fixed 5 ms polling would make ~120 calls in 600 ms; backoff capped at 80 ms makes far fewer.
        expect(counted.calls).toBeGreaterThan(3);
        expect(counted.calls).toBeLessThan(40);
        await held.release();
        // Mutual exclusion and no lost updates by polling alone.
        const result = await checkMutualExclusion({ tasks: 5, rounds: 4, acquire: () => spin.acquire(name, { timeout: 20_000 }) });
        expect(result).toEqual({ maxConcurrent: 1, counter: 20 });
      });

      it('withLock exception safety holds for the spin lock too', async () => {
        const reported: unknown[] = [];
        await using spin = new SpinLock(adapter, { onReleaseError: (e) => reported.push(e) });
        const name = fresh('spin');
        const boom = new Error('boom');
        const err = await spin.withLock(name, async () => {
          await wipe(adapter, `hilok:mutex:{${name}}`);
          throw boom;
        }).catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(reported[0]).toBeInstanceOf(LockReleaseError);
      });
    });

    describe('FairLock', () => {
      /** Start an acquire and wait until it is queued, so arrival order is the order of these calls. */
      async function enqueue(fair: FairLock, name: string, options = {}): Promise<{ pending: Promise<Lease> }> {
        const before = (await fair.inspect(name)).queue.length;
        const pending = fair.acquire(name, { timeout: 20_000, ...options });
        pending.catch(() => undefined);
        for (const end = Date.now() + 5_000; (await fair.inspect(name)).queue.length <= before; await delay(5)) {
          if (Date.now() > end) throw new Error('the acquire never queued');
        }
        return { pending }; // wrapped: an async function would otherwise wait for the acquire itself
      }

      it('grants in FIFO order across connections; newcomers cannot barge in', async () => {
        const managers = [new FairLock(adapter), new FairLock(await conns.open(server.url)), new FairLock(await conns.open(server.url))];
        const name = fresh('fair');
        const holder = await managers[0]!.acquire(name);
        const order: number[] = [];
        const waits: Promise<void>[] = [];
        for (let i = 0; i < 6; i++) {
          const { pending } = await enqueue(managers[i % 3]!, name);
          waits.push(pending.then(async (lease) => {
            order.push(i);
            await delay(5);
            await lease.release();
          }));
        }
        // The lock is free for a moment after the release, but a non-queued newcomer must not take it.
        await holder.release();
        expect(await managers[1]!.tryAcquire(name)).toBeNull();
        await Promise.all(waits);
        expect(order).toEqual([0, 1, 2, 3, 4, 5]);
        expect(await managers[0]!.inspect(name)).toEqual({ owner: undefined, fence: 0, ttl: 0, queue: [] });
        await Promise.all(managers.slice(1).map((m) => m.close()));
      });

      it('wakes only the next waiter: the others make no Redis call at a release', async () => {
        // A long queueTtl means the waiters' own heartbeat timers stay quiet during the test.
        const name = fresh('fair');
        const holderSide = new FairLock(adapter, { queueTtl: 60_000 });
        // One connection per waiter, as four processes would have: they all listen on the lock's one
        // channel, and the release's message names the head, so only the head's process stirs.
        const counted = await Promise.all(Array.from({ length: 4 }, async () => countingAdapter(await conns.open(server.url))));
        const waiters = counted.map((c) => new FairLock(c, { queueTtl: 60_000 }));
        const holder = await holderSide.acquire(name);
        const pending: Promise<Lease>[] = [];
        for (const w of waiters) pending.push((await enqueue(w, name)).pending);
        await delay(100);
        const before = counted.map((c) => c.calls);
        await holder.release();
        const first = await pending[0]!;
        await delay(300);
        const after = counted.map((c) => c.calls);
        expect(after[0]).toBeGreaterThan(before[0]!); // the head woke and took it
        expect(after.slice(1)).toEqual(before.slice(1)); // nobody else stirred
        await first.release();
        for (const p of pending.slice(1)) await (await p).release();
        await Promise.all([holderSide.close(), ...waiters.map((w) => w.close())]);
      });

      it('skips a waiter that died after the queue ttl, and a waiter that gave up at once', async () => {
        await using fair = new FairLock(adapter, { queueTtl: 1_000 });
        const name = fresh('fair');
        const holder = await fair.acquire(name);
        // A waiter that gives up (timeout) leaves the queue immediately.
        await expect(fair.acquire(name, { timeout: 100 })).rejects.toMatchObject({ reason: 'timeout' });
        expect((await fair.inspect(name)).queue).toEqual([]);
        // A "dead" waiter: queued at the head with a heartbeat deadline nobody will renew.
        await adapter.eval(
          "local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) redis.call('ZADD', KEYS[1], 1, 'ghost') redis.call('ZADD', KEYS[2], string.format('%.0f', now + 1000), 'ghost') return 1",
          [`hilok:fair:{${name}}:q`, `hilok:fair:{${name}}:hb`],
          [],
        );
        const { pending: live } = await enqueue(fair, name);
        expect((await fair.inspect(name)).queue[0]).toBe('ghost');
        await holder.release();
        const lease = await live; // got it after the ghost was skipped
        expect((await fair.inspect(name)).queue).toEqual([]);
        await lease.release();
      });

      it("sends the acquires and releases of many fair locks made in one tick as one script call each (3 keys per lock)", async () => {
        const counted = countingAdapter(adapter);
        const batching = new FairLock(counted, { ttl: 5_000 });
        const names = Array.from({ length: 24 }, () => fresh('fair'));
        const leases = await Promise.all(names.map((name) => batching.acquire(name, { block: false })));
        expect(counted.calls).toBe(1);
        expect(leases.every((l) => l.held && l.fence > 0)).toBe(true);
        // Atomic per lock, not all-or-nothing: each lock was checked and taken on its own.
        await using fair = new FairLock(adapter);
        expect(await fair.tryAcquire(names[7] as string)).toBeNull();
        expect((await fair.inspect(names[7] as string)).owner).toBe(leases[7]?.token);
        const before = counted.calls;
        expect(await Promise.all(leases.map((l) => l.release()))).toEqual(names.map(() => true));
        expect(counted.calls).toBe(before + 1);
        for (const name of names) expect(await countKeys(adapter, `hilok:fair:{${name}}*`)).toBe(0);
        await batching.close();
      });

      it('in one batch, a busy lock queues its waiter while the free ones are granted; the release wakes it', async () => {
        const other = new FairLock(await conns.open(server.url));
        const busy = fresh('fair');
        const free = Array.from({ length: 5 }, () => fresh('fair'));
        await using fair = new FairLock(adapter);
        const holder = await other.acquire(busy);
        // Same tick: the busy lock's first attempt travels in the batch with the free ones.
        const waiting = fair.acquire(busy, { timeout: 20_000 });
        const granted = await Promise.all(free.map((name) => fair.acquire(name, { block: false })));
        expect(granted.every((l) => l.held)).toBe(true);
        for (const end = Date.now() + 5_000; (await fair.inspect(busy)).queue.length !== 1; await delay(5)) {
          if (Date.now() > end) throw new Error('the waiter never queued');
        }
        await holder.release();
        const lease = await waiting;
        expect(lease.held).toBe(true);
        expect((await fair.inspect(busy)).queue).toEqual([]);
        await Promise.all([lease.release(), ...granted.map((l) => l.release())]);
        for (const name of [busy, ...free]) expect(await countKeys(adapter, `hilok:fair:{${name}}*`)).toBe(0);
        await other.close();
      });

      it('mutual exclusion and no lost updates; watchdog; lost lock aborts the signal; exception safety', async () => {
        const reported: unknown[] = [];
        const a = new FairLock(adapter, { onReleaseError: (e) => reported.push(e) });
        const b = new FairLock(await conns.open(server.url));
        const name = fresh('fair');
        // Open b's pub/sub connection with one subscription first: ioredis fails concurrent first
        // SUBSCRIBEs on a not-yet-ready duplicate ("Connection in subscriber mode", see the report).
        const warm = await b.acquire('warm-' + name);
        const warming = b.acquire('warm-' + name, { timeout: 5_000 });
        await delay(100);
        await warm.release();
        await (await warming).release();
        const result = await checkMutualExclusion({ tasks: 8, rounds: 4, acquire: (t) => (t % 2 ? a : b).acquire(name, { timeout: 20_000 }) });
        expect(result).toEqual({ maxConcurrent: 1, counter: 32 });

        const renewed = await a.acquire(name, { ttl: 300, autoRenew: 100 });
        await delay(800);
        expect(renewed.signal.aborted).toBe(false);
        expect((await a.inspect(name)).owner).toBe(renewed.token);
        await renewed.release();
        await delay(300);
        expect(await a.isLocked(name)).toBe(false);

        const lost = await a.acquire(name, { ttl: 400, autoRenew: 100 });
        await wipe(adapter, `hilok:fair:{${name}}`);
        await waitUntil(() => lost.signal.aborted, 3_000);
        expect(lost.signal.reason).toBeInstanceOf(LockLostError);

        const boom = new Error('boom');
        const err = await a.withLock(name, async () => {
          await wipe(adapter, `hilok:fair:{${name}}`);
          throw boom;
        }).catch((e: unknown) => e);
        expect(err).toBe(boom);
        expect(reported[0]).toBeInstanceOf(LockReleaseError);
        await expect(a.withLock(name, () => wipe(adapter, `hilok:fair:{${name}}`))).rejects.toBeInstanceOf(LockReleaseError);
        expect(await a.withLock(name, async () => 42, { blockingTimeout: 1_000 })).toBe(42);
        await Promise.all([a.close(), b.close()]);
      });
    });

    it('every bad input gets InvalidArgumentError before any Redis call', async () => {
      const counted = countingAdapter(adapter);
      const re = new ReentrantMutex(counted);
      const rw = new ReadWriteLock(counted);
      const fair = new FairLock(counted);
      const bad: [string, () => unknown][] = [
        ['reentrant owner empty', () => re.acquire('x', { owner: '' })],
        ['reentrant owner number', () => re.acquire('x', { owner: 7 as unknown as string })],
        ['reentrant id', () => re.acquire('x', { id: 'a' } as never)],
        ['reentrant reentrant:false', () => re.acquire('x', { reentrant: false } as never)],
        ['reentrant runAs owner', () => re.runAs('', () => 1)],
        ['reentrant runAs fn', () => re.runAs('a', 5 as never)],
        ['reentrant withLock fn', () => re.withLock('x', null as never)],
        ['reentrant name', () => re.acquire('')],
        ['blockingTimeout negative', () => re.acquire('x', { blockingTimeout: -1 })],
        ['blockingTimeout vs timeout', () => re.acquire('x', { blockingTimeout: 5, timeout: 6 })],
        ['blockingTimeout type', () => rw.read('x', { blockingTimeout: '5' as never })],
        ['rw name NUL', () => rw.read('a\u0000b')],
        ['rw name empty', () => rw.write('')],
        ['rw ttl', () => rw.write('x', { ttl: 0 })],
        ['rw autoRenew >= ttl', () => rw.write('x', { ttl: 100, autoRenew: 200 })],
        ['rw withRead fn', () => rw.withRead('x', 'no' as never)],
        ['rw release id', () => rw.release('x', '')],
        ['rw options', () => rw.read('x', 5 as never)],
        ['fair name', () => fair.acquire(42 as never)],
        ['fair timeout', () => fair.acquire('x', { timeout: NaN })],
        ['fair blockingTimeout vs timeout', () => fair.acquire('x', { timeout: 1, blockingTimeout: 2 })],
        ['fair signal', () => fair.acquire('x', { signal: {} as never })],
        ['fair withLock fn', () => fair.withLock('x', undefined as never)],
        ['fair inspect name', () => fair.inspect('')],
      ];
      for (const [label, call] of bad) {
        const err = await Promise.resolve().then(call).catch((e: unknown) => e);
        expect(err, label).toBeInstanceOf(InvalidArgumentError);
      }
      expect(() => new ReadWriteLock(counted, { separator: '/' } as never)).toThrow(InvalidArgumentError);
      expect(() => new FairLock(counted, { queueTtl: 0 })).toThrow(InvalidArgumentError);
      expect(() => new FairLock(counted, { queueTtl: 1.5 })).toThrow(InvalidArgumentError);
      expect(counted.calls).toBe(0);
      await Promise.all([re.close(), rw.close(), fair.close()]);
    });
  });
}
