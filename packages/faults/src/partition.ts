import { Redis } from 'ioredis';
import { LockBusyError, RedisUnavailableError, type HiLok, type Lease, type Mutex } from '@hilok/core';
import * as ioredisLocks from '@hilok/ioredis';
import * as nodeRedisLocks from '@hilok/node-redis';
import * as valkeyGlideLocks from '@hilok/valkey-glide';
import { createIoredisAdapter } from '@hilok/ioredis';
import { Redlock, type RedlockLease } from '@hilok/redlock';
import { startProxy, type TcpProxy } from '@hilok/testing';
import { targetsFor } from './actor.js';
import { checkHistory, type CheckResult } from './checker.js';
import { errorName, recordGrant, RecordingClient, rmwIncrement, type LockDriver } from './client.js';
import type { LockTarget } from './conflict.js';
import { asLoadClient, contend, repeatFault, startLoad, type LoadClient, type LoadGroup, type RunningLoad } from './load.js';
import { now, Recorder, toEpoch } from './recorder.js';
import { redlockClient } from './redlock-client.js';
import { redlockLoadSpec, shuffle, waitKeys, warmUp, type Quorum, type RedlockReport, type RedlockVolume } from './redlock.js';
import { CounterStore, type SharedCounter } from './resource.js';
import { keysAfterQuiescence, report, stopProxy, withLoad, type RunOptions, type ScenarioReport } from './scenarios.js';

/**
 * The partition-with-watchdog scenario (issue 16 §1): a client holds a lock with the watchdog on
 * through a TCP proxy that then blackholes (drops every byte both ways, sockets stay open) for
 * several ttls, while other clients connected directly contend for the same lock. The user's
 * program acts (increments a guarded counter) until its lease's signal aborts; the checker's
 * oracle is exactly that program, so the signal must abort before anybody else is granted the
 * lock. Measured per hold: the **signal lead time** = (next conflicting grant) − (signal abort).
 */

/** The driver package a single-instance client uses. */
export type Driver = 'ioredis' | 'node-redis' | 'valkey-glide';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Mutex and a HiLok of `driver`'s package, each on its own connection made from `url`. */
export interface CoreLocks {
  mutex: Mutex;
  hilok: HiLok;
  close(): Promise<void>;
}

/** Lock managers from `@hilok/ioredis`, `@hilok/node-redis` or `@hilok/valkey-glide`, created from a URL (they own their clients). */
export function coreLocks(driver: Driver, url: string, o: { prefix?: string; commandTimeout?: number } = {}): CoreLocks {
  const pkg = driver === 'ioredis' ? ioredisLocks : driver === 'node-redis' ? nodeRedisLocks : valkeyGlideLocks;
  const opts = { prefix: o.prefix ?? 'faults:', ...(o.commandTimeout === undefined ? {} : { commandTimeout: o.commandTimeout }) };
  const mutex = new pkg.Mutex(url, opts);
  const hilok = new pkg.HiLok(url, opts);
  return {
    mutex,
    hilok,
    close: async () => {
      await Promise.allSettled([mutex.close(), hilok.close()]);
    },
  };
}

/** A recorded contender on core locks: blocking acquires with `timeout`, as a load client (see {@link contend}). */
function coreContender(name: string, rec: Recorder, locks: CoreLocks, o: { ttl: number; timeout: number; commandTimeout: number }): LoadClient {
  const a = { ttl: o.ttl, timeout: o.timeout };
  const driver: LockDriver<Lease> = {
    acquire: (t) => (t.kind === 'mutex' ? locks.mutex.acquire(t.resource, a) : t.mode === 'read' ? locks.hilok.read(t.resource, a) : locks.hilok.write(t.resource, a)),
    validUntil: (l) => l.expiresAt,
    valid: (l) => l.held,
    indeterminate: (err) => err instanceof RedisUnavailableError || (err instanceof LockBusyError && err.reason === 'timeout'),
    acquireBound: o.timeout + o.commandTimeout + 1_000,
    releaseBound: o.commandTimeout + 1_000,
  };
  const client = new RecordingClient(name, rec, driver);
  return {
    acquire: (t) => client.acquire(t),
    increment: (h, c) => client.increment(h as never, c, 1),
    release: (h) => client.release(h as never),
    close: () => locks.close(),
  };
}

/** What the holder's program saw of its lease: the lease-like part a body gets (absent on a core without it). */
interface BodyLease {
  readonly fence: number;
}

