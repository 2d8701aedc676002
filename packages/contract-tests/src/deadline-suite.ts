import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FairLock,
  HiLok,
  LockBusyError,
  Mutex,
  ReadWriteLock,
  ReentrantMutex,
  RedisUnavailableError,
  ReplyTimeoutError,
  SpinLock,
  type RedisAdapter,
} from '@hilok/core';
import { startRedis, type RedisServer } from '@hilok/testing';
import { Connections, delay, type DriverCase } from './driver.js';

/**
 * Far below the default `commandTimeout` (5 000 ms) and far above the calls' own deadlines
 * (≤ 1 000 ms + 100 ms slack): a call that still waited for `commandTimeout` fails this bound;
 * it is no speed requirement.
 */
const BOUND = 2_000;

/** How long `call` took to settle, and its rejection (undefined when it resolved). */
async function timed(call: () => Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = performance.now();
  try {
    await call();
    return { ms: performance.now() - start, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

/** A Redis failure by the deadline: a reply timeout, never "busy". */
function expectUnavailable(label: string, outcome: { ms: number; error: unknown }): void {
  expect(outcome.error, label).toBeInstanceOf(RedisUnavailableError);
  expect(outcome.error, label).toBeInstanceOf(ReplyTimeoutError);
  expect(outcome.error, label).not.toBeInstanceOf(LockBusyError);
  expect(outcome.ms, label).toBeLessThan(BOUND);
}

/**
 * The adapter with a silent pub/sub link: scripts run on the real server, but SUBSCRIBE is never
 * confirmed (as behind a stalled subscriber connection).
 */
function silentPubSub(inner: RedisAdapter): RedisAdapter {
  return {
    driver: inner.driver,
    cluster: inner.cluster,
    evalsha: (...a) => inner.evalsha(...a),
    eval: (...a) => inner.eval(...a),
    subscribe: () => new Promise<void>(() => undefined),
    unsubscribe: async () => undefined,
    close: async () => undefined,
  };
}

/**
 * One deadline, always: every acquire ends by its own deadline (plus a small slack), with a
 * frozen Redis (SIGSTOP) too, and tells busy (Redis answered "held") from broken (no reply).
 * Managers keep the default `commandTimeout` (5 s), which the calls must not wait for.
 */
export function describeDeadlineSuite<C>(driver: DriverCase<C>): void {
  describe(`deadlines: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;
    let adapter: RedisAdapter;
    let n = 0;
    const fresh = (kind: string) => `${kind}-${++n}`;

    beforeAll(async () => {
      // A server of its own: these tests freeze it.
      server = await startRedis();
      conns = new Connections(driver);
      adapter = await conns.open(server.url);
    });
    afterAll(async () => {
      await server?.resume().catch(() => undefined);
      await conns?.closeAll();
      await server?.stop();
    });

    /** Run `fn` with the server frozen, resuming it afterwards whatever happens. */
    async function frozen<T>(fn: () => Promise<T>): Promise<T> {
      await server.pause();
      try {
        return await fn();
      } finally {
        await server.resume();
      }
    }

    it('with Redis frozen, every kind of acquire ends by its own deadline with a reply timeout, not after commandTimeout', { timeout: 20_000 }, async () => {
      const mutex = new Mutex(adapter);
      const spin = new SpinLock(adapter);
      const reentrant = new ReentrantMutex(adapter);
      const fair = new FairLock(adapter);
      const hilok = new HiLok(adapter);
      const rw = new ReadWriteLock(adapter);
      // Load the scripts first, so the frozen calls are the ones under test.
      await (await mutex.acquire(fresh('warm'))).release();
      const outcomes = await frozen(() =>
        Promise.all([
          timed(() => mutex.acquire(fresh('m'), { timeout: 400 })),
          timed(() => mutex.tryAcquire(fresh('m'))),
          timed(() => mutex.acquire(fresh('m'), { block: false })),
          timed(() => mutex.tryAcquire(fresh('m'), { timeout: 300 })),
          timed(() => spin.acquire(fresh('s'), { timeout: 400 })),
          timed(() => reentrant.acquire(fresh('r'), { timeout: 400 })),
          timed(() => fair.acquire(fresh('f'), { timeout: 400 })),
          timed(() => fair.tryAcquire(fresh('f'))),
          timed(() => hilok.write(fresh('h'), { timeout: 400 })),
          timed(() => hilok.read(fresh('h'), { timeout: 400 })),
          timed(() => hilok.write(fresh('h'), { block: false })),
          timed(() => rw.read(fresh('rw'), { blockingTimeout: 400 })),
          timed(() => rw.write(fresh('rw'), { timeout: 400 })),
        ]),
      );
      const labels = ['mutex timeout 400', 'mutex tryAcquire', 'mutex block:false', 'mutex tryAcquire timeout 300', 'spin', 'reentrant', 'fair', 'fair tryAcquire', 'hilok write', 'hilok read', 'hilok write block:false', 'rw read', 'rw write'];
      outcomes.forEach((o, i) => expectUnavailable(labels[i] as string, o));
      // An explicit timeout bounds a one-shot call's wait for the answer.
      expect(outcomes[3]!.ms).toBeLessThan(900);
      await Promise.all([mutex, spin, reentrant, fair, hilok, rw].map((m) => m.close()));
    });

    it('with Redis frozen, release, extend, inspect and status end by commandTimeout with a reply timeout', { timeout: 20_000 }, async () => {
      // commandTimeout 600: the old 5 s default would break BOUND, so the option is what ends them.
      const mutex = new Mutex(adapter, { commandTimeout: 600 });
      const hilok = new HiLok(adapter, { commandTimeout: 600 });
      const [name, path] = [fresh('m'), fresh('h')];
      const [lease, other, hold] = [await mutex.acquire(name), await mutex.acquire(fresh('m')), await hilok.write(path)];
      const outcomes = await frozen(() =>
        Promise.all([timed(() => lease.release()), timed(() => other.extend()), timed(() => mutex.inspect(name)), timed(() => hilok.status(path)), timed(() => hold.release())]),
      );
      ['mutex release', 'mutex extend', 'mutex inspect', 'hilok status', 'hilok release'].forEach((label, i) => {
        const { ms, error } = outcomes[i]!;
        // A release reports its failure as LockReleaseError, with the reply timeout as its cause.
        const cause = error instanceof ReplyTimeoutError ? error : (error as { cause?: unknown } | undefined)?.cause;
        expect(cause, label).toBeInstanceOf(ReplyTimeoutError);
        expect(ms, label).toBeLessThan(BOUND);
      });
      await other.release().catch(() => undefined);
      await Promise.all([mutex.close(), hilok.close()]);
    });

    it('a waiter whose Redis freezes mid-wait gets a reply timeout by its deadline, not "busy"', { timeout: 20_000 }, async () => {
      const mutex = new Mutex(adapter, { ttl: 30_000 });
      const spin = new SpinLock(adapter, { ttl: 30_000 });
      const hilok = new HiLok(adapter, { ttl: 30_000 });
      const [m, s, h] = [fresh('m'), fresh('s'), fresh('h')];
      const holds = [await mutex.acquire(m), await spin.acquire(s), await hilok.write(h)];
      const waits = [
        timed(() => mutex.acquire(m, { timeout: 800 })),
        timed(() => spin.acquire(s, { timeout: 800 })),
        timed(() => hilok.read(h, { timeout: 800 })),
      ];
      await delay(300); // every waiter has heard "held" and sleeps
      const outcomes = await frozen(() => Promise.all(waits));
      expectUnavailable('mutex', outcomes[0]!);
      expectUnavailable('spin', outcomes[1]!);
      expectUnavailable('hilok', outcomes[2]!);
      for (const hold of holds) await hold.release();
      await Promise.all([mutex, spin, hilok].map((x) => x.close()));
    });

    it('while Redis answers, a timed-out wait is still "busy"', async () => {
      const mutex = new Mutex(adapter, { ttl: 30_000 });
      const name = fresh('m');
      const held = await mutex.acquire(name);
      const outcome = await timed(() => mutex.acquire(name, { timeout: 200 }));
      expect(outcome.error).toBeInstanceOf(LockBusyError);
      expect(outcome.error).toMatchObject({ reason: 'timeout' });
      expect(outcome.ms).toBeLessThan(BOUND);
      await held.release();
      await mutex.close();
    });

    it('a silent pub/sub link degrades to polling: the wait ends at its deadline as "busy", and a release is still seen', { timeout: 20_000 }, async () => {
      const silent = silentPubSub(adapter);
      const holder = new Mutex(adapter, { ttl: 30_000 });
      const waiter = new Mutex(silent);
      const holderTree = new HiLok(adapter, { ttl: 30_000 });
      const waiterTree = new HiLok(silent);
      const [busyName, freedName, tree] = [fresh('m'), fresh('m'), fresh('h')];
      const held = await holder.acquire(busyName);
      const freed = await holder.acquire(freedName);
      const write = await holderTree.write(tree);
      const [busy, busyTree, got] = await Promise.all([
        timed(() => waiter.acquire(busyName, { timeout: 1_000 })),
        timed(() => waiterTree.read(tree, { timeout: 1_000 })),
        timed(async () => {
          setTimeout(() => void freed.release(), 200);
          const lease = await waiter.acquire(freedName, { timeout: 1_500 });
          await lease.release();
        }),
      ]);
      for (const [label, outcome] of [['mutex', busy], ['hilok', busyTree]] as const) {
        expect(outcome.error, label).toBeInstanceOf(LockBusyError);
        expect(outcome.error, label).toMatchObject({ reason: 'timeout' });
        expect(outcome.ms, label).toBeLessThan(BOUND);
      }
      // Polled: got the lock soon after the release, long before the holder's 30 s ttl.
      expect(got.error).toBeUndefined();
      expect(got.ms).toBeLessThan(1_400);
      await held.release();
      await write.release();
      await Promise.all([holder, waiter, holderTree, waiterTree].map((x) => x.close()));
    });
  });
}
