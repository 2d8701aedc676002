import { ClosedError, InvalidArgumentError, type PathRequest, type RedisAdapter } from '@hilok/core';
import {
  Registry,
  checkDuration,
  checkName,
  checkOptions,
  checkPermits,
  checkSignal,
  mutexNames,
  pathKeys,
  readMutexInspect,
  readSemaphoreStatus,
  runScoped,
  treeParts,
  type OptionKeys,
  type PathPart,
  type RegistrySlot,
} from '@hilok/core/internal';
import { QuorumError } from './errors.js';
import { QuorumEngine, type Acquired, type RetryPolicy } from './engine.js';
import { hilokAllKind, hilokKind, mutexAllKind, mutexInspect, mutexKind, type LockKind } from './kinds.js';
import { RedlockHold, RedlockLease, keepExtending, type OnEnd } from './lease.js';
import {
  checkAdapters,
  checkInteger,
  checkTtlAgainst,
  MAX_RETRY_COUNT,
  resolveOptions,
  type RedlockOptions,
  type ResolvedOptions,
} from './options.js';
import { Instances } from './quorum.js';
import {
  semaphoreKind,
  semaphoreQuorumOf,
  semaphoreStatusCall,
  splitPermitOptions,
  summariseSemaphore,
  type RedlockSemaphoreStatus,
  type SemaphoreLockOptions,
  type SemaphoreUsingOptions,
} from './semaphore-kind.js';

/** Per-call options of {@link Redlock.lock}, {@link Redlock.read} and {@link Redlock.write}. */
export interface LockOptions {
  /** Lease ttl in ms (default: the Redlock's `ttl`). */
  ttl?: number;
  /** Override the Redlock's `retryCount` for this call (0 = one attempt only). */
  retryCount?: number;
  /** Override the Redlock's `retryDelayMin`. */
  retryDelayMin?: number;
  /** Override the Redlock's `retryDelayMax`. */
  retryDelayMax?: number;
  /** Cancels the acquire between attempts; it rejects with the signal's reason (holds are released first). */
  signal?: AbortSignal;
}

/** The keys of {@link LockOptions}: unknown keys are an `InvalidArgumentError`. */
const LOCK_OPTION_KEYS = { ttl: true, retryCount: true, retryDelayMin: true, retryDelayMax: true, signal: true } as const satisfies OptionKeys<LockOptions>;

/** Options of the scoped helpers {@link Redlock.using}, {@link Redlock.withRead}, {@link Redlock.withWrite}. */
export interface UsingOptions extends LockOptions {
  /** Extend the lease every this many ms while the body runs (default ttl/3; must be < ttl). */
  extendInterval?: number;
}

/** The keys of {@link UsingOptions}: unknown keys are an `InvalidArgumentError`. */
const USING_OPTION_KEYS = { ...LOCK_OPTION_KEYS, extendInterval: true } as const satisfies OptionKeys<UsingOptions>;

/** The keys of `Redlock.semaphoreStatus`'s options. */
const STATUS_OPTION_KEYS = { limit: true } as const satisfies OptionKeys<{ limit: number }>;

/** Options of {@link Redlock.fromUrls}. */
export interface FromUrlsOptions extends RedlockOptions {
  /**
   * Makes an adapter for one URL, e.g. `(url) => createIoredisAdapter(url)` from
   * `@hilok/ioredis` — which is why `@hilok/redlock` depends on no driver.
   */
  connect: (url: string) => RedisAdapter;
}

/**
 * Redlock: locks held on a majority of N independent Redis instances, so the lock survives
 * the loss of a minority. Besides the exclusive lock of the Redlock spec (`lock`), the
 * read/write locks on paths of core's `HiLok` run on the quorum too (`read`, `write`): two
 * conflicting holds would each need a majority, and two majorities always share an instance,
 * whose own script refuses the second.
 *
 * ```ts
 * const redlock = new Redlock([createIoredisAdapter(a), createNodeRedisAdapter(b), createIoredisAdapter(c)]);
 * await using lease = await redlock.lock('invoice:42', { ttl: 10_000 });
 * ```
 *
 * Errors: `LockBusyError` when the instances answered and someone else holds it,
 * {@link QuorumError} (a `RedisUnavailableError`) when too few instances answered,
 * `LockLostError` when validity ran out, `InvalidArgumentError` before any Redis call.
 */