/** Takes the lock and runs `body(signal, lease)` under it, releasing afterwards (a scoped helper, or acquire + watchdog + release). */
type TakeAndRun = (body: (signal: AbortSignal, lease?: BodyLease) => Promise<void>) => Promise<unknown>;

/** How one run of the holder's program went. */
interface HolderRun {
  hold: string;
  grantedAt?: number;
  lostAt?: number;
  /** The helper's (or the release's) error, if any — expected after a loss (`LockLostError`, `LockReleaseError`). */
  error?: string;
}

/**
 * The user's program: take the lock (`takeAndRun`), then — until the signal aborts, or `giveUp()`
 * (the test's bound, for a signal that never comes) — increment `counter` by read → gap → write,
 * checking the signal before each step, as a program that trusts its signal does. Recorded:
 * acquire, grant (fence, validity for the figures), loss (the signal's abort), the moment the
 * program stops acting (`release:invoke`, when the body returns) and the helper's outcome.
 */
async function holderProgram(
  rec: Recorder,
  client: string,
  target: LockTarget,
  counter: SharedCounter,
  takeAndRun: TakeAndRun,
  validUntil: (lease: BodyLease) => number | undefined,
  giveUp: () => boolean,
  granted: () => void,
): Promise<HolderRun> {
  const hold = rec.nextHold();
  const base = { client, hold, kind: target.kind, resource: target.resource, mode: target.mode };
  const run: HolderRun = { hold };
  rec.record({ ...base, type: 'acquire:invoke' });
  try {
    await takeAndRun(async (signal, lease) => {
      run.grantedAt = now();
      const v = lease ? validUntil(lease) : undefined;
      recordGrant(rec, base, { fence: lease?.fence ?? NaN, signal }, v === undefined ? undefined : toEpoch(v));
      if (signal.aborted) run.lostAt = run.grantedAt;
      else signal.addEventListener('abort', () => (run.lostAt = now()), { once: true });
      granted();
      while (!signal.aborted && !giveUp()) {
        if (target.mode === 'write') await rmwIncrement(rec, client, hold, lease?.fence ?? NaN, () => !signal.aborted, counter, 3);
        await sleep(2 + Math.random() * 4);
      }
      // The program stops acting here; the helper (or the caller) releases next.
      rec.record({ client, hold, type: 'release:invoke' });
    });
    if (run.grantedAt !== undefined) rec.record({ client, hold, type: 'release:ok' });
  } catch (err) {
    run.error = `${errorName(err)}: ${String((err as Error)?.message ?? err).slice(0, 400)}`;
    if (run.grantedAt === undefined) rec.record({ ...base, type: 'acquire:fail', detail: run.error });
    else rec.record({ client, hold, type: 'release:fail', detail: run.error });
  }
  if (run.grantedAt === undefined) granted();
  return run;
}

/** One iteration's timeline, for the expectations and figures. */
interface PartitionRound {
  holder: HolderRun;
  blackholeAt: number;
  healedAt: number;
  /** Conflicting grants to the contenders while the partition lasted. */
  grantsDuring: number;
}

/**
 * The shared body of one iteration: the holder takes the lock through its proxies, contenders
 * connected directly contend (blocking) on `group`; after a random part of the ttl the holder's
 * proxies blackhole for `blackholeMs`; then they heal, the contenders stop, and the holder's
 * program ends (its signal aborted — or, if it never did, at the test's bound).
 */
async function partitionRound(
  rec: Recorder,
  o: {
    holderName: string;
    target: LockTarget;
    group: LoadGroup;
    counters: CounterStore;
    contenders: LoadClient[];
    ttl: number;
    blackholeMs: number;
    /** How long after the heal the holder's program may still wait for its signal. */
    graceMs: number;
    blackhole: (on: boolean) => void;
    takeAndRun: TakeAndRun;
    validUntil: (lease: BodyLease) => number | undefined;
  },
): Promise<PartitionRound> {
  let giveUpAt = Infinity;
  let onGranted!: () => void;
  const granted = new Promise<void>((r) => (onGranted = r));
  const counter = o.counters.counter(o.group.counterKey);
  const holder = holderProgram(rec, o.holderName, o.target, counter, o.takeAndRun, o.validUntil, () => now() > giveUpAt, onGranted);
  await granted;
  let stop = false;
  const contending = o.contenders.map((c) => contend(c, [o.group], o.counters, () => stop));
  // Blackhole somewhere in the renewal cycle (the watchdog renews every ttl/3).
  await sleep(o.ttl * (0.2 + Math.random() * 0.6));
  o.blackhole(true);
  const blackholeAt = now();
  rec.record({ type: 'fault', detail: `blackhole ${o.holderName}'s proxies` });
  await sleep(o.blackholeMs);
  o.blackhole(false);
  const healedAt = now();
  rec.record({ type: 'fault', detail: `healed ${o.holderName}'s proxies` });
  giveUpAt = healedAt + o.graceMs;
  stop = true;
  await Promise.all(contending);
  const run = await holder;
  const names = new Set(o.group.targets.map((t) => t.resource));
  const grantsDuring = rec.events.filter((e) => e.type === 'acquire:ok' && e.client !== o.holderName && e.resource !== undefined && names.has(e.resource) && e.t > blackholeAt && e.t < healedAt).length;
  return { holder: run, blackholeAt, healedAt, grantsDuring };
}

