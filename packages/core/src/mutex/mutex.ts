import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError, RedisUnavailableError } from '../errors.js';
import { mutexAcquireAll, mutexExtend, mutexInspect, mutexRelease, mutexWithdraw } from '../generated/scripts.js';
import { keySlot } from '../engine/keys.js';
import type { OwnerInfo } from '../engine/owner.js';
import { monotonicNow, type Lease } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, MANAGER_OPTION_KEYS, resolveSpin, type AcquireOptions, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import type { HoldEngine, HoldInit, ProtocolHold } from '../engine/hold.js';
import { NamedLockManager } from '../engine/named-lock.js';
import { GroupsBackend, takeInOrder } from '../engine/in-order.js';
import { asArray } from '../engine/reply.js';
import { attemptRunOptions, type Attempt, type AttemptLimits, type SpinOptions, type WaitPlan } from '../engine/wait.js';
import type { RunOptions } from '../engine/script.js';
import { checkName, checkOptions, type OptionKeys } from '../validate.js';
import { acquireFlags, mutexAcquireAllArgs, mutexNames, mutexAcquireArgs, mutexChannel, mutexExtendArgs, mutexKeys, mutexProtocol, mutexReleaseArgs, readAcquireAll, readExtend, readMutexInspect, readRelease, retryFlags } from './protocol.js';

/**
 * Longest sleep of a queued waiter between attempts, in ms: each attempt renews its place in the
 * hand-off queue (which outlives it by 3 s), and a lost wake-up or a reservation its head let
 * lapse costs a sleeping waiter at most this long.
 */
const QUEUED_WAITER_NAP = 1_000;

export { MAX_MUTEX_NAMES } from './protocol.js';

/** Options of a {@link Mutex}. */
export interface MutexOptions extends ManagerOptions {
  /**
   * How a blocked acquire waits: `'pubsub'` (default) sleeps until the holder's release
   * publishes a wake-up, with a fallback at the holder's remaining ttl; `'spin'` polls with
   * exponential backoff and jitter (no subscription).
   */
  wait?: 'pubsub' | 'spin';
  /** Backoff of the spin strategy (defaults: 5 ms initial, ×2, 200 ms max). */
  spin?: Partial<SpinOptions>;
}

/** The keys of {@link MutexOptions}: unknown keys are an `InvalidArgumentError`. */
export const MUTEX_OPTION_KEYS = { ...MANAGER_OPTION_KEYS, wait: true, spin: true } as const satisfies OptionKeys<MutexOptions>;

/** Per-call options of {@link Mutex.acquire}. */
export interface MutexAcquireOptions extends AcquireOptions {
  /**
   * Owner token to hold the lock under (default: a fresh token naming this process, see
   * `parseOwner`). Acquiring with the token of
   * a current hold — from any process — re-takes that hold (refreshing its ttl) instead of
   * conflicting with it.
   */
  id?: string;
  /**
   * With `id`: the same owner may re-enter; each acquire increments a hold count and each
   * release decrements it; the lock frees when it reaches 0.
   */
  reentrant?: boolean;
}

/** The keys of {@link MutexAcquireOptions}: unknown keys are an `InvalidArgumentError`. */
export const MUTEX_ACQUIRE_OPTION_KEYS = { ...ACQUIRE_OPTION_KEYS, id: true, reentrant: true } as const satisfies OptionKeys<MutexAcquireOptions>;

/** What {@link Mutex.inspect} reports about a held mutex. */
export interface MutexInfo {
  /** Owner token of the hold. */
  owner: string;
  /** Fencing token of the hold. */
  fence: number;
  /** Hold count (above 1 only for reentrant holds). */
  count: number;
  /** Remaining ttl in ms, on the Redis server's clock. */
  ttl: number;
  /** Tokens of the acquires queued for a hand-off, first in line first. */
  waiters: string[];
  /** Who took the hold (`app`, host, pid, process start), read from `owner`; `undefined` for an `id` the caller chose. */
  ownerInfo: OwnerInfo | undefined;
  /** When the hold was granted (a reentrant one: first entered), in ms on the Redis server's clock: read from the fence. */
  acquiredAt: number | undefined;
}