export class Redlock implements AsyncDisposable {
  /** The validated options in force. */
  readonly options: Readonly<ResolvedOptions>;
  private readonly engine: QuorumEngine;
  private readonly instances: Instances;
  /** Leases still held, released by close() (a Registry: one add and one delete per lock). */
  private readonly leases = new Registry<RedlockLease>();
  private readonly closing = new AbortController();
  private closed?: Promise<void>;

  /**
   * @param adapters - one `RedisAdapter` per independent Redis instance (drivers may be mixed);
   *   an odd number (3, 5) is best: 4 tolerates no more failures than 3
   * @param options - see {@link RedlockOptions}
   * @throws InvalidArgumentError for an empty list, a non-adapter, a duplicate, or bad options
   */
  constructor(adapters: readonly RedisAdapter[], options?: RedlockOptions) {
    const list = checkAdapters(adapters);
    this.options = Object.freeze(resolveOptions(options, false));
    this.instances = new Instances(list, this.options.instanceTimeout);
    this.engine = new QuorumEngine(this.instances, this.options.driftFactor, this.options.app);
  }

  /**
   * A Redlock over the instances at `urls`, each connected with `connect`. The adapters belong
   * to this Redlock: `close()` closes them (unless `closeAdapters: false`).
   *
   * ```ts
   * import { createIoredisAdapter } from '@hilok/ioredis';
   * const redlock = Redlock.fromUrls(urls, { connect: createIoredisAdapter });
   * ```
   */
  static fromUrls(urls: readonly string[], options: FromUrlsOptions): Redlock {
    const o = checkOptions<FromUrlsOptions>(options, null);
    if (typeof o.connect !== 'function') throw new InvalidArgumentError('connect', 'expected a function (url) => RedisAdapter');
    if (!Array.isArray(urls) || urls.length === 0 || urls.some((u) => typeof u !== 'string' || u.length === 0)) {
      throw new InvalidArgumentError('urls', 'expected a non-empty array of Redis URLs');
    }
    if (new Set(urls).size !== urls.length) throw new InvalidArgumentError('urls', 'the same URL appears twice; each must be a different instance');
    const { connect, ...rest } = o;
    // Validate the options before connecting anything, so bad input opens no connection.
    resolveOptions(rest, true);
    const adapters: RedisAdapter[] = [];
    try {
      for (const url of urls) adapters.push(connect(url));
      return new Redlock(adapters, { closeAdapters: true, ...rest });
    } catch (err) {
      for (const a of adapters) a.close().catch(() => undefined);
      throw err;
    }
  }

  /** Number of instances. */
  get size(): number {
    return this.instances.size;
  }

  /** Instances that must agree: ⌊N/2⌋ + 1. */
  get quorum(): number {
    return this.instances.quorum;
  }

  /**
   * Upper bound in ms of a failing `lock()` with these settings: every attempt waits at most
   * one instance timeout for the grants and one for the clean-up release, plus the longest
   * pause between attempts.
   */
  maxAcquireTime(options?: Pick<LockOptions, 'retryCount' | 'retryDelayMax'>): number {
    const retryCount = options?.retryCount ?? this.options.retryCount;
    const delayMax = options?.retryDelayMax ?? this.options.retryDelayMax;
    return (retryCount + 1) * 2 * this.options.instanceTimeout + retryCount * delayMax;
  }

