import { InvalidArgumentError, LockBusyError } from '../errors.js';
import { checkOptions } from '../validate.js';
import type { Lease, LeaseBackend } from './lease.js';
import { LockManager, type AcquireOptions, type ResolvedAcquire } from './manager.js';
import { runScoped } from './scoped.js';
import { acquireOrWait, type Attempt, type AttemptHead, type AttemptLimits, type WaitPlan } from './wait.js';

/** One acquire of a single-name lock and the hold it yields (a kind's Redis side: `MutexHold`, `FairHold`). */
export interface NamedHold extends LeaseBackend, AttemptHead {
  readonly resource: string;
  readonly token: string;
  /** Monotonic time the latest attempt was sent: the hold's validity counts from there. */
  readonly sentAt: number;
  /** One acquire attempt: the fence when granted. */
  readonly attempt: (limits: AttemptLimits) => Promise<Attempt<number>>;
}

/**
 * The shared surface of the single-name locks (`Mutex`, `SpinLock`, `ReentrantMutex`,
 * `FairLock`): `acquire`, `tryAcquire` and `withLock`, all on one kind-specific `acquireLease`.
 */
export abstract class NamedLockManager<O extends AcquireOptions = AcquireOptions> extends LockManager {
  /**
   * Acquire the lock on `name`, waiting (by default without limit) while it is not available.
   * @returns the held {@link Lease}
   * @throws {@link LockBusyError} when `block: false` and held, or when `timeout` passed (only
   *   ever when Redis answered "held")
   * @throws {@link RedisUnavailableError} when Redis failed or did not answer by the deadline
   *   (`timeout` + 100 ms; for `block: false`, 1 s unless a `timeout` is given)
   * @throws {@link InvalidArgumentError} for bad input, before any Redis call
   */
  acquire(name: string, options?: O): Promise<Lease> {
    return this.acquireLease(name, options, false);
  }

  /**
   * Try once: the lease if the lock was available, `null` if it is busy. Never waits for a held
   * lock; waits for Redis's answer at most `timeout` ms (default 1 000, `ONE_SHOT_TIMEOUT`, and
   * never longer than `commandTimeout`). Redis failures and no answer in time still throw
   * {@link RedisUnavailableError} (`ReplyTimeoutError`), so busy and broken stay apart.
   */
  async tryAcquire(name: string, options?: Omit<O, 'block' | 'blockingTimeout'>): Promise<Lease | null> {
    try {
      // The keys are checked by acquire, against the kind's own list.
      return await this.acquire(name, { ...checkOptions<O>(options, null), block: false } as O);
    } catch (err) {
      if (err instanceof LockBusyError) return null;
      throw err;
    }
  }

  /**
   * Run `fn` while holding `name`, with the watchdog renewing the lease; `fn` receives the
   * lease's signal, which aborts if the lock is lost, and the {@link Lease} itself (its `fence`
   * for the protected resource; check `lease.held` or `lease.throwIfLost()` before each side
   * effect — the signal may lag a process pause by one timer tick). An exception from `fn`
   * propagates unchanged (a release failure is then only reported); after a clean exit a failed
   * release throws {@link LockReleaseError}.
   */
  async withLock<T>(name: string, fn: (signal: AbortSignal, lease: Lease) => T | Promise<T>, options?: O): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'expected a function');
    return runScoped(await this.acquireLease(name, options, true), fn);
  }

  /**
   * Acquire `hold` on the lean path: the first attempt alone, the wait `plan` built only once
   * the lock was found busy, and the grant wrapped in a tracked lease in the same reaction.
   */
  protected acquireHold(hold: NamedHold, call: ResolvedAcquire, plan: () => WaitPlan): Promise<Lease> {
    return acquireOrWait(hold, call, hold.attempt, plan, (fence) =>
      this.track({ resource: hold.resource, token: hold.token, fence, ttl: call.ttl, sentAt: hold.sentAt, backend: hold, autoRenew: call.autoRenew, onLost: call.onLost }),
    );
  }

  /** Take the lock: the kind's own protocol. `scoped` holds default to the watchdog being on. */
  protected abstract acquireLease(name: string, options: O | undefined, scoped: boolean): Promise<Lease>;
}
