import { Redis } from 'ioredis';
import { FairLock, HiLok, Mutex, MultiHold, RedisUnavailableError, LockBusyError, Semaphore, type Lease } from '@hilok/ioredis';
import { multiTarget, pathsTarget, semaphoreTarget, targetFields, type LockTarget } from './conflict.js';
import { now, toEpoch, type Recorder } from './recorder.js';
import { recordGrant, recordRelease, rmwIncrement } from './client.js';
import type { SharedCounter } from './resource.js';

/** Options of one recorded acquire. */
export interface ActorAcquireOptions {
  ttl: number;
  /** Overall wait (default: a single non-blocking attempt when 0). */
  timeout?: number;
  autoRenew?: boolean | number;
  /** Mutex targets: take them with the {@link FairLock} (FIFO queue) instead of the barging {@link Mutex}. */
  fair?: boolean;
}

/** Options of an {@link Actor}. */
export interface ActorOptions {
  /** Redis URL (possibly a fault proxy's). */
  url: string;
  /** Key prefix of the locks (default `faults:`). */
  prefix?: string;
  /** The managers' `commandTimeout` (default 1 000 ms). */
  commandTimeout?: number;
  /** Slack added to every call's bound (default 1 000 ms): generous, never a speed assertion. */
  slack?: number;
}

/** A recorded hold: the lease and the id correlating its events. */
export interface ActorHold {
  lease: Lease;
  hold: string;
  target: LockTarget;
}

/**
 * One client of the lock: its own ioredis connection, a {@link Mutex} and a {@link HiLok} on it,
 * and a {@link Recorder} that logs every call (invoke, outcome, fence, lease validity, loss)
 * together with the bound the call must end within.
 */
export class Actor {
  readonly redis: Redis;
  readonly mutex: Mutex;
  readonly hilok: HiLok;
  readonly fair: FairLock;
  readonly semaphore: Semaphore;
  readonly commandTimeout: number;
  private readonly slack: number;

  /** @param name - client name in the history; @param rec - where events go */
  constructor(
    readonly name: string,
    readonly rec: Recorder,
    options: ActorOptions,
  ) {
    this.commandTimeout = options.commandTimeout ?? 1_000;
    this.slack = options.slack ?? 1_000;
    this.redis = new Redis(options.url, { maxRetriesPerRequest: null, retryStrategy: () => 50, lazyConnect: false });
    this.redis.on('error', () => undefined);
    const prefix = options.prefix ?? 'faults:';
    this.mutex = new Mutex(this.redis, { prefix, commandTimeout: this.commandTimeout });
    this.hilok = new HiLok(this.redis, { prefix, commandTimeout: this.commandTimeout });
    this.fair = new FairLock(this.redis, { prefix, commandTimeout: this.commandTimeout });
    this.semaphore = new Semaphore(this.redis, { prefix, commandTimeout: this.commandTimeout });
  }

  /** Bound of an acquire with this timeout: timeout + one command timeout + slack. */
  acquireBound(timeout: number): number {
    return timeout + this.commandTimeout + this.slack;
  }

  /**
   * Acquire `target`, recording the attempt. Resolves with the hold, or `null` when busy, when
   * Redis failed, or when the outcome is unknown (recorded as indeterminate). Never throws.
   */
  async acquire(target: LockTarget, o: ActorAcquireOptions): Promise<ActorHold | null> {
    const hold = this.rec.nextHold();
    const timeout = o.timeout ?? 0;
    const startedAt = now();
    const base = { client: this.name, hold, ...targetFields(target) };
    this.rec.record({ ...base, type: 'acquire:invoke' });
    const opts = { ttl: o.ttl, timeout, block: timeout > 0, autoRenew: o.autoRenew ?? false };
    try {
      const lease =
        target.kind === 'semaphore'
          ? await this.semaphore.acquire(target.resource, { ...opts, limit: target.limit ?? 1, permits: target.permits ?? 1 })
          : target.kind === 'mutex'
            ? target.names !== undefined
              ? await this.mutex.acquire(target.names, opts)
              : await (o.fair ? this.fair : this.mutex).acquire(target.resource, opts)
            : target.parts !== undefined
              ? await this.hilok.acquire(target.parts, opts)
              : await (target.mode === 'read' ? this.hilok.read(target.resource, opts) : this.hilok.write(target.resource, opts));
      // A multi-path hold: its parts as granted (merged), each with its own fence.
      const granted = lease instanceof MultiHold ? { ...base, parts: lease.parts.map((p) => ({ path: p.path, mode: p.mode, fence: p.fence })) } : base;
      recordGrant(this.rec, granted, lease, toEpoch(lease.expiresAt));
      return { lease, hold, target };
    } catch (err) {
      const indeterminate = err instanceof RedisUnavailableError || (err instanceof LockBusyError && err.reason === 'timeout');
      this.rec.record({ ...base, type: 'acquire:fail', indeterminate, detail: (err as { code?: string }).code ?? String(err) });
      return null;
    } finally {
      this.rec.record({ client: this.name, type: 'call', detail: `acquire ${target.kind} ${target.resource}`, startedAt, bound: this.acquireBound(timeout) });
    }
  }