  /**
   * Take the exclusive lock `resource` on a majority (aioredlock's `lock`) — or every name of an
   * array as one lease, all or none on each instance (node-redlock's `acquire([...])`; sorted,
   * deduplicated, at most `MAX_MUTEX_NAMES`): an instance counts only if it granted them all, and
   * an instance that could not never keeps a part. The same keys as `Mutex`'s single names.
   * @throws LockBusyError when it is held by someone else after all retries
   * @throws QuorumError when too few instances answered (or validity ran out)
   * @throws InvalidArgumentError before any Redis call
   */
  lock(resource: string | readonly string[], options?: LockOptions): Promise<RedlockLease> {
    let kind: (token: string) => LockKind;
    let call: ResolvedCall;
    try {
      const { prefix } = this.options;
      if (typeof resource !== 'string' && Array.isArray(resource)) {
        // Several names, all or none on each instance (one script per instance): sorted, distinct.
        const names = mutexNames(resource as readonly unknown[], 'resource');
        kind = (token) => mutexAllKind(prefix, names, token);
      } else {
        const name = checkName(resource, 'resource');
        kind = (token) => mutexKind(prefix, name, token);
      }
      call = this.resolveCall(options);
    } catch (err) {
      // Bad input rejects (before any Redis call), like every other failure of lock().
      return Promise.reject(err);
    }
    const { instanceTimeout } = this.options;
    return this.acquire(
      kind,
      call,
      (acquired, onEnd) => new RedlockLease(this.engine, acquired, call.ttl, instanceTimeout, onEnd),
    );
  }

  /**
   * Take a read hold on `path` (core's hierarchical lock: reads coexist; a write on the path,
   * an ancestor or a descendant conflicts) on a majority.
   */
  async read(path: string, options?: LockOptions): Promise<RedlockHold> {
    return this.hold('read', path, options);
  }

  /** Take a write hold on `path`: excludes every hold on the path, its ancestors and its subtree, on a majority. */
  async write(path: string, options?: LockOptions): Promise<RedlockHold> {
    return this.hold('write', path, options);
  }