/** The expectations of every round, and the scenario's figures. */
function judge(rounds: readonly PartitionRound[], check: CheckResult, holderPrefix: string, ttl: number, failures: string[]): Record<string, number | string> {
  const detections: number[] = [];
  const firstGrants: number[] = [];
  rounds.forEach((r, i) => {
    const h = r.holder;
    if (h.grantedAt === undefined) return failures.push(`iteration ${i}: the holder could not acquire (${h.error ?? '?'})`);
    if (h.lostAt === undefined || h.lostAt > r.healedAt) failures.push(`iteration ${i}: the holder's signal did not abort during the partition (${h.lostAt === undefined ? 'never' : `${Math.round(h.lostAt - r.healedAt)} ms after the heal`})`);
    else {
      detections.push(h.lostAt - r.blackholeAt);
      // Validity counts from before the last renewal sent before the blackhole: at most a ttl.
      if (h.lostAt - r.blackholeAt > ttl + 1_000) failures.push(`iteration ${i}: the signal aborted ${Math.round(h.lostAt - r.blackholeAt)} ms into the partition > ttl + 1 s`);
    }
    if (r.grantsDuring === 0) failures.push(`iteration ${i}: no contender got the lock during the partition`);
    return 0;
  });
  const leads = check.signalLeads.filter((l) => l.client.startsWith(holderPrefix));
  rounds.forEach((r, i) => {
    if (r.holder.lostAt !== undefined && !leads.some((l) => l.hold === r.holder.hold)) failures.push(`iteration ${i}: no conflicting grant after the holder's signal aborted (no lead time measured)`);
  });
  for (const l of leads) {
    const g = check.holds.find((x) => x.hold === l.next);
    const r = rounds.find((x) => x.holder.hold === l.hold);
    if (g && r) firstGrants.push(g.grantedAt - r.blackholeAt);
  }
  const round = (xs: number[], f: (...v: number[]) => number) => (xs.length === 0 ? '–' : Math.round(f(...xs) * 10) / 10);
  return {
    ttl,
    holderLeads: leads.length,
    minHolderLeadMs: round(leads.map((l) => l.leadMs), Math.min),
    maxSignalAfterPartitionMs: round(detections, Math.max),
    minNextGrantAfterPartitionMs: round(firstGrants, Math.min),
  };
}

/** Options of {@link partitionWatchdog}. */
export interface PartitionOptions extends Omit<RunOptions, 'kind'> {
  /** The partition scenario runs the single-name kinds. */
  kind: 'mutex' | 'hilok';
  driver: Driver;
  /** Lease ttl (default 500 ms); the partition lasts `blackholeTtls` × ttl (default 3). */
  ttl?: number;
  blackholeTtls?: number;
}

/**
 * (8) Partition with the watchdog on, single instance: client A (`driver`, default command
 * timeout) holds the lock through a TCP proxy with the watchdog renewing — with the scoped
 * helper (`withLock` / `withWrite`) and with `acquire`/`write` + `autoRenew` on alternate
 * iterations — and acts on it until its signal aborts; the proxy then blackholes for 3 ttls
 * while two clients of the same driver, connected directly, contend for the lock (mutex: the
 * same name; HiLok: a write on `base/x/y` and a read on `base`). Expected: A's signal aborts
 * during the partition, before any contender is granted the lock (checker: no overlap under
 * the user's oracle; signal lead ≥ 0), within ttl + 1 s of the partition's start; a contender
 * does get the lock during the partition; `onLost` runs with the signal; no lost update; no
 * key left. The background load contends directly on the same server.
 */