  /** Extend a hold, recording the new validity. Never throws; resolves whether it is still ours. */
  async extend(h: ActorHold, ttl?: number): Promise<boolean> {
    const startedAt = now();
    try {
      await h.lease.extend(ttl);
      this.rec.record({ client: this.name, hold: h.hold, type: 'extend:ok', validUntil: toEpoch(h.lease.expiresAt) });
      return true;
    } catch (err) {
      this.rec.record({ client: this.name, hold: h.hold, type: 'extend:fail', detail: (err as { code?: string }).code ?? String(err) });
      return false;
    } finally {
      this.rec.record({ client: this.name, type: 'call', detail: 'extend', startedAt, bound: this.commandTimeout + this.slack });
    }
  }

  /** Release a hold, recording it. Never throws; resolves with `release()`'s result or `null` on failure. */
  release(h: ActorHold): Promise<boolean | null> {
    // The client stops acting on the lock here (the hold ends at this call for the checker).
    return recordRelease(this.rec, this.name, h.hold, h.lease, h.lease.expiresAt, this.commandTimeout + this.slack);
  }


  /**
   * A lock-guarded action: only while the hold is still valid on our clock (a client that knows
   * its lease ran out must not act). Records `write:ok` with the hold's fence.
   */
  async guarded(h: ActorHold, action: () => Promise<number>): Promise<boolean> {
    if (!h.lease.held) return false;
    const value = await action();
    this.rec.record({ client: this.name, hold: h.hold, type: 'write:ok', fence: h.lease.fence, value });
    return true;
  }

  /** Read-modify-write of a shared counter under the hold (see {@link rmwIncrement}). */
  increment(h: ActorHold, counter: SharedCounter, gapMs = 2): Promise<boolean> {
    return rmwIncrement(this.rec, this.name, h.hold, h.lease.fence, () => h.lease.held, counter, gapMs);
  }

  /** Close the managers and the connection. */
  async close(): Promise<void> {
    await Promise.allSettled([this.mutex.close(), this.hilok.close(), this.fair.close(), this.semaphore.close()]);
    this.redis.disconnect();
  }
}

/**
 * The lock kinds the scenarios run: the checker's kinds, plus `multi` (a multi-name Mutex hold,
 * all or none) and `paths` (a HiLok multi-path hold: reads and writes on paths of one or two
 * trees, all or none — `hilok.acquire([...])`, `redlock.lockPaths([...])`).
 */
export type ScenarioKind = 'mutex' | 'hilok' | 'semaphore' | 'multi' | 'paths';

/** A one-letter code per kind, for the scenarios' lock and counter names (`mutex` and `multi` share an initial). */
export function kindTag(kind: ScenarioKind | 'fair'): string {
  return { mutex: 'm', hilok: 'h', semaphore: 's', multi: 'n', paths: 'p', fair: 'f' }[kind];
}

/** The semaphore limit of the scenarios' and the load's semaphore targets. */
export const SEMAPHORE_LIMIT = 3;

/**
 * The lock targets of a scenario for each kind: a conflicting pair (mutex: same name; HiLok:
 * ancestor write vs descendant read; semaphore: every permit vs one more; multi: two pairs of
 * names sharing one, listed in opposite orders; paths: two multi-path holds over the trees
 * `base` and `base.u`, each conflicting with the other in both trees).
 */
export function targetsFor(kind: ScenarioKind, base: string): { a: LockTarget; b: LockTarget } {
  if (kind === 'paths') {
    return {
      a: pathsTarget([{ path: `${base}/x/y`, mode: 'write' }, { path: `${base}.u/z`, mode: 'read' }]),
      b: pathsTarget([{ path: `${base}.u/z`, mode: 'write' }, { path: base, mode: 'read' }]),
    };
  }
  if (kind === 'semaphore') return { a: semaphoreTarget(base, SEMAPHORE_LIMIT, SEMAPHORE_LIMIT), b: semaphoreTarget(base, 1, SEMAPHORE_LIMIT) };
  if (kind === 'multi') return { a: multiTarget([`${base}.x`, `${base}.y`]), b: multiTarget([`${base}.z`, `${base}.y`]) };
  return kind === 'mutex'
    ? { a: { kind, resource: base, mode: 'write' }, b: { kind, resource: base, mode: 'write' } }
    : { a: { kind, resource: `${base}/x/y`, mode: 'write' }, b: { kind, resource: base, mode: 'read' } };
}
