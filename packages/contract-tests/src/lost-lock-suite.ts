import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FairLock,
  HiLok,
  LockLostError,
  LockReleaseError,
  Mutex,
  ReadWriteLock,
  ReentrantMutex,
  SpinLock,
  type Lease,
  type LockManager,
  type RedisAdapter,
} from '@hilok/core';
import { leaseDrift } from '@hilok/core/internal';
import { startProxy, startRedis, type RedisServer } from '@hilok/testing';
import { Connections, type DriverCase } from './driver.js';

/** Lease ttl of the holder behind the proxy. */
const TTL = 1_200;
/** The holder's commandTimeout: short, so a test ends soon, yet far past the ttl's end. */
const A_COMMAND_TIMEOUT = 1_000;

/** Monotonic time the lease's latest acquire/renewal was sent (inverse of `expiresAt`). */
const sentAtOf = (lease: Lease): number => lease.expiresAt - lease.ttl + leaseDrift(lease.ttl);

/** One kind of lock on both sides: A's scoped form (behind the proxy) and B's blocking acquire (direct). */
interface KindCase {
  label: string;
  /** A: run `body` in the kind's scoped form (withLock / withWrite). */
  holdA(body: (signal: AbortSignal, lease: Lease) => Promise<void>, autoRenew: boolean): Promise<void>;
  /** B: a blocking acquire of the same lock. */
  takeB(): Promise<Lease>;
}

/** What one race saw. */
interface RaceResult {
  label: string;
  /** When A's signal aborted (performance.now()). */
  abortedAt: number;
  /** When B's winning attempt was sent: B's grant ran on Redis after this. */
  bSentAt: number;
  /** When B's acquire resolved. */
  bGrantedAt: number;
  /** A's state, read when B's acquire resolved. */
  aHeldAtGrant: boolean;
  aAbortedAtGrant: boolean;
}

/** A's hold of one kind, started: `held` resolves once A's body runs; then `raceB` lets B wait for it. */
interface Started {
  held: Promise<void>;
  raceB(): Promise<RaceResult>;
}

/**
 * A holds the lock in its scoped form (through the proxy, which the caller blackholes once every
 * kind is held); B, connected directly, then waits for the lock. A's signal must abort before
 * B's winning attempt is even sent — with or without the watchdog, whose renewal stays in
 * flight (unanswered) past the ttl.
 */
function startHold(kind: KindCase, autoRenew: boolean): Started {
  let abortedAt = Number.NaN;
  let aLease: Lease | undefined;
  let aSignal: AbortSignal | undefined;
  let onHeld!: () => void;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  const aDone = kind
    .holdA(async (signal, lease) => {
      aLease = lease;
      aSignal = signal;
      const aborted = new Promise<void>((resolve) =>
        signal.addEventListener(
          'abort',
          () => {
            abortedAt = performance.now();
            resolve();
          },
          { once: true },
        ),
      );
      onHeld();
      await aborted;
    }, autoRenew)
    // The release after the body cannot reach Redis (or finds the lock gone): that error is expected.
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  const raceB = async (): Promise<RaceResult> => {
    const b = await kind.takeB();
    const bGrantedAt = performance.now();
    const result: RaceResult = {
      label: kind.label,
      abortedAt,
      bSentAt: sentAtOf(b),
      bGrantedAt,
      aHeldAtGrant: aLease?.held ?? true,
      aAbortedAtGrant: aSignal?.aborted ?? false,
    };
    await b.release();
    const aError = await aDone;
    if (aError !== undefined) expect(aError, kind.label).toBeInstanceOf(LockReleaseError);
    return result;
  };
  // If A could not even take the lock, say so instead of waiting forever.
  return { held: Promise.race([held, aDone.then((err) => Promise.reject(err ?? new Error(`${kind.label}: A's body never ran`)))]), raceB };
}

/**
 * The lost-lock signal against a partition, through one driver case: for every kind, A's
 * `signal` aborts (and `lease.held` turns false) before another client can be granted the lock
 * — also when the watchdog's renewal is in flight and never answered. Plus the lease a scoped
 * body gets, and a strict release after a release.
 */