  /**
   * Take several holds — reads and writes on paths of one or several trees — as one lease on the
   * quorum, all or none (core's `hilok/acquire-all.lua`, as `HiLok.acquire`). The parts are
   * checked and merged as in `HiLok.acquire` (the same path twice: write wins; a covered
   * descendant merged; a write below a read rejected). The parts of one tree are taken by one
   * script call per instance: an instance counts only if it granted every part of the tree.
   * Several trees are taken one after the other in the order of their tree keys (every caller's
   * order, so two callers naming overlapping sets in any order never each hold what the other
   * waits for), each on its own quorum with the retries of `lock`; the trees taken so far are
   * extended while a later one is being taken, and released before the call rejects if a later
   * one fails. The lease is one: `extend` and `release` go to every tree (each on its own
   * quorum), its validity ends with the earliest tree's, its signal aborts if any tree is lost
   * (the other trees are then released at once), and `fence` is the largest. A failing call
   * with `n` trees ends within about `n` × `maxAcquireTime()` (each tree's attempts) plus one
   * instance timeout (the give-back). Never queues: it retries like `lock`.
   * @throws LockBusyError when a part is held by someone else after all retries
   * @throws QuorumError when too few instances answered (or validity ran out)
   * @throws LockLostError when a tree taken earlier was lost while a later one was being taken
   * @throws InvalidArgumentError before any Redis call
   */
  lockPaths(parts: readonly PathRequest[], options?: LockOptions): Promise<RedlockLease> {
    let kinds: ((token: string) => LockKind)[];
    let call: ResolvedCall;
    try {
      const { prefix, separator } = this.options;
      const checked = treeParts(parts, separator, 'parts');
      // One group of parts per tree, the trees in the order of their state key (as HiLok's).
      const byTree = new Map<string, PathPart[]>();
      for (const p of checked) {
        const key = pathKeys(prefix, separator, p.segments).keys[0];
        const tree = byTree.get(key);
        if (tree) tree.push(p);
        else byTree.set(key, [p]);
      }
      kinds = [...byTree.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, tree]) => (token: string) => hilokAllKind(prefix, separator, tree, token));
      call = this.resolveCall(options);
    } catch (err) {
      return Promise.reject(err);
    }
    const { instanceTimeout } = this.options;
    return this.acquire(kinds.length === 1 ? (kinds[0] as (token: string) => LockKind) : kinds, call, (acquired, onEnd) => new RedlockLease(this.engine, acquired, call.ttl, instanceTimeout, onEnd));
  }

  /** {@link Redlock.using} with a multi-path hold on one or several trees ({@link Redlock.lockPaths}). */
  async usingPaths<T>(parts: readonly PathRequest[], fn: (signal: AbortSignal, lease: RedlockLease) => T | Promise<T>, options?: UsingOptions): Promise<T> {
    const interval = this.checkScoped(fn, options);
    return runScoped(extended(await this.lockPaths(parts, lockOptions(options)), interval), fn);
  }

  /**
   * Take `permits` (default 1) of the counting semaphore `name` of size `limit` on the quorum:
   * core's `Semaphore` scripts on every instance, each instance counting its own holds. The hold
   * must be granted by `semaphoreQuorumOf(N, limit)` instances — a majority for `limit` 1, more
   * above, since with a mere majority `limit + 1` holds could each find room on a different
   * majority. Never queues (no pub/sub on a quorum): it retries like `lock`.
   * @throws LockBusyError when too few instances had room after all retries
   * @throws QuorumError when too few instances answered (or validity ran out)
   * @throws InvalidArgumentError before any Redis call (bad limit, permits > limit, unknown keys)
   */
  semaphore(name: string, options: SemaphoreLockOptions): Promise<RedlockLease> {
    let p: ReturnType<typeof splitPermitOptions>;
    let call: ResolvedCall;
    try {
      p = splitPermitOptions(name, options);
      call = this.resolveCall(p.rest);
    } catch (err) {
      return Promise.reject(err);
    }
    const { prefix, instanceTimeout } = this.options;
    const { limit, permits } = p;
    return this.acquire(
      (token) => semaphoreKind(prefix, p.name, token, permits, limit, this.size),
      call,
      (acquired, onEnd) => new RedlockLease(this.engine, acquired, call.ttl, instanceTimeout, onEnd),
    );
  }

  /**
   * Run `fn(signal, lease)` holding `permits` of the semaphore `name` (size `limit`) on the
   * quorum, extending the lease every `extendInterval` while it runs, and release it after — the
   * contract of {@link Redlock.using} and of core's `Semaphore.withPermits`: an exception from
   * `fn` propagates unchanged (a release failure never masks it); after a clean exit a failed
   * release throws `LockReleaseError`, and a lease lost meanwhile throws its `LockLostError`.
   * @throws InvalidArgumentError before any Redis call (bad name, limit, permits, options, or `fn`)
   */
  async withPermits<T>(name: string, fn: (signal: AbortSignal, lease: RedlockLease) => T | Promise<T>, options: SemaphoreUsingOptions): Promise<T> {
    const { limit, permits, rest } = splitPermitOptions(name, options);
    const interval = this.checkScoped(fn, rest);
    return runScoped(extended(await this.semaphore(name, { ...lockOptions(rest), limit, permits }), interval), fn);
  }

  /**
   * The semaphore `name` of size `limit` on every instance (core's status script: expired holds
   * are purged first), and what the quorum agrees on: each hold with the instances that have it
   * and whether that reaches `semaphoreQuorumOf(N, limit)` (a valid hold), and `available`, the
   * most permits a new hold could be granted on a quorum now. Instances that did not answer are
   * listed with their error.
   * @throws QuorumError when fewer than a majority of the instances answered (nothing can be told)
   * @throws InvalidArgumentError before any Redis call (bad name, a limit that is not a whole number ≥ 1, unknown keys)
   */
  async semaphoreStatus(name: string, options: { limit: number }): Promise<RedlockSemaphoreStatus> {
    const resource = checkName(name, 'name');
    const o = checkOptions<{ limit: number }>(options, STATUS_OPTION_KEYS);
    const { limit } = checkPermits(o.limit, 1);
    this.assertOpen();
    const answers = await this.instances.all(semaphoreStatusCall(this.options.prefix, resource), readSemaphoreStatus);
    const failures = this.instances.failures(answers);
    const answered = answers.length - failures.length;
    if (answered < this.quorum) throw new QuorumError(resource, 'semaphoreStatus', answered, this.quorum, failures, 'cannot tell');
    return summariseSemaphore(answers, limit, semaphoreQuorumOf(this.size, limit), failures);
  }

  /**
   * Whether a majority of instances report `resource` held (by anyone). A hold present on only
   * a minority (a failing acquire, or leftovers of an expired hold) is not a lock.
   * @throws QuorumError when fewer than a majority answered
   */
  async isLocked(resource: string): Promise<boolean> {
    const name = checkName(resource, 'resource');
    this.assertOpen();
    const answers = await this.instances.all(mutexInspect(this.options.prefix, name), (reply) => readMutexInspect(reply) !== null); // count 0: queued waiters, no hold
    const answered = answers.filter((a) => a.ok).length;
    if (answered < this.quorum) {
      throw new QuorumError(name, 'isLocked', answered, this.quorum, this.instances.failures(answers), 'cannot tell');
    }
    return answers.filter((a) => a.ok && a.value).length >= this.quorum;
  }

  /** Same as `lease.extend(ttl)` (aioredlock's `lock_manager.extend(lock)`). */
  async extend(lease: RedlockLease, ttl?: number): Promise<void> {
    if (!(lease instanceof RedlockLease)) throw new InvalidArgumentError('lease', 'expected a lease of a Redlock');
    await lease.extend(ttl);
  }

  /** Same as `lease.release()` (aioredlock's `lock_manager.unlock(lock)`). */
  async unlock(lease: RedlockLease): Promise<boolean> {
    if (!(lease instanceof RedlockLease)) throw new InvalidArgumentError('lease', 'expected a lease of a Redlock');
    return lease.release();
  }

  /**
   * Run `fn(signal, lease)` holding `resource`, extending the lease every `extendInterval` while
   * it runs. `signal` aborts if the lease is lost; `lease` gives the fence and the clock-true
   * check (`lease.valid` / `lease.throwIfLost()`) to make before each side effect, since the
   * signal may lag a process pause by one timer tick. An exception from `fn` propagates unchanged —
   * a release failure never masks it (it is kept in the lease's `releaseError`); after a clean
   * exit, a failed release throws `LockReleaseError`, and a lease lost meanwhile throws its
   * `LockLostError` (the body was not protected to the end).
   */
  async using<T>(resource: string | readonly string[], fn: (signal: AbortSignal, lease: RedlockLease) => T | Promise<T>, options?: UsingOptions): Promise<T> {
    const interval = this.checkScoped(fn, options);
    return runScoped(extended(await this.lock(resource, lockOptions(options)), interval), fn);
  }

  /** {@link Redlock.using} with a read hold on `path` (`fn` gets the signal and the {@link RedlockHold}). */
  async withRead<T>(path: string, fn: (signal: AbortSignal, hold: RedlockHold) => T | Promise<T>, options?: UsingOptions): Promise<T> {
    const interval = this.checkScoped(fn, options);
    return runScoped(extended(await this.read(path, lockOptions(options)), interval), fn);
  }

  /** {@link Redlock.using} with a write hold on `path` (`fn` gets the signal and the {@link RedlockHold}). */
  async withWrite<T>(path: string, fn: (signal: AbortSignal, hold: RedlockHold) => T | Promise<T>, options?: UsingOptions): Promise<T> {
    const interval = this.checkScoped(fn, options);
    return runScoped(extended(await this.write(path, lockOptions(options)), interval), fn);
  }

  /**
   * Release every lease still held (best effort, never throws), make pending acquires reject
   * with `ClosedError`, and close the adapters if this Redlock owns them (aioredlock's
   * `destroy`). Idempotent.
   */
  close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort(new ClosedError());
      await Promise.all(this.leases.values().map((l) => l.releaseQuietly()));
      // Releases decided early may still be running on a slow instance: let them finish.
      await this.instances.drain();
      if (this.options.closeAdapters) await Promise.allSettled(this.instances.adapters.map((a) => a.close()));
    })();
    return this.closed;
  }

  /** Same as {@link Redlock.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async hold(mode: 'read' | 'write', path: string, options?: LockOptions): Promise<RedlockHold> {
    checkName(path, 'path');
    const call = this.resolveCall(options);
    const { prefix, separator, instanceTimeout } = this.options;
    hilokKind(prefix, separator, path, mode, 'validate'); // path errors before any Redis call
    return this.acquire(
      (token) => hilokKind(prefix, separator, path, mode, token),
      call,
      (acquired, onEnd) => new RedlockHold(this.engine, acquired, call.ttl, instanceTimeout, onEnd, mode),
    );
  }

  /**
   * Acquire on the quorum — one kind, or several one after the other as one group
   * (`QuorumEngine.acquireGroup`) — and wrap the hold with `wrap` — tracked for close() — in the
   * same reaction.
   */
  private acquire<L extends RedlockLease>(makeKind: ((token: string) => LockKind) | readonly ((token: string) => LockKind)[], call: ResolvedCall, wrap: (acquired: Acquired, onEnd: OnEnd) => L): Promise<L> {
    const signal = call.signal ? AbortSignal.any([call.signal, this.closing.signal]) : this.closing.signal;
    // The caller's signal is its deadline: it also stops waiting for an attempt in flight.
    const attemptSignal = call.signal ? signal : undefined;
    const acquiring = typeof makeKind === 'function' ? this.engine.acquire(makeKind, call.ttl, call, signal, attemptSignal) : this.engine.acquireGroup(makeKind, call.ttl, call, signal, attemptSignal);
    return acquiring.then((acquired) => {
      if (this.closing.signal.aborted) {
        // Closed while the winning attempt was in flight: nobody will ever use this hold.
        return this.engine.release(acquired.kind).then(
          () => Promise.reject(new ClosedError()),
          () => Promise.reject(new ClosedError()),
        );
      }
      let tracked: RegistrySlot<RedlockLease> | undefined;
      const lease = wrap(acquired, () => {
        if (tracked) this.leases.delete(tracked);
      });
      if (lease.valid) tracked = this.leases.add(lease);
      return lease;
    });
  }

  private resolveCall(options: unknown): ResolvedCall {
    this.assertOpen();
    const o = checkOptions<LockOptions>(options, LOCK_OPTION_KEYS);
    const ttl = o.ttl === undefined ? this.options.ttl : checkDuration(o.ttl, 'ttl');
    checkTtlAgainst(ttl, this.options.instanceTimeout, this.options.driftFactor);
    const retryCount = o.retryCount === undefined ? this.options.retryCount : checkInteger(o.retryCount, 'retryCount', 0, MAX_RETRY_COUNT);
    const retryDelayMin = o.retryDelayMin === undefined ? this.options.retryDelayMin : checkInteger(o.retryDelayMin, 'retryDelayMin', 0, 2 ** 31 - 1);
    const retryDelayMax =
      o.retryDelayMax === undefined ? Math.max(this.options.retryDelayMax, retryDelayMin) : checkInteger(o.retryDelayMax, 'retryDelayMax', 0, 2 ** 31 - 1);
    if (retryDelayMax < retryDelayMin) throw new InvalidArgumentError('retryDelayMax', `must be >= retryDelayMin (${retryDelayMin})`);
    return { ttl, retryCount, retryDelayMin, retryDelayMax, signal: checkSignal(o.signal) };
  }

  private checkScoped(fn: unknown, options: UsingOptions | undefined): number {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'expected a function');
    const o = checkOptions<UsingOptions>(options, USING_OPTION_KEYS);
    const ttl = o.ttl === undefined ? this.options.ttl : checkDuration(o.ttl, 'ttl');
    if (o.extendInterval === undefined) return Math.max(1, Math.floor(ttl / 3));
    const interval = checkDuration(o.extendInterval, 'extendInterval');
    if (interval >= ttl) throw new InvalidArgumentError('extendInterval', `must be shorter than the ttl (${ttl} ms)`);
    return interval;
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new ClosedError();
  }
}

/** `lease`, extended every `interval` ms until the scope releases it. */
function extended<L extends RedlockLease>(lease: L, interval: number): L {
  lease[keepExtending](interval);
  return lease;
}

/** The acquire options of a scoped call (checked by `checkScoped`): without `extendInterval`, which the acquire does not take. */
function lockOptions(options: UsingOptions | undefined): LockOptions | undefined {
  if (options === undefined || !('extendInterval' in options)) return options;
  const { extendInterval: _, ...rest } = options;
  return rest;
}

interface ResolvedCall extends RetryPolicy {
  ttl: number;
  signal: AbortSignal | undefined;
}

