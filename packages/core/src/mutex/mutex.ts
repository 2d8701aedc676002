import { randomUUID } from 'node:crypto';
import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError, RedisUnavailableError } from '../errors.js';
import { mutexAcquire, mutexExtend, mutexInspect, mutexRelease, mutexWithdraw } from '../generated/scripts.js';
import { monotonicNow, type Lease } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, MANAGER_OPTION_KEYS, resolveSpin, type AcquireOptions, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import { NamedLockManager, type NamedHold } from '../engine/named-lock.js';
import { asNumber } from '../engine/reply.js';
import { attemptRunOptions, type Attempt, type AttemptLimits, type SpinOptions, type WaitPlan } from '../engine/wait.js';
import type { RunOptions, ScriptRunner } from '../engine/script.js';
import type { WakeHub } from '../engine/wake-hub.js';
import { checkName, checkOptions, type OptionKeys } from '../validate.js';
import { acquireFlags, mutexAcquireArgs, mutexChannel, mutexExtendArgs, mutexKeys, mutexReleaseArgs, readAcquire, readExtend, readMutexInspect, readRelease, retryFlags } from './protocol.js';

/**
 * Longest sleep of a queued waiter between attempts, in ms: each attempt renews its place in the
 * hand-off queue (which outlives it by 10 s), and a lost wake-up or a reservation its head let
 * lapse costs a sleeping waiter at most this long.
 */
const QUEUED_WAITER_NAP = 1_000;

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
   * Owner token to hold the lock under (default: a random UUID). Acquiring with the token of
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
 * barging for throughput, a bounded wait for everyone (README, "Waiting").
 */
/** What every hold of one {@link Mutex} shares (one object per manager, not four fields per hold). */
interface MutexEngine {
  readonly runner: ScriptRunner;
  readonly hub: WakeHub;
  readonly commandTimeout: number;
  readonly kind: string;
}

export class Mutex extends NamedLockManager<MutexAcquireOptions> {
  private engine: MutexEngine | undefined;
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

  protected acquireLease(name: string, options: MutexAcquireOptions | undefined, scoped: boolean): Promise<Lease> {
    let hold: MutexHold;
    let call: ResolvedAcquire;
    try {
      const resource = checkName(name);
      call = this.resolveAcquire(options, scoped, MUTEX_ACQUIRE_OPTION_KEYS);
      // resolveAcquire checked the shape and keys.
      const o = options === undefined ? NO_OPTIONS : options;
      const token = o.id === undefined ? randomUUID() : checkName(o.id, 'id');
      const reentrant = o.reentrant ?? false;
      if (typeof reentrant !== 'boolean') throw new InvalidArgumentError('reentrant', 'expected a boolean');
      // A caller that will wait joins the hand-off queue when it finds the lock busy (see the
      // flags in mutex/acquire.lua); a one-shot attempt never queues.
      const flags = acquireFlags(reentrant, call.block && call.timeout > 0 && this.strategy);
      hold = new MutexHold((this.engine ??= { runner: this.runner, hub: this.hub, commandTimeout: this.commandTimeout, kind: this.kind }), resource, mutexKeys(this.prefix, resource), token, call.ttl, flags, call.signal);
    } catch (err) {
      // Bad input rejects the returned promise (before any Redis call), like every other failure.
      return Promise.reject(err);
    }
    const resolved = call;
    return this.acquireHold(hold, resolved, () =>
      this.waitPlan(hold.resource, resolved, mutexChannel(hold.keys[0]), { ...this.waiting, token: hold.token, maxSleep: QUEUED_WAITER_NAP, onGiveUp: hold.withdraw }),
    );
  }
}

/**
 * The Redis side of one mutex acquire and the hold it yields: attempts, and the owner-checked
 * extend and release of the lease. Calls of many holds in the same tick share one script call.
 */
class MutexHold implements NamedHold {
  /** Monotonic time the latest attempt was sent: the hold's validity counts from there. */
  sentAt = 0;
  /** Fencing token of the grant (0 until granted). */
  private fence = 0;
  private firstOptions: RunOptions | undefined;
  private attempts = 0;
  private readonly runner: ScriptRunner;
  readonly commandTimeout: number;
  readonly kind: string;

  constructor(
    private readonly engine: MutexEngine,
    readonly resource: string,
    /** The lock key and its hand-off queue ({@link mutexKeys}). */
    readonly keys: [string, string],
    readonly token: string,
    private readonly ttl: number,
    private readonly flags: string,
    /** The caller's signal: cancels the first attempt (it is the {@link AttemptHead} of the acquire). */
    readonly signal: AbortSignal | undefined,
  ) {
    this.runner = engine.runner;
    this.commandTimeout = engine.commandTimeout;
    this.kind = engine.kind;
  }

  /** One acquire attempt (an arrow property: it is handed to the wait loop as is). */
  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    this.sentAt = monotonicNow();
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    // Only a retry can find the caller queued already: the first attempt skips that check.
    const flags = this.attempts++ === 0 ? this.flags : retryFlags(this.flags);
    return this.runner.runBatched(mutexAcquire, this.keys, mutexAcquireArgs(this.token, this.ttl, flags), options, this.readGrant);
  };

  /** Leave the hand-off queue after giving up (passing on a reservation held for us). */
  readonly withdraw = (): Promise<unknown> => this.runner.run(mutexWithdraw, this.keys, [this.token], { timeoutMs: this.commandTimeout });

  extend(ttl: number): Promise<boolean> {
    return this.runner.runBatched(mutexExtend, this.keys[0], mutexExtendArgs(this.token, ttl), { timeoutMs: this.commandTimeout }, readExtend);
  }

  release(): Promise<boolean> {
    // With the fence, the value a hold taken alone still has (one hold, no waiter mark):
    // mutex/release.lua frees it with one comparison, and falls back to parsing the value when it differs.
    return this.runner.runBatched(mutexRelease, this.keys, mutexReleaseArgs(this.token, this.fence), { timeoutMs: this.commandTimeout }, this.readRelease);
  }

  /** A release entry; a hand-off to a waiter of this process wakes it now, ahead of the pub/sub message. */
  private readonly readRelease = (reply: unknown): boolean => {
    const r = readRelease(reply);
    if (r.handedTo !== undefined) this.engine.hub.handOff(mutexChannel(this.keys[0]), r.handedTo);
    return r.released;
  };

  /** An acquire reply: the fence (> 0), busy with the holder's ms left (< 0), or 0 for a foreign value. */
  private readonly readGrant = (reply: unknown): Attempt<number> => {
    const r = readAcquire(asNumber(reply));
    if (r.ok) {
      this.fence = r.fence;
      return { ok: true, acquired: r.fence };
    }
    if ('foreign' in r) throw new RedisUnavailableError(`the key of mutex "${this.resource}" holds a value that is not a hilok mutex`);
    return r;
  };

  /** A reply that came after we gave up may say "acquired": undo that ghost hold. */
  private readonly undoLateGrant = (late: unknown): void => {
    if (asNumber(late) > 0) this.release().catch(() => undefined);
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