export async function partitionWatchdog(o: PartitionOptions): Promise<ScenarioReport> {
  const rec = new Recorder('parent');
  const ttl = o.ttl ?? 500;
  const blackholeMs = ttl * (o.blackholeTtls ?? 3);
  const failures: string[] = [];
  const proxy = await startProxy({ targetPort: o.server.port });
  const holderName = `A-${o.driver}-${o.kind}`;
  const holderLocks = coreLocks(o.driver, proxy.url);
  const contenderOpts = { ttl, timeout: 4 * ttl, commandTimeout: 1_000 };
  const contenders = ['B', 'C'].map((n) => coreContender(`${n}-${o.driver}-${o.kind}`, rec, coreLocks(o.driver, o.server.url, { commandTimeout: 1_000 }), contenderOpts));
  const counters = new CounterStore(o.volume.resource.url);
  const counterKeys: string[] = [];
  const rounds: PartitionRound[] = [];
  let onLostMissing = 0;
  const tag = `part${o.driver === 'ioredis' ? 'i' : o.driver === 'node-redis' ? 'n' : 'g'}${o.kind[0]}`;
  const run = await withLoad(o, rec, o.server.url, o.kind, tag, (load) =>
    repeatFault({ min: o.iterations, acquisitions: o.volume.acquisitions, maxMs: o.volume.maxMs, load }, async (i) => {
      const { a, b } = targetsFor(o.kind, `${tag}s${i}`);
      const group: LoadGroup = { targets: o.kind === 'mutex' ? [a] : [a, b], counterKey: `faults-counter:${tag}s${i}` };
      counterKeys.push(group.counterKey);
      await counters.reset([group.counterKey]);
      const scoped = (i + (o.kind === 'hilok' ? 1 : 0)) % 2 === 0;
      let lostSignalled = false;
      let onLostCalled = false;
      const m = holderLocks;
      const opts = { ttl };
      const takeAndRun: TakeAndRun = scoped
        ? (body) => (a.kind === 'mutex' ? m.mutex.withLock(a.resource, (s, l) => body(s, l), opts) : m.hilok.withWrite(a.resource, (s, l) => body(s, l), opts))
        : async (body) => {
            const lo = { ttl, autoRenew: true, onLost: () => (onLostCalled = true) };
            const lease = a.kind === 'mutex' ? await m.mutex.acquire(a.resource, lo) : await m.hilok.write(a.resource, lo);
            await body(lease.signal, lease);
            lostSignalled = lease.signal.aborted;
            return lease.release();
          };
      rounds.push(
        await partitionRound(rec, {
          holderName,
          target: a,
          group,
          counters,
          contenders,
          ttl,
          blackholeMs,
          graceMs: ttl + 6_000,
          blackhole: (on) => {
            proxy.blackhole(on);
            if (!on) proxy.reset();
          },
          takeAndRun,
          validUntil: (l) => (l as unknown as Partial<Lease>).expiresAt,
        }),
      );
      if (lostSignalled && !onLostCalled) onLostMissing++;
    }),
  ).finally(async () => {
    await holderLocks.close();
    await Promise.all(contenders.map((c) => c.close()));
    await stopProxy(proxy, failures);
  });
  const finals = { ...run.counters, ...(await counters.values(counterKeys)) };
  counters.close();
  if (onLostMissing > 0) failures.push(`${onLostMissing} lease(s) whose signal aborted without onLost running`);
  const keys = await keysAfterQuiescence(o.server, ttl + 2_000);
  const r = report(`partition with the watchdog on (${o.driver})`, o, rec, failures, {}, keys, { counters: finals, iterations: run.result });
  r.notes = { ...judge(rounds, r.check, 'A-', ttl, r.failures), blackholeMs, ...r.notes };
  r.driver = o.driver;
  return r;
}

/** Options of {@link redlockPartition}. */
export interface RedlockPartitionOptions {
  quorum: Quorum;
  /** Holds the lock-guarded counters (not part of the quorum). */
  resource: RunOptions['volume']['resource'];
  kind: 'mutex' | 'hilok';
  volume: RedlockVolume;
  /** Lease ttl (default 600 ms); the partition lasts 3 ttls. */
  ttl?: number;
  instanceTimeout?: number;
}