/**
 * An exclusive lock per name (the SET-NX lock of redis-lock-py, done in one Lua script).
 *
 * ```ts
 * const mutex = new Mutex(adapter, { ttl: 10_000 });
 * await using lock = await mutex.acquire('invoice:42', { timeout: 5_000 });
 * // ... critical section; pass lock.fence to the resource you protect
 * ```
 *
 * Each acquire, release and extend is one script = one round trip; calls made in the same tick
 * (many tasks taking their own locks) share one script call. A blocked acquire joins the lock's
 * hand-off queue in Redis and sleeps; each release wakes the head of the queue alone (in
 * whichever process it waits), and once the head has waited 5 ms the lock is reserved for it —
 * barging for throughput, a bounded wait for everyone (docs/mutex.md, "Waiting"; docs/waiting.md).
 */
export class Mutex extends NamedLockManager<MutexAcquireOptions> {
  protected readonly protocol = mutexProtocol;
  protected readonly acquireOptionKeys = MUTEX_ACQUIRE_OPTION_KEYS;
  private readonly strategy: 'pubsub' | 'spin';
  private readonly spin: SpinOptions;
  private readonly waiting: Partial<WaitPlan>;

  /** @param adapter - a driver adapter; @param options - see {@link MutexOptions} */
  constructor(adapter: RedisAdapter, options?: MutexOptions) {
    super(adapter, options);
    const o = checkOptions<MutexOptions>(options, MUTEX_OPTION_KEYS);
    if (o.wait !== undefined && o.wait !== 'pubsub' && o.wait !== 'spin') {
      throw new InvalidArgumentError('wait', `expected "pubsub" or "spin", got ${String(o.wait)}`);
    }
    this.strategy = o.wait ?? this.defaultStrategy();
    this.spin = resolveSpin(o.spin);
    this.waiting = { strategy: this.strategy, spin: this.spin };
  }

  /** The waiting strategy used when none is configured. */
  protected defaultStrategy(): 'pubsub' | 'spin' {
    return 'pubsub';
  }

  /** Whether `name` is currently held by anyone. */
  async isLocked(name: string): Promise<boolean> {
    return (await this.inspect(name)) !== null;
  }

  /** Who holds `name` (owner, fence, hold count, remaining ttl, queued waiters), or `null` when nobody holds it. Changes nothing. */
  async inspect(name: string): Promise<MutexInfo | null> {
    this.assertOpen();
    return readMutexInspect(await this.runner.run(mutexInspect, mutexKeys(this.prefix, checkName(name)), [], { timeoutMs: this.commandTimeout }));
  }

  /**
   * Acquire the lock on `name` — or on every name of an array, all or none: one lease, one fence,
   * one release and extend for all of them. Throws `LockBusyError` when `block: false` and held
   * or when `timeout` passed, `RedisUnavailableError` when Redis failed or did not answer, and
   * `InvalidArgumentError` for bad input, before any Redis call.
   * The names are sorted and deduplicated (at most {@link MAX_MUTEX_NAMES}). On one server a
   * single script takes every name or none; a blocked caller queues on the first busy name and
   * retries when that one is released. On a Redis Cluster the names are taken slot by slot in
   * ascending slot order (each slot's names in one script), the parts taken so far kept renewed
   * while waiting for the rest and released again if the rest fails: overlapping requests never
   * deadlock, whatever order their arrays list the names in. Not with `reentrant`.
   */
  override acquire(name: string | readonly string[], options?: MutexAcquireOptions): Promise<Lease> {
    return this.acquireLease(name, options, false);
  }

  /**
   * Try once: the lease if the lock (every name of an array: all or none) was available, `null`
   * if it is busy. Redis failures still throw `RedisUnavailableError`.
   */
  override tryAcquire(name: string | readonly string[], options?: Omit<MutexAcquireOptions, 'block' | 'blockingTimeout'>): Promise<Lease | null> {
    return super.tryAcquire(name as string, options);
  }

  /**
   * Run `fn` while holding `name` (or every name of an array, all or none), with the watchdog
   * renewing the lease; `fn` gets the lease's signal and the lease. An exception from `fn`
   * propagates unchanged; after a clean exit a failed release throws `LockReleaseError`.
   */
  override withLock<T>(name: string | readonly string[], fn: (signal: AbortSignal, lease: Lease) => T | Promise<T>, options?: MutexAcquireOptions): Promise<T> {
    return super.withLock(name as string, fn, options);
  }

