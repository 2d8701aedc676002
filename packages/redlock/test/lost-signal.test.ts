/**
 * Redlock's lost-lock signal against a partition: client A reaches every instance through a
 * TCP proxy that blackholes (bytes dropped both ways, sockets open); client B, connected
 * directly, waits for the lock. A's `lease.signal` must abort before B's winning attempt is
 * sent — while A's extensions are in flight unanswered, and without extensions. Plus the lease
 * a scoped body gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, startRedisInstances, type RedisInstances, type TcpProxy } from '@hilok/testing';
import { LockLostError, LockReleaseError, Redlock, type RedlockLease } from '@hilok/redlock';
import { mixedAdapters } from './helpers.js';

const TTL = 1_200;
/** Redlock's default drift: ttl · 0.01 + 2 ms. */
const drift = (ttl: number): number => ttl * 0.01 + 2;
/** Monotonic time B's winning attempt was sent (inverse of `validUntil`). */
const sentAtOf = (lease: RedlockLease): number => lease.validUntil - lease.ttl + drift(lease.ttl);

let instances: RedisInstances;
let proxies: TcpProxy[];
let b: Redlock;

beforeAll(async () => {
  instances = await startRedisInstances(3);
  proxies = await Promise.all(instances.servers.map((s) => startProxy({ targetPort: s.port })));
  // B retries often until A's hold runs out on a majority.
  b = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 400, retryDelayMin: 10, retryDelayMax: 30, instanceTimeout: 300 });
});
afterAll(async () => {
  await b?.close();
  await Promise.allSettled((proxies ?? []).map((p) => p.stop()));
  await instances?.stopAll();
});

interface Case {
  label: string;
  /** A holds, runs `body` (which resolves once A's signal aborted), and ends its hold. */
  holdA(a: Redlock, body: (signal: AbortSignal, lease: RedlockLease) => Promise<void>): Promise<unknown>;
  takeB(): Promise<RedlockLease>;
}

const cases: Case[] = [
  {
    label: 'using (extends every ttl/3)',
    holdA: (a, body) => a.using('rl-using', body, { ttl: TTL }),
    takeB: () => b.lock('rl-using', { ttl: TTL }),
  },
  {
    label: 'withWrite (extends every ttl/3)',
    holdA: (a, body) => a.withWrite('rl-tree/x', body, { ttl: TTL }),
    takeB: () => b.write('rl-tree', { ttl: TTL }),
  },
  {
    label: 'lock, no extension',
    holdA: async (a, body) => {
      const lease = await a.lock('rl-plain', { ttl: TTL });
      await body(lease.signal, lease);
      return lease.release();
    },
    takeB: () => b.lock('rl-plain', { ttl: TTL }),
  },
];

describe('Redlock: the lost-lock signal fires before anyone else can hold the lock', () => {
  it(`every instance blackholed: A's signal aborts before B's winning attempt is sent (ttl ${TTL})`, async () => {
    const a = new Redlock(mixedAdapters(proxies.map((p) => p.url)), { closeAdapters: true, instanceTimeout: 300, retryCount: 0 });
    try {
      const started = cases.map((c) => {
        let abortedAt = Number.NaN;
        let aLease: RedlockLease | undefined;
        let aSignal: AbortSignal | undefined;
        let onHeld!: () => void;
        const held = new Promise<void>((resolve) => (onHeld = resolve));
        const done = c
          .holdA(a, async (signal, lease) => {
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
          })
          .then(
            () => undefined,
            (err: unknown) => err,
          );
        const raceB = async () => {
          const lease = await c.takeB();
          const grantedAt = performance.now();
          const seen = { label: c.label, abortedAt, bSentAt: sentAtOf(lease), grantedAt, aValid: aLease?.valid, aAborted: aSignal?.aborted };
          await lease.release();
          // A's end: its release cannot reach a majority, or the lease was lost while the body ran.
          const err = await done;
          if (err !== undefined) expect([LockReleaseError, LockLostError].some((E) => err instanceof E), `${c.label}: ${String(err)}`).toBe(true);
          return seen;
        };
        return { held: Promise.race([held, done.then((err) => Promise.reject(err ?? new Error(`${c.label}: A's body never ran`)))]), raceB };
      });
      await Promise.all(started.map((s) => s.held));
      for (const p of proxies) p.blackhole(true);
      const results = await Promise.all(started.map((s) => s.raceB()));
      for (const r of results) {
        expect(r.abortedAt, `${r.label}: A's signal never aborted`).not.toBeNaN();
        expect(r.aAborted, `${r.label}: A's signal not aborted when B got the lock`).toBe(true);
        expect(r.abortedAt, `${r.label}: A's signal aborted after B's winning attempt was sent`).toBeLessThanOrEqual(r.bSentAt);
        expect(r.aValid, `${r.label}: A's lease still valid when B got the lock`).toBe(false);
      }
    } finally {
      for (const p of proxies) {
        p.blackhole(false);
        p.reset();
      }
      await a.close();
    }
  });

  it('scoped bodies get the lease (fence, valid/held, throwIfLost)', async () => {
    let seen: RedlockLease | undefined;
    await b.using('rl-body', async (signal, lease) => {
      seen = lease;
      expect(lease.signal).toBe(signal);
      expect(lease.fence).toBeGreaterThan(0);
      expect(lease.held).toBe(true);
      lease.throwIfLost();
    });
    expect(seen?.held).toBe(false);
    expect(() => seen?.throwIfLost()).toThrow(LockLostError);
    await b.withRead('rl-body/r', async (_signal, hold) => {
      expect(hold.mode).toBe('read');
      expect(hold.valid).toBe(true);
    });
  });
});