/**
 * (R4) Partition with extensions on, Redlock: client A's Redlock reaches the five instances
 * through proxies of its own and holds the lock in `using()` / `withWrite()` (extending every
 * ttl/3), acting on it until its signal aborts; a random majority (3–5) of A's proxies then
 * blackholes for 3 ttls while two Redlocks connected directly to the instances contend (one
 * attempt per acquire, 2–17 ms back-off). The load contends through the quorum's own proxies
 * (not faulted here). Expected: as for (8) — A's signal aborts within its validity, before any
 * contender is granted a majority (signal lead ≥ 0); a contender gets it during the partition;
 * no lost update; no key left.
 */
export async function redlockPartition(o: RedlockPartitionOptions): Promise<RedlockReport> {
  const q = o.quorum;
  const ttl = o.ttl ?? 600;
  const instanceTimeout = o.instanceTimeout ?? 200;
  const blackholeMs = 3 * ttl;
  const rec = new Recorder('parent');
  const failures: string[] = [];
  const proxies: TcpProxy[] = await Promise.all(q.servers.map((s) => startProxy({ targetPort: s.port })));
  const holderName = `A-redlock-${o.kind}`;
  const holder = new Redlock(
    proxies.map((p) => {
      const r = new Redis(p.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
      r.on('error', () => undefined);
      return createIoredisAdapter(r, { ownsClient: true });
    }),
    { closeAdapters: true, ttl, instanceTimeout, retryCount: 0 },
  );
  const direct = q.servers.map((s) => s.url);
  const contenders = ['B', 'C'].map((n) => redlockClient(`${n}-redlock-${o.kind}`, rec, direct, { ttl, instanceTimeout }));
  const counters = new CounterStore(o.resource.url);
  const counterKeys: string[] = [];
  const rounds: PartitionRound[] = [];
  let load: RunningLoad | undefined;
  let finals: Record<string, number> = {};
  let iterations = 0;
  const tag = `rlp${o.kind[0]}-`;
  try {
    await warmUp(() => holder.lock(`${tag}warm`).then((l) => l.release()));
    load = await startLoad(rec, redlockLoadSpec(q, o.resource, o.kind, o.volume, 2_000, 100, `${tag}load-`), o.volume);
    iterations = await repeatFault({ min: o.volume.minIterations, acquisitions: o.volume.acquisitions, maxMs: o.volume.maxMs, load }, async (i) => {
      const { a, b } = targetsFor(o.kind, `${tag}s${i}`);
      const group: LoadGroup = { targets: o.kind === 'mutex' ? [a] : [a, b], counterKey: `faults-counter:${tag}s${i}` };
      counterKeys.push(group.counterKey);
      await counters.reset([group.counterKey]);
      const cut = shuffle([0, 1, 2, 3, 4]).slice(0, 3 + Math.floor(Math.random() * 3));
      const takeAndRun: TakeAndRun = (body) => (a.kind === 'mutex' ? holder.using(a.resource, (s, l) => body(s, l), { ttl }) : holder.withWrite(a.resource, (s, l) => body(s, l), { ttl }));
      rounds.push(
        await partitionRound(rec, {
          holderName,
          target: a,
          group,
          counters,
          contenders: contenders.map(asLoadClient),
          ttl,
          blackholeMs,
          graceMs: ttl + 2_000,
          blackhole: (on) => {
            for (const k of cut) {
              (proxies[k] as TcpProxy).blackhole(on);
              if (!on) (proxies[k] as TcpProxy).reset();
            }
          },
          takeAndRun,
          validUntil: (l) => (l as unknown as Partial<RedlockLease>).validUntil,
        }),
      );
      // Let A's connections come back before the next round.
      await sleep(300);
    });
  } finally {
    finals = { ...(load ? (await load.stop()).counters : {}) };
    await holder.close();
    await Promise.all(contenders.map((c) => c.close()));
    await Promise.allSettled(proxies.map((p) => p.stop()));
    finals = { ...finals, ...(await counters.values(counterKeys)) };
    counters.close();
  }
  const keysLeft = await waitKeys(q.servers, ttl + 1_000);
  if (keysLeft > 0) failures.push(`${keysLeft} key(s) left after quiescence`);
  const check = checkHistory(rec.events, { counters: finals });
  const notes = { ...judge(rounds, check, 'A-', ttl, failures), blackholeMs, faultIterations: iterations };
  return { scenario: 'redlock partition with extensions on (majority of the holder\'s links cut)', kind: o.kind, check, failures, notes, keysLeft };
}
