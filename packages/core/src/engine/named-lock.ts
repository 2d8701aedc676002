import { InvalidArgumentError, LockBusyError } from '../errors.js';
import { checkName, checkOptions, type AllowedKeys, type OptionKeys } from '../validate.js';
import { ProtocolHold, type HoldEngine, type HoldInit, type HoldProtocol } from './hold.js';
import type { Lease } from './lease.js';
import { LockManager, type AcquireOptions, type ResolvedAcquire } from './manager.js';
import { runScoped } from './scoped.js';
import { acquireOrWait, type WaitPlan } from './wait.js';

/**
 * The shared surface of the single-name locks (`Mutex`, `SpinLock`, `ReentrantMutex`,
 * `FairLock`, `Semaphore`): `acquire`, `tryAcquire` and `withLock`, all on one `acquireLease`
 * that runs a {@link ProtocolHold} with the kind's protocol. A kind supplies its `protocol`, its
 * per-call option keys, `holdInit` (one acquire's keys, token and ARGV) and `waitOptions`.
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

  /** The kind's Redis protocol: its scripts, ARGV builders and reply readers. @internal */
  protected abstract readonly protocol: HoldProtocol;
  /** The per-call option keys the kind accepts (unknown keys are an `InvalidArgumentError`). @internal */
  protected abstract readonly acquireOptionKeys: AllowedKeys & OptionKeys<AcquireOptions>;

  /**
   * One acquire's own facts (keys, token, the acquire ARGV, whether it queues) from the checked
   * name, the resolved call and the caller's options (checked for shape and keys, never undefined).
   * Throws `InvalidArgumentError` for bad kind-specific options.
   * @internal
   */
  protected abstract holdInit(resource: string, call: ResolvedAcquire, options: O): HoldInit;

  /** The kind's part of the wait plan (`token`, `maxSleep`, …), once the first attempt found the lock busy. @internal */
  protected abstract waitOptions(hold: ProtocolHold): Partial<WaitPlan>;

  private sharedEngine: HoldEngine | undefined;

  /**
   * Take the lock on the lean path: check the input (before any Redis call), the first attempt
   * alone, the wait plan built only once the lock was found busy, and the grant wrapped in a
   * tracked lease in the same reaction. `scoped` holds default to the watchdog being on.
   */
  protected acquireLease(name: string, options: O | undefined, scoped: boolean): Promise<Lease> {
    let hold: ProtocolHold;
    let call: ResolvedAcquire;
    try {
      const resource = checkName(name);
      call = this.resolveAcquire(options, scoped, this.acquireOptionKeys);
      // resolveAcquire checked the shape and keys.
      const init = this.holdInit(resource, call, options === undefined ? (NO_OPTIONS as O) : options);
      hold = new ProtocolHold(this.protocol, this.holdEngine, init);
    } catch (err) {
      // Bad input rejects the returned promise (before any Redis call), like every other failure.
      return Promise.reject(err);
    }
    const resolved = call;
    return acquireOrWait(
      hold,
      resolved,
      hold.attempt,
      () => this.waitPlan(hold.resource, resolved, hold.channel, this.waitOptions(hold)),
      (fence) => this.track({ resource: hold.resource, token: hold.token, fence, ttl: resolved.ttl, sentAt: hold.sentAt, backend: hold, autoRenew: resolved.autoRenew, onLost: resolved.onLost }),
    );
  }

  /** The shared engine (runner, hub, timeouts) of this manager's holds. @internal */
  protected get holdEngine(): HoldEngine {
    return (this.sharedEngine ??= { runner: this.runner, hub: this.hub, commandTimeout: this.commandTimeout, kind: this.kind, plain: { timeoutMs: this.commandTimeout } });
  }
}

/** Per-call options when none are given: shared, never mutated. */
const NO_OPTIONS: AcquireOptions = Object.freeze({});
