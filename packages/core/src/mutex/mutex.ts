import { randomUUID } from 'node:crypto';
import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError, RedisUnavailableError } from '../errors.js';
import { mutexAcquire, mutexExtend, mutexInspect, mutexRelease } from '../generated/scripts.js';
import { lockKey } from '../engine/keys.js';
import { monotonicNow, type Lease } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, MANAGER_OPTION_KEYS, resolveSpin, type AcquireOptions, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import { NamedLockManager, type NamedHold } from '../engine/named-lock.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import { attemptRunOptions, type Attempt, type AttemptLimits, type SpinOptions, type WaitPlan } from '../engine/wait.js';
import type { RunOptions, ScriptRunner } from '../engine/script.js';
import { checkName, checkOptions, type OptionKeys } from '../validate.js';

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
 * (many tasks taking their own locks) share one script call. Waiters sleep until the holder's
 * release publishes a wake-up (one waiter per process is woken), and wake on their own at the
 * holder's remaining ttl in case the message was lost.
 */
export class Mutex extends NamedLockManager<MutexAcquireOptions> {
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

  /** Who holds `name` (owner, fence, hold count, remaining ttl), or `null` when free. Changes nothing. */
  async inspect(name: string): Promise<MutexInfo | null> {
    this.assertOpen();
    const reply = asArray(await this.runner.run(mutexInspect, [this.key(checkName(name))], [], { timeoutMs: this.commandTimeout }));
    if (reply.length === 0) return null;
    return { owner: asString(reply[0]), fence: asNumber(reply[1]), count: asNumber(reply[2]), ttl: asNumber(reply[3]) };
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
      // A caller that will sleep on pub/sub asks the holder's release to publish a wake-up (see
      // the flags in mutex/acquire.lua).
      const waitsOnPubSub = call.block && call.timeout > 0 && this.strategy === 'pubsub';
      const flags = (reentrant ? 'r' : '') + (waitsOnPubSub ? 'w' : '');
      hold = new MutexHold(this.runner, resource, this.key(resource), token, call.ttl, flags, this.commandTimeout, this.kind, call.signal);
    } catch (err) {
      // Bad input rejects the returned promise (before any Redis call), like every other failure.
      return Promise.reject(err);
    }
    const resolved = call;
    return this.acquireHold(hold, resolved, () => this.waitPlan(hold.resource, resolved, `${hold.key}:wake`, this.waiting));
  }

  private key(name: string): string {
    return lockKey(this.prefix, 'mutex', name);
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

  constructor(
    private readonly runner: ScriptRunner,
    readonly resource: string,
    readonly key: string,
    readonly token: string,
    private readonly ttl: number,
    private readonly flags: string,
    readonly commandTimeout: number,
    readonly kind: string,
    /** The caller's signal: cancels the first attempt (it is the {@link AttemptHead} of the acquire). */
    readonly signal: AbortSignal | undefined,
  ) {}

  /** One acquire attempt (an arrow property: it is handed to the wait loop as is). */
  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    this.sentAt = monotonicNow();
    // After a wait, other waiters may still sleep: whatever we get now must wake them too.
    const flags = this.attempts++ === 0 || !this.flags.includes('w') ? this.flags : `${this.flags}p`;
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    return this.runner.runBatched(mutexAcquire, this.key, [this.token, this.ttl, flags], options, this.readGrant);
  };

  extend(ttl: number): Promise<boolean> {
    return this.runner.runBatched(mutexExtend, this.key, [this.token, ttl], { timeoutMs: this.commandTimeout }, isOne);
  }

  release(): Promise<boolean> {
    // The value a hold taken alone still has (one hold, no waiter mark): mutex/release.lua frees
    // it with one comparison, and falls back to parsing the value when it differs.
    const expected = this.fence > 0 ? soleHoldValue(this.fence, this.token) : '';
    return this.runner.runBatched(mutexRelease, this.key, [this.token, expected], { timeoutMs: this.commandTimeout }, isNotNegative);
  }

  /** An acquire reply: the fence (> 0), busy with the holder's ms left (< 0), or 0 for a foreign value. */
  private readonly readGrant = (reply: unknown): Attempt<number> => {
    const r = asNumber(reply);
    if (r > 0) {
      this.fence = r;
      return { ok: true, acquired: r };
    }
    if (r === 0) throw new RedisUnavailableError(`the key of mutex "${this.resource}" holds a value that is not a hilok mutex`);
    return { ok: false, retryAfter: -1 - r };
  };

  /** A reply that came after we gave up may say "acquired": undo that ghost hold. */
  private readonly undoLateGrant = (late: unknown): void => {
    if (asNumber(late) > 0) this.release().catch(() => undefined);
  };
}

/** A held mutex as stored in Redis (the string layout of `mutex/acquire.lua`). */
export interface StoredMutex {
  owner: string;
  fence: number;
  count: number;
  /** True once a waiter asked the holder's release to publish a wake-up. */
  waited: boolean;
}

/**
 * Parse a mutex key's value (`fence:count:waited:owner`); `null` for anything else. For tools
 * that read keys directly (the CLI); lock code goes through the scripts.
 */
export function parseStoredMutex(value: string): StoredMutex | null {
  const m = /^(\d+):(\d+):([01]):([\s\S]*)$/.exec(value);
  if (!m) return null;
  return { fence: Number(m[1]), count: Number(m[2]), waited: m[3] === '1', owner: m[4] as string };
}

/**
 * The value a mutex key holds for a single hold of `owner` granted with `fence` that no waiter
 * marked (the `fence:count:waited:owner` layout of `mutex/acquire.lua` with count 1, waited 0):
 * what a release sends so `mutex/release.lua` can free the hold with one comparison.
 */
export function soleHoldValue(fence: number, owner: string): string {
  return `${fence}:1:0:${owner}`;
}

const isOne = (reply: unknown): boolean => asNumber(reply) === 1;
const isNotNegative = (reply: unknown): boolean => asNumber(reply) >= 0;

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