  protected override acquireLease(name: string | readonly string[], options: MutexAcquireOptions | undefined, scoped: boolean): Promise<Lease> {
    if (typeof name !== 'string' && Array.isArray(name)) return this.acquireAll(name as readonly unknown[], options, scoped);
    return super.acquireLease(name as string, options, scoped);
  }

  protected holdInit(resource: string, call: ResolvedAcquire, o: MutexAcquireOptions): HoldInit {
    const token = this.newToken(o.id);
    const reentrant = o.reentrant ?? false;
    if (typeof reentrant !== 'boolean') throw new InvalidArgumentError('reentrant', 'expected a boolean');
    // A caller that will wait joins the hand-off queue when it finds the lock busy (see the
    // flags in mutex/acquire.lua); a one-shot attempt never queues.
    const queues = call.block && call.timeout > 0;
    const flags = acquireFlags(reentrant, queues && this.strategy);
    return { resource, keys: mutexKeys(this.prefix, resource), token, acquireArgs: mutexAcquireArgs(token, call.ttl, flags), queues, signal: call.signal };
  }

  protected waitOptions(hold: ProtocolHold): Partial<WaitPlan> {
    return { ...this.waiting, token: hold.token, maxSleep: QUEUED_WAITER_NAP, onGiveUp: hold.queues ? () => hold.withdraw() : undefined };
  }

  /** The multi-name acquire: validate, group by slot, take the groups in order (see {@link Mutex.acquire}). */
  private acquireAll(list: readonly unknown[], options: MutexAcquireOptions | undefined, scoped: boolean): Promise<Lease> {
    let groups: MultiMutexHold[];
    let call: ResolvedAcquire;
    let token: string;
    let names: string[];
    try {
      names = mutexNames(list);
      call = this.resolveAcquire(options, scoped, MUTEX_ACQUIRE_OPTION_KEYS);
      const o = options === undefined ? NO_OPTIONS : options;
      token = this.newToken(o.id);
      if (o.reentrant !== undefined && o.reentrant !== false) throw new InvalidArgumentError('reentrant', 'a multi-name acquire cannot re-enter');
      const flags = acquireFlags(false, call.block && call.timeout > 0 && this.strategy);
      const engine = this.holdEngine;
      // One script per slot: all names on a single server, a group per slot on a cluster.
      const bySlot = new Map<number, string[]>();
      for (const n of names) {
        const slot = this.adapter.cluster === false ? 0 : keySlot(mutexKeys(this.prefix, n)[0]);
        const group = bySlot.get(slot);
        if (group) group.push(n);
        else bySlot.set(slot, [n]);
      }
      const signal = call.signal;
      groups = [...bySlot.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([, group]) => new MultiMutexHold(engine, group, group.flatMap((n) => mutexKeys(this.prefix, n)), token, call.ttl, flags, signal));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.takeGroups(names.join(','), names, groups, call, token);
  }

  /**
   * Take each slot's group in ascending slot order (a total order every caller shares: no
   * deadlock), renewing the groups already taken while a later one waits; on any failure give
   * back what was taken. One group (always, off a cluster) is one plain acquire.
   */
  private async takeGroups(resource: string, names: string[], groups: MultiMutexHold[], call: ResolvedAcquire, token: string): Promise<Lease> {
    await takeInOrder(resource, groups, call, (group, within) =>
      this.waitPlan(group.resource, within, mutexChannel(group.keys[0] as string), { ...this.waiting, token, maxSleep: QUEUED_WAITER_NAP, onGiveUp: group.withdraw }),
    );
    // One fence per grant: the same in every key of a slot; across slots (cluster), the largest.
    const fence = Math.max(...groups.map((g) => g.fence));
    const backend = new GroupsBackend(groups);
    // Validity counts from the earliest send among the parts (conservative).
    const sentAt = Math.min(...groups.map((g) => g.sentAt));
    return this.track({ resource, token, fence, ttl: call.ttl, sentAt, backend, autoRenew: call.autoRenew, onLost: call.onLost, detail: { names } });
  }
}

/**
 * The names of one slot taken as one grant by `mutex/acquire-all.lua`, and their owner-checked
 * extend and release (each one script call over all of the group's keys).
 */
class MultiMutexHold {
  sentAt = 0;
  /** Fencing token of the grant (0 until granted): the same in every key of the group. */
  fence = 0;
  readonly resource: string;
  readonly commandTimeout: number;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
  /** Index of the name whose queue the latest busy attempt joined (-1: none). */
  private queuedOn = -1;
  private firstOptions: RunOptions | undefined;
  private attempts = 0;

