import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClosedError,
  InvalidArgumentError,
  LockBusyError,
  LockLostError,
  LockReleaseError,
  Mutex,
  RedisUnavailableError,
  SpinLock,
  type Lease,
  type RedisAdapter,
} from '@hilok/core';
import { ScriptRunner, mutexKeys, scripts } from '@hilok/core/internal';
import { sendCommandTo, startRedis, type RedisServer } from '@hilok/testing';
import { Connections, countingAdapter, delay, handOffMs, keyCall, redisCall, type DriverCase } from './driver.js';
import { waitUntil } from './adapter-contract.js';
import { checkMutualExclusion } from './exclusion.js';

/** The mutex and spin lock, through one driver case, against a real standalone redis-server. */
export function describeMutexSuite<C>(driver: DriverCase<C>): void {
  describe(`mutex: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;
    let adapter: RedisAdapter;
    let mutex: Mutex;
    let n = 0;
    const fresh = () => `res-${++n}`;

    beforeAll(async () => {
      server = await startRedis();
      conns = new Connections(driver);
      adapter = await conns.open(server.url);
      mutex = new Mutex(adapter, { ttl: 5_000 });
    });
    afterAll(async () => {
      await mutex?.close();
      await conns?.closeAll();
      await server?.stop();
    });

    it('acquires, reports the holder, and releases', async () => {
      const name = fresh();
      const lease = await mutex.acquire(name);
      expect(lease.held).toBe(true);
      const info = await mutex.inspect(name);
      expect(info).toMatchObject({ owner: lease.token, fence: lease.fence, count: 1 });
      expect(info!.ttl).toBeGreaterThan(4_000);
      expect(await mutex.isLocked(name)).toBe(true);
      expect(await lease.release()).toBe(true);
      expect(lease.held).toBe(false);
      expect(await mutex.isLocked(name)).toBe(false);
    });

    it('an uncontended acquire and release publish nothing and touch no queue; a release grants a waiter of its process directly, and wakes one elsewhere with one message', async () => {
      await (await mutex.acquire(fresh())).release(); // scripts loaded
      await server.command('CONFIG', 'RESETSTAT');
      for (let i = 0; i < 5; i++) await (await mutex.acquire(fresh())).release();
      const stats = String(await server.command('INFO', 'commandstats'));
      expect(stats).not.toMatch(/^cmdstat_(publish|zadd|zrem|zrange|zremrangebyscore):/m);
      const name = fresh();
      const held = await mutex.acquire(name);
      const waiter = mutex.acquire(name, { timeout: 5_000 });
      await delay(100); // queued
      await server.command('CONFIG', 'RESETSTAT');
      await held.release();
      const granted = await waiter;
      // The waiter (same process, starved) was granted the lock by the release itself: no
      // message, and no acquire of its own — 2 scripts in all (the release, then its release).
      const direct = String(await server.command('INFO', 'commandstats'));
      expect(direct).not.toMatch(/^cmdstat_publish:/m);
      expect(Number(/^cmdstat_evalsha:calls=(\d+)/m.exec(direct)?.[1] ?? 0) + Number(/^cmdstat_eval:calls=(\d+)/m.exec(direct)?.[1] ?? 0)).toBe(1);
      expect(granted.fence).toBeGreaterThan(held.fence);
      await granted.release();
      // A waiter in another process (another manager whose hold this process does not know: here
      // a second manager on its own connection still counts as this process — so queue one by
      // hand, as another process would): woken with exactly one addressed message.
      const other = fresh();
      const [key, queue] = mutexKeys('hilok:', other);
      const holder = await mutex.acquire(other);
      await adapter.eval(scripts.mutexAcquire.source, [key, queue], ['elsewhere', 30_000, 'w']);
      await delay(20); // starved
      await server.command('CONFIG', 'RESETSTAT');
      await holder.release();
      expect(String(await server.command('INFO', 'commandstats'))).toMatch(/^cmdstat_publish:calls=1,/m);
      expect(String(await keyCall(adapter, 'GET', key))).toMatch(/^\d+:0:1:elsewhere$/); // reserved for it
      await adapter.eval(scripts.mutexWithdraw.source, [key, queue], ['elsewhere']);
    });

    it("a withdraw gives back a grant its waiter never took (a release of the waiter's process granted it while it gave up)", async () => {
      const name = fresh();
      const [key, queue] = mutexKeys('hilok:', name);
      await adapter.eval(scripts.mutexAcquire.source, [key, queue], ['h', 30_000, '']);
      await adapter.eval(scripts.mutexAcquire.source, [key, queue], ['w1', 30_000, 'w']);
      await adapter.eval(scripts.mutexAcquire.source, [key, queue], ['w2', 30_000, 'w']);
      await delay(20); // both have starved
      // The release names w1 (ttl 20 s) as a waiter of its process: the head is granted directly.
      const reply = (await adapter.eval(scripts.mutexRelease.source, [key, queue], ['h', '', '\0w1\u000120000'])) as unknown[];
      expect(String(reply[0])).toMatch(/^gr:\d+:w1$/);
      expect(String(await keyCall(adapter, 'GET', key))).toMatch(/^\d+:1:1:w1$/); // held by w1, marked: w2 waits
      expect(Number(await keyCall(adapter, 'PTTL', key))).toBeGreaterThan(19_000);
      expect(Number(await keyCall(adapter, 'PTTL', key))).toBeLessThanOrEqual(20_000); // w1's own ttl
      // w1 gave up meanwhile: its withdraw hands the grant on, to w2 (starved: reserved for it).
      expect(await adapter.eval(scripts.mutexWithdraw.source, [key, queue], ['w1'])).toBe(0);
      expect(String(await keyCall(adapter, 'GET', key))).toMatch(/^\d+:0:1:w2$/);
      expect(await adapter.eval(scripts.mutexWithdraw.source, [key, queue], ['w2'])).toBe(1);
      expect(await keyCall(adapter, 'EXISTS', key)).toBe(0);
      expect(await keyCall(adapter, 'EXISTS', queue)).toBe(0);
    });

    it('gives every later hold a larger fencing token', async () => {
      const name = fresh();
      let last = 0;
      for (let i = 0; i < 20; i++) {
        const lease = await mutex.acquire(name);
        expect(Number.isSafeInteger(lease.fence)).toBe(true);
        expect(lease.fence).toBeGreaterThan(last);
        last = lease.fence;
        await lease.release();
      }
    });

    it('fails fast with LockBusyError when block is false, and tryAcquire returns null', async () => {
      const name = fresh();
      const held = await mutex.acquire(name, { ttl: 3_000 });
      const err = await mutex.acquire(name, { block: false }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LockBusyError);
      expect(err).toMatchObject({ code: 'LOCK_BUSY', reason: 'held', resource: name });
      expect((err as LockBusyError).retryAfter).toBeGreaterThan(0);
      expect(await mutex.tryAcquire(name)).toBeNull();
      await held.release();
      const next = await mutex.tryAcquire(name);
      expect(next).not.toBeNull();
      await next!.release();
    });

    it('times out with LockBusyError reason "timeout"', async () => {
      const name = fresh();
      const held = await mutex.acquire(name);
      await expect(mutex.acquire(name, { timeout: 150 })).rejects.toMatchObject({ code: 'LOCK_BUSY', reason: 'timeout' });
      await held.release();
    });

    it('keeps mutual exclusion and loses no update across connections', async () => {
      const name = fresh();
      const managers = [mutex, new Mutex(await conns.open(server.url)), new Mutex(await conns.open(server.url))];
      const result = await checkMutualExclusion({
        tasks: 12,
        rounds: 8,
        acquire: (task) => managers[task % managers.length]!.acquire(name, { ttl: 5_000 }),
      });
      expect(result.maxConcurrent).toBe(1);
      expect(result.counter).toBe(12 * 8);
      await Promise.all(managers.slice(1).map((m) => m.close()));
    });

    it('frees the lock at its ttl and aborts the expired lease signal', async () => {
      const name = fresh();
      const lost: LockLostError[] = [];
      const lease = await mutex.acquire(name, { ttl: 200, onLost: (e) => lost.push(e) });
      const next = await mutex.acquire(name, { timeout: 5_000 });
      expect(next.fence).toBeGreaterThan(lease.fence);
      expect(lease.signal.aborted).toBe(true);
      expect(lease.signal.reason).toBeInstanceOf(LockLostError);
      expect(lost).toHaveLength(1);
      await next.release();
    });

    it("never touches the new owner's lock when releasing or extending a lost lease", async () => {
      const name = fresh();
      const old = await mutex.acquire(name, { ttl: 150 });
      await delay(250);
      const current = await mutex.acquire(name, { block: false });
      await expect(old.extend()).rejects.toBeInstanceOf(LockLostError);
      expect(await old.release()).toBe(false);
      expect((await mutex.inspect(name))?.owner).toBe(current.token);

      const other = await mutex.acquire(fresh(), { ttl: 150 });
      await delay(250);
      await expect(other.release({ strict: true })).rejects.toBeInstanceOf(LockReleaseError);
      await current.release();
    });

    it('wakes a waiter by pub/sub on release, long before the holder ttl', async () => {
      const name = fresh();
      const holder = await mutex.acquire(name, { ttl: 20_000 });
      // The fallback would only fire after ~20 s; anything near that means pub/sub did not work.
      expect(await handOffMs(holder, mutex.acquire(name, { timeout: 15_000 }))).toBeLessThan(5_000);
    });

    it('still acquires at the holder ttl when the wake-up message is lost', async () => {
      const name = fresh();
      const other = new Mutex(await conns.open(server.url));
      const holder = await other.acquire(name, { ttl: 1_500 });
      const waiting = mutex.acquire(name, { timeout: 10_000 });
      await delay(100);
      // Drop every subscriber connection; the holder then vanishes without any release message.
      await server.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await keyCall(adapter, 'DEL', 'hilok:mutex:{' + name + '}');
      const lease = await waiting;
      expect(lease.held).toBe(true);
      await lease.release();
      expect(await holder.release()).toBe(false);
      await other.close();
    });

    it('cancels a waiting acquire through its AbortSignal and leaves no subscription behind', async () => {
      const name = fresh();
      const holder = await mutex.acquire(name);
      const controller = new AbortController();
      const waiting = mutex.acquire(name, { signal: controller.signal });
      await delay(50);
      controller.abort(new Error('user gave up'));
      await expect(waiting).rejects.toThrow('user gave up');
      await holder.release();
      await expect(mutex.acquire(name, { signal: AbortSignal.abort(new Error('pre-aborted')) })).rejects.toThrow('pre-aborted');
    });

    it('renews a lease with the watchdog past its ttl and stops after release', async () => {
      const name = fresh();
      // ttl 1 s, renewed every 250 ms, held 2.2 s: past two ttls, with room for a loaded CI event
      // loop (a renewal whose reply comes after the validity ended loses the lease, by design).
      const lease = await mutex.acquire(name, { ttl: 1_000, autoRenew: 250 });
      await delay(2_200);
      expect(lease.signal.aborted).toBe(false);
      expect((await mutex.inspect(name))?.owner).toBe(lease.token);
      await lease.release();
      await delay(300);
      expect(await mutex.isLocked(name)).toBe(false);
    });

    it('aborts the signal when the watchdog finds the lock taken', async () => {
      const name = fresh();
      const lost: unknown[] = [];
      const lease = await mutex.acquire(name, { ttl: 400, autoRenew: 100, onLost: (e) => lost.push(e) });
      await keyCall(adapter, 'DEL', 'hilok:mutex:{' + name + '}');
      await waitUntil(() => lease.signal.aborted, 3_000);
      expect(lease.signal.reason).toBeInstanceOf(LockLostError);
      expect(lost).toHaveLength(1);
    });

    it('re-enters with the same owner id and frees after as many releases', async () => {
      const name = fresh();
      const first = await mutex.acquire(name, { id: 'owner-a', reentrant: true });
      const second = await mutex.acquire(name, { id: 'owner-a', reentrant: true, block: false });
      expect((await mutex.inspect(name))?.count).toBe(2);
      expect(second.fence).toBe(first.fence);
      await expect(mutex.acquire(name, { id: 'owner-b', block: false })).rejects.toBeInstanceOf(LockBusyError);
      await second.release();
      expect(await mutex.isLocked(name)).toBe(true);
      await first.release();
      expect(await mutex.isLocked(name)).toBe(false);
    });

    it('re-takes a hold by id from another manager instead of conflicting', async () => {
      const name = fresh();
      const other = new Mutex(await conns.open(server.url));
      const lease = await mutex.acquire(name, { ttl: 1_000 });
      const retaken = await other.acquire(name, { id: lease.token, ttl: 5_000, block: false });
      expect(retaken.fence).toBe(lease.fence);
      expect((await mutex.inspect(name))?.count).toBe(1);
      expect(await retaken.release()).toBe(true);
      await other.close();
    });

    it('withLock: runs the body under the lock, passes its signal, releases after', async () => {
      const name = fresh();
      const result = await mutex.withLock(name, async (signal) => {
        expect(signal.aborted).toBe(false);
        expect(await mutex.isLocked(name)).toBe(true);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await mutex.isLocked(name)).toBe(false);
    });

    it('withLock: the body error propagates unchanged even when the release fails too', async () => {
      const name = fresh();
      const boom = new Error('business logic error');
      const reported: unknown[] = [];
      const m = new Mutex(adapter, { onReleaseError: (e) => reported.push(e) });
      const err = await m
        .withLock(name, async () => {
          await keyCall(adapter, 'DEL', 'hilok:mutex:{' + name + '}');
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(err).toBe(boom);
      expect(reported[0]).toBeInstanceOf(LockReleaseError);
      await m.close();
    });

    it('withLock: a failed release after a clean body throws LockReleaseError', async () => {
      const name = fresh();
      await expect(
        mutex.withLock(name, async () => {
          await keyCall(adapter, 'DEL', 'hilok:mutex:{' + name + '}');
        }),
      ).rejects.toBeInstanceOf(LockReleaseError);
    });

    it('await using releases at the end of the block without ever throwing', async () => {
      const name = fresh();
      {
        await using lease = await mutex.acquire(name);
        expect(lease.held).toBe(true);
      }
      expect(await mutex.isLocked(name)).toBe(false);
      let leaked: Lease | undefined;
      {
        await using lease = await mutex.acquire(name);
        leaked = lease;
        await keyCall(adapter, 'DEL', 'hilok:mutex:{' + name + '}');
      }
      expect(leaked.releaseError).toBeInstanceOf(LockReleaseError);
    });

    it('rejects bad input with InvalidArgumentError before any Redis call', async () => {
      const counted = countingAdapter(adapter);
      const m = new Mutex(counted);
      const bad: [string, () => Promise<unknown>][] = [
        ['empty name', () => m.acquire('')],
        ['non-string name', () => m.acquire(42 as unknown as string)],
        ['huge name', () => m.acquire('x'.repeat(5_000))],
        ['lone surrogate', () => m.acquire('\ud800')],
        ['ttl 0', () => m.acquire('a', { ttl: 0 })],
        ['ttl negative', () => m.acquire('a', { ttl: -1 })],
        ['ttl NaN', () => m.acquire('a', { ttl: NaN })],
        ['ttl Infinity', () => m.acquire('a', { ttl: Infinity })],
        ['ttl fractional', () => m.acquire('a', { ttl: 1.5 })],
        ['ttl > 2^31', () => m.acquire('a', { ttl: 2 ** 31 })],
        ['timeout negative', () => m.acquire('a', { timeout: -5 })],
        ['timeout NaN', () => m.acquire('a', { timeout: NaN })],
        ['block not boolean', () => m.acquire('a', { block: 'no' as unknown as boolean })],
        ['signal not a signal', () => m.acquire('a', { signal: {} as AbortSignal })],
        ['renew >= ttl', () => m.acquire('a', { ttl: 100, autoRenew: 100 })],
        ['renew 0', () => m.acquire('a', { autoRenew: 0 })],
        ['empty id', () => m.acquire('a', { id: '' })],
        ['options not an object', () => m.acquire('a', 5 as unknown as object)],
        ['withLock without fn', () => m.withLock('a', undefined as unknown as () => void)],
        ['inspect empty name', () => m.inspect('')],
      ];
      for (const [label, call] of bad) {
        const err = await call().then(
          () => new Error(`${label}: resolved`),
          (e: unknown) => e,
        );
        expect(err, label).toBeInstanceOf(InvalidArgumentError);
      }
      expect(() => new Mutex(counted, { ttl: -1 })).toThrow(InvalidArgumentError);
      expect(() => new Mutex(counted, { prefix: 'a{b}' })).toThrow(InvalidArgumentError);
      expect(() => new Mutex(counted, { wait: 'poll' as 'spin' })).toThrow(InvalidArgumentError);
      expect(() => new Mutex(counted, { ttl: 300, autoRenew: 500 })).toThrow(InvalidArgumentError);
      expect(() => new Mutex(undefined as unknown as RedisAdapter)).toThrow(InvalidArgumentError);
      expect(counted.calls).toBe(0);
      await m.close();
    });

    it('accepts names with braces, globs, separators and unicode as distinct locks', async () => {
      const names = ['a{b}c', '{x}', 'a*?[z]', 'héllo/世界:🔒', '%7B', '{', '}'];
      const leases = await Promise.all(names.map((name) => mutex.acquire(name, { block: false })));
      expect(new Set(leases.map((l) => l.token)).size).toBe(names.length);
      for (const lease of leases) expect(await lease.release()).toBe(true);
    });

    it('tells "Redis is down" apart from "busy"', async () => {
      const doomed = await startRedis();
      const m = new Mutex(await conns.open(doomed.url), { commandTimeout: 500 });
      await doomed.kill();
      const err = await m.acquire('down', { timeout: 5_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnavailableError);
      expect(err).not.toBeInstanceOf(LockBusyError);
      await m.close();
    });

    it('close() releases held leases and rejects pending and later calls with ClosedError', async () => {
      const name = fresh();
      const m = new Mutex(adapter);
      const lease = await m.acquire(name);
      const blocked = await mutex.acquire(fresh());
      const waiting = m.acquire(blocked.resource).catch((e: unknown) => e);
      await delay(50);
      await m.close();
      expect(await waiting).toBeInstanceOf(ClosedError);
      await expect(m.acquire('x')).rejects.toBeInstanceOf(ClosedError);
      expect(lease.held).toBe(false);
      expect(await mutex.isLocked(name)).toBe(false);
      await blocked.release();
    });

    it('SpinLock: mutual exclusion by polling with backoff, no subscription', async () => {
      const name = fresh();
      const spin = new SpinLock(adapter, { spin: { initialDelay: 2, maxDelay: 20 } });
      const result = await checkMutualExclusion({ tasks: 6, rounds: 5, acquire: () => spin.acquire(name, { timeout: 20_000 }) });
      expect(result.maxConcurrent).toBe(1);
      expect(result.counter).toBe(30);
      const clients = String(await redisCall(adapter, 'PUBSUB', 'CHANNELS', `*${name}*`));
      expect(clients).toBe('');
      await spin.close();
    });

    it('sends the acquires and releases that many tasks make in one tick as one script call each', async () => {
      const counted = countingAdapter(adapter);
      const batching = new Mutex(counted, { ttl: 5_000 });
      const names = Array.from({ length: 40 }, () => fresh());
      const leases = await Promise.all(names.map((name) => batching.acquire(name)));
      expect(counted.calls).toBe(1);
      expect(leases.every((l) => l.held)).toBe(true);
      // One batch is atomic per lock, not all-or-nothing: every lock was checked on its own.
      await expect(batching.acquire(names[0] as string, { block: false })).rejects.toBeInstanceOf(LockBusyError);
      const before = counted.calls;
      expect(await Promise.all(leases.map((l) => l.release()))).toEqual(names.map(() => true));
      expect(counted.calls).toBe(before + 1);
      await batching.close();
    });

    it("splits a tick's calls at the adapter's maxBatch; a driver that coalesces a turn's writes gets one batch per event-loop turn", async () => {
      // The adapter as it is (maxBatch, coalescesWrites and all), recording each script call's
      // size and the event-loop turn it reached the driver in.
      let turn = 0;
      let counting = true;
      const countTurns = () => {
        turn++;
        if (counting) setImmediate(countTurns);
      };
      setImmediate(countTurns);
      const sent: { keys: number; turn: number }[] = [];
      const recorded: RedisAdapter = {
        ...adapter,
        // Mutex acquire and release take two keys per lock (the lock and its hand-off queue).
        evalsha: (sha, keys, args) => (sent.push({ keys: keys.length / 2, turn }), adapter.evalsha(sha, keys, args)),
        eval: (source, keys, args) => (sent.push({ keys: keys.length / 2, turn }), adapter.eval(source, keys, args)),
      };
      const batching = new Mutex(recorded, { ttl: 5_000 });
      const names = Array.from({ length: 64 }, () => fresh());
      const leases = await Promise.all(names.map((name) => batching.acquire(name)));
      const maxBatch = adapter.maxBatch ?? 64;
      expect(leases.every((l) => l.held)).toBe(true);
      expect(sent.map((s) => s.keys)).toEqual(Array.from({ length: Math.ceil(64 / maxBatch) }, (_, i) => Math.min(maxBatch, 64 - i * maxBatch)));
      const turns = sent.map((s) => s.turn);
      if (adapter.coalescesWrites) {
        // Each batch in a later turn than the one before, so each gets its own socket write.
        for (let i = 1; i < turns.length; i++) expect(turns[i]).toBeGreaterThan(turns[i - 1] as number);
      } else {
        expect(new Set(turns).size).toBe(1);
      }
      sent.length = 0;
      expect(await Promise.all(leases.map((l) => l.release()))).toEqual(names.map(() => true));
      expect(sent.reduce((total, s) => total + s.keys, 0)).toBe(64);
      for (const name of names) expect(await mutex.isLocked(name)).toBe(false);
      counting = false;
      await batching.close();
    });

    it('a release sent right behind its acquire runs after it, also on a server that has only the release script cached', async () => {
      // Redlock sends an undo behind an acquire it no longer waits for. Had the acquire gone as an
      // EVALSHA answered NOSCRIPT, its EVAL retry would run after the undo and leave the grant.
      await sendCommandTo(server, 'SCRIPT', 'FLUSH');
      await sendCommandTo(server, 'SCRIPT', 'LOAD', scripts.mutexRelease.source);
      const runner = new ScriptRunner(adapter);
      const key = `hilok:mutex:{${fresh()}}`;
      const owner = 'order-check';
      const acquired = runner.runBatched(scripts.mutexAcquire, [key, `${key}:q`], [owner, 5_000, ''], { timeoutMs: 5_000 });
      const released = runner.runBatched(scripts.mutexRelease, [key, `${key}:q`], [owner, '', ''], { timeoutMs: 5_000 });
      expect(Number(await acquired)).toBeGreaterThan(0);
      expect(Number(await released)).toBe(0);
      expect(await keyCall(adapter, 'EXISTS', key)).toBe(0);
    });

    it('same-tick contenders on one name: one wins, every other is woken in turn by pub/sub', async () => {
      const name = fresh();
      const other = new Mutex(await conns.open(server.url), { ttl: 30_000 });
      const managers = [mutex, other];
      const order: number[] = [];
      const started = performance.now();
      // 8 tasks over 2 processes' worth of managers, all in one tick; holders keep a 30 s ttl, so
      // a waiter that missed its wake-up would sit at the fallback for ~30 s.
      await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const lease = await (managers[i % 2] as Mutex).acquire(name, { ttl: 30_000, timeout: 25_000 });
          order.push(i);
          await delay(5);
          await lease.release();
        }),
      );
      expect(order.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(performance.now() - started).toBeLessThan(20_000);
      await other.close();
    });

    it('batched calls keep every lock exclusive: 5 names × 8 tasks over 2 connections, no lost update', async () => {
      const other = new Mutex(await conns.open(server.url), { ttl: 5_000 });
      const names = Array.from({ length: 5 }, () => fresh());
      // Every task of a name starts in the same tick, so acquires of all names share script calls.
      const results = await Promise.all(
        names.map((name) =>
          checkMutualExclusion({ tasks: 8, rounds: 3, acquire: (task) => (task % 2 ? other : mutex).acquire(name, { timeout: 20_000 }) }),
        ),
      );
      expect(results).toEqual(names.map(() => ({ maxConcurrent: 1, counter: 24 })));
      await other.close();
    });

    it('a key holding something that is no hilok mutex fails only that lock, as RedisUnavailableError', async () => {
      const foreign = fresh();
      await keyCall(adapter, 'SET', `hilok:mutex:{${foreign}}`, 'not a lock');
      const [bad, good] = await Promise.allSettled([mutex.acquire(foreign, { block: false }), mutex.acquire(fresh(), { block: false })]);
      expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(RedisUnavailableError);
      expect(bad.status === 'rejected' && String(bad.reason.message)).toMatch(/not a hilok mutex/);
      expect(good.status === 'fulfilled' && good.value.held).toBe(true);
      if (good.status === 'fulfilled') await good.value.release();
      expect(await mutex.inspect(foreign)).toBeNull();
      await keyCall(adapter, 'DEL', `hilok:mutex:{${foreign}}`);
    });

    it('release frees only the exact hold it took: not a re-taken key, not a foreign empty string', async () => {
      const name = fresh();
      const key = `hilok:mutex:{${name}}`;
      const first = await mutex.acquire(name, { ttl: 30_000 });
      // The hold vanished and someone else took the name: the stale lease's release must miss.
      await keyCall(adapter, 'DEL', key);
      const second = await mutex.acquire(name, { ttl: 30_000, block: false });
      expect(await first.release()).toBe(false);
      expect((await mutex.inspect(name))?.owner).toBe(second.token);
      expect(await second.release()).toBe(true);
      // The exact-value fast path is off for callers that do not know the value (""): a key that
      // holds an empty string must not match it.
      await keyCall(adapter, 'SET', key, '');
      const reply = await adapter.eval(scripts.mutexRelease.source, [key, `${key}:q`], ['someone', '']);
      expect((reply as unknown[]).map(Number)).toEqual([-1]);
      expect(await keyCall(adapter, 'GET', key)).toBe('');
      await keyCall(adapter, 'DEL', key);
    });

    it('multi-name: all or none — one busy name takes nothing and leaves no key of the failed attempt', async () => {
      const [a, b, c] = [fresh(), fresh(), fresh()];
      const held = await mutex.acquire(b);
      await expect(mutex.acquire([c, b, a], { block: false })).rejects.toBeInstanceOf(LockBusyError);
      expect(await mutex.tryAcquire([a, b])).toBeNull();
      await expect(mutex.acquire([a, b, c], { timeout: 100 })).rejects.toMatchObject({ reason: 'timeout' });
      expect(await mutex.isLocked(a)).toBe(false);
      expect(await mutex.isLocked(c)).toBe(false);
      // The failed waits left no queue behind: only the single holder's key exists.
      const keys = ((await redisCall(adapter, 'KEYS', 'hilok:*')) as unknown[]).map(String);
      expect(keys).toEqual([`hilok:mutex:{${b}}`]);
      await held.release();
      const all = await mutex.acquire([c, a, b, a]);
      expect(all.held).toBe(true);
      for (const name of [a, b, c]) expect(await mutex.inspect(name)).toMatchObject({ owner: all.token, fence: all.fence, count: 1 });
      await all.extend(3_000);
      expect((await mutex.inspect(a))!.ttl).toBeLessThanOrEqual(3_000);
      expect(await all.release()).toBe(true);
      for (const name of [a, b, c]) expect(await mutex.isLocked(name)).toBe(false);
    });

    it('multi-name: excludes single-name holders of any of its names, with increasing fences per name', async () => {
      const [a, b] = [fresh(), fresh()];
      const first = await mutex.acquire(a);
      await first.release();
      const both = await mutex.acquire([a, b]);
      expect(both.fence).toBeGreaterThan(first.fence);
      expect(await mutex.tryAcquire(a)).toBeNull();
      expect(await mutex.tryAcquire(b)).toBeNull();
      await both.release();
      const after = await mutex.acquire(b);
      expect(after.fence).toBeGreaterThan(both.fence);
      await after.release();
    });

    it('multi-name: a waiter for [a, b] gets in when the holder of b releases; the signal aborts if one name is lost', async () => {
      const [a, b] = [fresh(), fresh()];
      const holder = await mutex.acquire(b);
      const started = performance.now();
      const waiter = mutex.acquire([a, b], { timeout: 4_000 });
      await delay(50);
      expect(await mutex.isLocked(a)).toBe(false); // nothing taken while waiting
      await holder.release();
      const lease = await waiter;
      expect(performance.now() - started).toBeLessThan(2_000);
      const signal = lease.signal;
      // Another hold of `a` by key surgery: the watchdog-less extend finds the part lost.
      await keyCall(adapter, 'DEL', `hilok:mutex:{${a}}`);
      await expect(lease.extend()).rejects.toBeInstanceOf(LockLostError);
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(LockLostError);
      expect(await mutex.isLocked(b)).toBe(false); // the part still held was freed with the loss
      expect(await lease.release()).toBe(false);
    });

    it('multi-name: no deadlock between [a, b] and [b, a] tasks; withLock and await using cover every name', async () => {
      const [a, b] = [fresh(), fresh()];
      let inside = 0;
      let overlaps = 0;
      const task = (names: string[]) =>
        mutex.withLock(names, async (_signal, lease) => {
          expect(lease.held).toBe(true);
          if (++inside > 1) overlaps++;
          await delay(2);
          inside--;
        }, { timeout: 10_000 });
      await Promise.all(Array.from({ length: 12 }, (_, i) => task(i % 2 ? [a, b] : [b, a])));
      expect(overlaps).toBe(0);
      {
        await using lease = await mutex.acquire([a, b]);
        expect(await mutex.inspect(b)).toMatchObject({ owner: lease.token });
      }
      expect(await mutex.isLocked(a)).toBe(false);
      expect(await mutex.isLocked(b)).toBe(false);
    });

    it('multi-name: a waiter for [a, b] is not starved by single-name callers that keep taking a and b', async () => {
      const [a, b] = [fresh(), fresh()];
      let stop = false;
      // Two tasks per name, each taking its name again at once (think 0, hold 10 ms): without a
      // bound, one of a and b is always held when the other is free.
      const single = (name: string, offset: number) =>
        (async () => {
          await delay(offset);
          while (!stop) {
            const lease = await mutex.acquire(name, { timeout: 20_000 });
            await delay(10);
            await lease.release();
          }
        })();
      const streams = [single(a, 0), single(a, 5), single(b, 2), single(b, 7)];
      await delay(60);
      const waits: number[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          const lease = await mutex.acquire([a, b], { timeout: 10_000 });
          waits.push(performance.now() - started);
          await delay(5);
          await lease.release();
          await delay(20);
        }
      } finally {
        stop = true;
        await Promise.all(streams);
      }
      // A bound that catches starvation (the streams never pause by themselves), not a speed.
      expect(Math.max(...waits)).toBeLessThan(3_000);
    });

    it('multi-name: a waiter keeps a name handed to it while it waits for the next, and gives it back when it gives up', async () => {
      const [a, b] = [fresh(), fresh()];
      const holdA = await mutex.acquire(a);
      const holdB = await mutex.acquire(b, { ttl: 20_000 });
      const waiter = mutex.acquire([a, b], { timeout: 1_200 }).catch((e: unknown) => e);
      await delay(50);
      // The waiter is first in a's queue and has waited > 5 ms: a's release reserves a for it,
      // and it keeps a while it waits for b.
      await holdA.release();
      await delay(150);
      await expect(mutex.acquire(a, { block: false })).rejects.toBeInstanceOf(LockBusyError);
      expect(await waiter).toBeInstanceOf(LockBusyError);
      // Given up: a is free at once (the reservation was passed on), not after its 3 s.
      await (await mutex.acquire(a, { block: false })).release();
      await holdB.release();
      expect(((await redisCall(adapter, 'KEYS', `hilok:mutex:{${a}}*`)) as unknown[]).map(String)).toEqual([]);
    });

    it('multi-name: rejects bad input with InvalidArgumentError before any Redis call', async () => {
      const counted = countingAdapter(adapter);
      const m = new Mutex(counted);
      const bad: [string, () => Promise<unknown>][] = [
        ['empty list', () => m.acquire([])],
        ['non-string name', () => m.acquire(['a', 7 as unknown as string])],
        ['empty name in list', () => m.acquire(['a', ''])],
        ['too many', () => m.acquire(Array.from({ length: 65 }, (_, i) => `n${i}`))],
        ['reentrant', () => m.acquire(['a', 'b'], { id: 'me', reentrant: true })],
        ['tryAcquire empty list', () => m.tryAcquire([])],
        ['withLock empty list', () => m.withLock([], () => undefined)],
      ];
      for (const [label, call] of bad) {
        const err = await call().then(
          () => new Error(`${label}: resolved`),
          (e: unknown) => e,
        );
        expect(err, label).toBeInstanceOf(InvalidArgumentError);
      }
      expect(counted.calls).toBe(0);
      await m.close();
    });

    it('leaves no key behind once everything is released', async () => {
      const keys = (await redisCall(adapter, 'KEYS', 'hilok:*')) as unknown[];
      expect(keys.map(String)).toEqual([]);
    });
  });
}