export function describeLostLockSuite<C>(driver: DriverCase<C>): void {
  describe(`lost-lock signal: ${driver.name}`, () => {
    let server: RedisServer;
    let conns: Connections<C>;
    let direct: RedisAdapter;
    let n = 0;
    const fresh = (label: string) => `lost-${label}-${++n}`;

    beforeAll(async () => {
      server = await startRedis();
      conns = new Connections(driver);
      direct = await conns.open(server.url);
    });
    afterAll(async () => {
      await conns?.closeAll();
      await server?.stop();
    });

    /** Every kind, A on `a` and B on `direct`, on fresh names. */
    function kinds(a: RedisAdapter, managers: LockManager[]): KindCase[] {
      const opts = { commandTimeout: A_COMMAND_TIMEOUT };
      const keep = <M extends LockManager>(m: M): M => (managers.push(m), m);
      const named = (label: string, A: Mutex | FairLock | ReentrantMutex, B: Mutex | FairLock | ReentrantMutex): KindCase => {
        const name = fresh(label);
        return {
          label,
          holdA: (body, autoRenew) => A.withLock(name, body, { ttl: TTL, autoRenew }),
          takeB: () => B.acquire(name, { ttl: TTL, timeout: 10_000 }),
        };
      };
      const rwA = keep(new ReadWriteLock(a, opts));
      const rwB = keep(new ReadWriteLock(direct));
      const hA = keep(new HiLok(a, opts));
      const hB = keep(new HiLok(direct));
      const rwName = fresh('rw');
      const path = `${fresh('hilok')}/x`;
      return [
        named('Mutex', keep(new Mutex(a, opts)), keep(new Mutex(direct))),
        named('SpinLock', keep(new SpinLock(a, opts)), keep(new SpinLock(direct))),
        named('ReentrantMutex', keep(new ReentrantMutex(a, opts)), keep(new ReentrantMutex(direct))),
        named('FairLock', keep(new FairLock(a, opts)), keep(new FairLock(direct))),
        {
          label: 'ReadWriteLock write',
          holdA: (body, autoRenew) => rwA.withWrite(rwName, body, { ttl: TTL, autoRenew }),
          takeB: () => rwB.write(rwName, { ttl: TTL, timeout: 10_000 }),
        },
        {
          label: 'HiLok write',
          holdA: (body, autoRenew) => hA.withWrite(path, body, { ttl: TTL, autoRenew }),
          // A write on the parent conflicts with A's write below it.
          takeB: () => hB.write(path.split('/')[0] as string, { ttl: TTL, timeout: 10_000 }),
        },
      ];
    }

    for (const autoRenew of [true, false]) {
      it(`every kind: A's signal aborts before B's winning attempt is sent (partition, watchdog ${autoRenew ? 'on' : 'off'}, ttl ${TTL})`, async () => {
        const proxy = await startProxy({ targetPort: server.port });
        const connsA = new Connections(driver);
        const managers: LockManager[] = [];
        try {
          const a = await connsA.open(proxy.url);
          // Every kind at once (one partition for all): A holds each, then the proxy blackholes.
          const started = kinds(a, managers).map((k) => startHold(k, autoRenew));
          await Promise.all(started.map((s) => s.held));
          proxy.blackhole(true);
          const results = await Promise.all(started.map((s) => s.raceB()));
          for (const r of results) {
            expect(r.abortedAt, `${r.label}: A's signal never aborted`).not.toBeNaN();
            expect(r.aAbortedAtGrant, `${r.label}: A's signal not aborted when B got the lock`).toBe(true);
            expect(r.abortedAt, `${r.label}: A's signal aborted after B's winning attempt was sent`).toBeLessThanOrEqual(r.bSentAt);
            expect(r.bSentAt).toBeLessThanOrEqual(r.bGrantedAt);
            expect(r.aHeldAtGrant, `${r.label}: A's lease.held still true when B got the lock`).toBe(false);
          }
        } finally {
          proxy.blackhole(false);
          proxy.reset();
          await Promise.allSettled(managers.map((m) => m.close()));
          await connsA.closeAll();
          await proxy.stop();
        }
      });
    }

    it('scoped bodies get the lease: fence, clock-true held, throwIfLost', async () => {
      const mutex = new Mutex(direct);
      const hilok = new HiLok(direct);
      try {
        const name = fresh('body');
        let seen: Lease | undefined;
        await mutex.withLock(name, async (signal, lease) => {
          seen = lease;
          expect(lease.signal).toBe(signal);
          expect(lease.resource).toBe(name);
          expect(lease.fence).toBeGreaterThan(0);
          expect(lease.held).toBe(true);
          lease.throwIfLost();
          expect((await mutex.inspect(name))?.fence).toBe(lease.fence);
        });
        expect(seen?.held).toBe(false);
        expect(() => seen?.throwIfLost()).toThrow(LockLostError);
        await hilok.withWrite(fresh('bodyw'), async (_signal, hold) => {
          expect(hold.mode).toBe('write');
          expect(hold.held).toBe(true);
        });
        // A short ttl without the watchdog: once the clock passes the validity, held is false and
        // throwIfLost throws, whether or not the signal's timer has run yet.
        await mutex.withLock(
          fresh('short'),
          async (_signal, lease) => {
            while (performance.now() < lease.expiresAt) {
              /* busy-wait: the expiry timer cannot run meanwhile */
            }
            expect(lease.held).toBe(false);
            expect(() => lease.throwIfLost()).toThrow(LockLostError);
            expect(lease.signal.aborted).toBe(true); // throwIfLost marked it lost
          },
          { ttl: 200, autoRenew: false },
        ).catch((err: unknown) => expect(err).toBeInstanceOf(LockReleaseError));
        // A body that releases its lease itself: withLock does not release it again or complain.
        await expect(mutex.withLock(fresh('self'), (_s, lease) => lease.release())).resolves.toBe(true);
      } finally {
        await mutex.close();
        await hilok.close();
      }
    });

    it('release({ strict: true }) on a lease released before throws LockReleaseError; dispose stays quiet', async () => {
      const mutex = new Mutex(direct);
      const hilok = new HiLok(direct);
      try {
        const lease = await mutex.acquire(fresh('strict'));
        expect(await lease.release({ strict: true })).toBe(true);
        expect(await lease.release()).toBe(false);
        await expect(lease.release({ strict: true })).rejects.toBeInstanceOf(LockReleaseError);
        expect(() => lease.throwIfLost()).toThrow(LockLostError);
        const hold = await hilok.write(fresh('strictw'));
        await hold.release();
        await expect(hold.release({ strict: true })).rejects.toBeInstanceOf(LockReleaseError);
        let disposed: Lease | undefined;
        {
          await using inner = await mutex.acquire(fresh('dispose'));
          disposed = inner;
          await inner.release();
        }
        // Leaving the block disposed it again: nothing to report for a lease released before.
        expect(disposed.releaseError).toBeUndefined();
      } finally {
        await mutex.close();
        await hilok.close();
      }
    });
  });
}