  constructor(
    private readonly engine: HoldEngine,
    readonly names: string[],
    /** Lock and queue key of each name in turn ({@link mutexKeys}). */
    readonly keys: string[],
    readonly token: string,
    private readonly ttl: number,
    private readonly flags: string,
    readonly signal: AbortSignal | undefined,
  ) {
    this.resource = names.join(',');
    this.commandTimeout = engine.commandTimeout;
    this.kind = engine.kind;
    this.detail = { names };
  }

  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    this.sentAt = monotonicNow();
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    const flags = this.attempts++ === 0 ? this.flags : retryFlags(this.flags);
    return this.engine.runner.run(mutexAcquireAll, this.keys, mutexAcquireAllArgs(this.token, this.ttl, flags), options).then(this.readGrant);
  };

  /**
   * Leave the queues the caller waits in — the busy name's and those of the names before it,
   * where it may keep reservations (see `mutex/acquire-all.lua`) — passing on what it held.
   */
  readonly withdraw = (): Promise<unknown> => {
    const last = this.queuedOn;
    if (last < 0) return Promise.resolve();
    const options = { timeoutMs: this.commandTimeout };
    return Promise.all(Array.from({ length: last + 1 }, (_, i) => this.engine.runner.run(mutexWithdraw, [this.keys[2 * i] as string, this.keys[2 * i + 1] as string], [this.token], options)));
  };

  async extend(ttl: number): Promise<boolean> {
    const locks = this.keys.filter((_, i) => i % 2 === 0);
    const reply = await this.engine.runner.run(mutexExtend, locks, locks.flatMap(() => mutexExtendArgs(this.token, ttl)), { timeoutMs: this.commandTimeout });
    return asArray(reply).every(readExtend);
  }

  async release(): Promise<boolean> {
    const args = this.names.flatMap(() => mutexReleaseArgs(this.token, this.fence));
    const reply = asArray(await this.engine.runner.run(mutexRelease, this.keys, args, { timeoutMs: this.commandTimeout }));
    let all = true;
    reply.forEach((entry, i) => {
      const r = readRelease(entry);
      if (r.handedTo !== undefined) this.engine.hub.handOff(mutexChannel(this.keys[2 * i] as string), r.handedTo);
      if (!r.released) all = false;
    });
    return all;
  }

  private readonly readGrant = (reply: unknown): Attempt<number> => {
    const r = readAcquireAll(reply);
    if (r.ok) {
      this.fence = r.fence;
      this.queuedOn = -1;
      return { ok: true, acquired: r.fence };
    }
    if ('foreign' in r) throw new RedisUnavailableError(`the key of mutex "${this.names[r.index]}" holds a value that is not a hilok mutex`);
    if (this.flags !== '') this.queuedOn = r.index;
    return { ok: false, retryAfter: r.retryAfter, channel: mutexChannel(this.keys[2 * r.index] as string) };
  };

  private readonly undoLateGrant = (late: unknown): void => {
    if (readAcquireAll(late).ok) this.release().catch(() => undefined);
  };
}


/** Per-call options when none are given: shared, never mutated. */
const NO_OPTIONS: MutexAcquireOptions = Object.freeze({});

/**
 * A {@link Mutex} that waits by polling with exponential backoff and jitter instead of pub/sub
 * (redis-lock-py's `RedisSpinLock`). Prefer {@link Mutex} unless pub/sub is unavailable.
 */
export class SpinLock extends Mutex {
  protected override defaultStrategy(): 'pubsub' | 'spin' {
    return 'spin';
  }
}
