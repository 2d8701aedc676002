import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidArgumentError } from '../errors.js';
import type { Lease } from '../engine/lease.js';
import { checkName, checkOptions, type OptionKeys } from '../validate.js';
import { ACQUIRE_OPTION_KEYS } from '../engine/manager.js';
import { Mutex, type MutexAcquireOptions } from '../mutex/mutex.js';

/** Per-call options of {@link ReentrantMutex}: a mutex acquire whose owner is explicit, never a thread. */
export interface ReentrantAcquireOptions extends Omit<MutexAcquireOptions, 'id' | 'reentrant'> {
  /**
   * The owner to enter as. Default: the owner of the current async context (set by
   * {@link ReentrantMutex.runAs} or an enclosing {@link ReentrantMutex.withLock}); outside of
   * any, a fresh owner — then the acquire behaves like a plain mutex acquire.
   */
  owner?: string;
}

/** The keys of {@link ReentrantAcquireOptions}: unknown keys are an `InvalidArgumentError`. */
export const REENTRANT_ACQUIRE_OPTION_KEYS = { ...ACQUIRE_OPTION_KEYS, owner: true } as const satisfies OptionKeys<ReentrantAcquireOptions>;

/**
 * A reentrant mutex whose owner is an explicit *owner id*, not a thread (Node has none to tie
 * it to, and Redisson's thread-bound ownership is exactly what breaks async code).
 *
 * The same owner may enter a name N times and must release N times; any other owner waits.
 * The owner is, in order: the `owner` option; else the owner bound to the current async context
 * by {@link ReentrantMutex.runAs} or by an enclosing {@link ReentrantMutex.withLock} (through
 * `AsyncLocalStorage`, so it follows `await`, promises, timers and callbacks started inside —
 * and nothing started outside); else a fresh random owner.
 *
 * Owner ids are stored in Redis, so two processes that pass the same owner id *are* the same
 * owner: pick ids that mean one logical actor (a job id, a request id).
 *
 * ```ts
 * const lock = new ReentrantMutex(adapter);
 * await lock.withLock('account:7', async () => {
 *   await lock.withLock('account:7', async () => { ... }); // re-enters: same implicit owner
 * });
 * ```
 */
export class ReentrantMutex extends Mutex {
  private readonly context = new AsyncLocalStorage<string>();

  /** The owner bound to the current async context, if any. */
  get currentOwner(): string | undefined {
    return this.context.getStore();
  }

  /**
   * Run `fn` as `owner`: every acquire inside it (and in async work it starts) that names no
   * `owner` enters as this one, so nested acquires of the same name re-enter instead of deadlocking.
   */
  runAs<T>(owner: string, fn: () => T): T {
    checkName(owner, 'owner');
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'expected a function');
    return this.context.run(owner, fn);
  }

  /**
   * Enter `name` as the resolved owner (see the class comment). Each returned lease is one
   * entry: release each once; the lock frees when the last entry is released.
   */
  override async acquire(name: string, options?: ReentrantAcquireOptions): Promise<Lease> {
    // async: a bad owner rejects the promise rather than throwing before there is one.
    return super.acquire(name, this.entry(options, this.resolveOwner(options)));
  }

  /**
   * Run `fn` holding `name` as the resolved owner — a fresh one when there is none, bound to the
   * async context of `fn`, so acquires nested inside it re-enter. Same exception contract as
   * {@link Mutex.withLock}.
   */
  override async withLock<T>(name: string, fn: (signal: AbortSignal, lease: Lease) => T | Promise<T>, options?: ReentrantAcquireOptions): Promise<T> {
    const owner = this.resolveOwner(options);
    return this.context.run(owner, () => super.withLock(name, fn, this.entry(options, owner)));
  }

  /** How many times `name` is entered now (0 when free), and by whom. */
  async holdCount(name: string): Promise<{ owner: string | undefined; count: number }> {
    const info = await this.inspect(name);
    return { owner: info?.owner, count: info?.count ?? 0 };
  }

  private resolveOwner(options: ReentrantAcquireOptions | undefined): string {
    const raw = checkOptions<ReentrantAcquireOptions & { id?: unknown; reentrant?: unknown }>(options, null);
    // A mutex's `id` / `reentrant` get a message of their own, before the unknown-key check.
    if (raw.id !== undefined) throw new InvalidArgumentError('id', 'a ReentrantMutex takes `owner`, not `id`');
    if (raw.reentrant !== undefined) throw new InvalidArgumentError('reentrant', 'a ReentrantMutex is always reentrant');
    const o = checkOptions<ReentrantAcquireOptions>(options, REENTRANT_ACQUIRE_OPTION_KEYS);
    if (o.owner !== undefined) return checkName(o.owner, 'owner');
    return this.context.getStore() ?? this.newToken();
  }

  private entry(options: ReentrantAcquireOptions | undefined, owner: string): MutexAcquireOptions {
    const { owner: _owner, ...rest } = checkOptions<ReentrantAcquireOptions>(options, null);
    return { ...rest, id: owner, reentrant: true };
  }
}
