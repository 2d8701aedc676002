import type { RedisAdapter } from '../adapter.js';
import { semaphoreStatus } from '../generated/scripts.js';
import type { HoldInit, ProtocolHold } from '../engine/hold.js';
import type { Lease } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, MANAGER_OPTION_KEYS, type ManagerOptions, type AcquireOptions, type ResolvedAcquire } from '../engine/manager.js';
import { NamedLockManager } from '../engine/named-lock.js';
import { grantedAt, parseOwner, type OwnerInfo } from '../engine/owner.js';
import type { WaitPlan } from '../engine/wait.js';
import { checkName, checkOptions, type OptionKeys } from '../validate.js';
import { checkCount, checkPermits, readSemaphoreStatus, semaphoreAcquireArgs, semaphoreKeys, semaphoreProtocol } from './protocol.js';

/**
 * Longest sleep of a queued waiter between attempts, in ms: each attempt renews its place in the
 * queue (which it keeps 3 s without one), and a lost wake-up costs a sleeping waiter at most this.
 */
const QUEUED_WAITER_NAP = 1_000;

/** Options of a {@link Semaphore}. */
export interface SemaphoreOptions extends ManagerOptions {
  /** Default `limit` (the semaphore's size) of calls that give none. Without it every call must. */
  limit?: number;
}

/** The keys of {@link SemaphoreOptions}: unknown keys are an `InvalidArgumentError`. */
export const SEMAPHORE_OPTION_KEYS = { ...MANAGER_OPTION_KEYS, limit: true } as const satisfies OptionKeys<SemaphoreOptions>;

/** Per-call options of {@link Semaphore.acquire}. */
export interface SemaphoreAcquireOptions extends AcquireOptions {
  /**
   * How many permits the semaphore has (a whole number ≥ 1; default: the Semaphore's `limit`).
   * Per call, like redis-semaphore: this call is granted only if the permits held plus its own
   * stay within *its* limit. Holders are never revoked — after a lower limit, new calls wait
   * until enough holders have left.
   */
  limit?: number;
  /** How many permits to take (a whole number, 1 to `limit`; default 1). */
  permits?: number;
}

/** The keys of {@link SemaphoreAcquireOptions}: unknown keys are an `InvalidArgumentError`. */
export const SEMAPHORE_ACQUIRE_OPTION_KEYS = { ...ACQUIRE_OPTION_KEYS, limit: true, permits: true } as const satisfies OptionKeys<SemaphoreAcquireOptions>;

/** What {@link Semaphore.status} reports. */
export interface SemaphoreStatus {
  /**
   * Live holds, the first to expire first: owner token, permits, fencing token, ms left (server
   * clock), who took it (read from the token; `undefined` for an `id` the caller chose) and when
   * (server ms, read from the fence).
   */
  holders: { id: string; permits: number; fence: number; ttl: number; ownerInfo: OwnerInfo | undefined; acquiredAt: number | undefined }[];
  /** Waiting acquires, first in line first: token, permits wanted, the limit they asked with. */
  waiters: { id: string; permits: number; limit: number }[];
  /** Permits held now (the sum over `holders`). */
  used: number;
  /** The limit `available` is counted against (the call's, or the Semaphore's default). */
  limit: number;
  /** `limit − used`, at least 0 (a waiter that has waited 5 ms may have a claim on some of it). */
  available: number;
}

/**
 * A counting semaphore per name: at most `limit` permits held at once, each hold with its own
 * lease (redis-semaphore's `Semaphore` / `MultiSemaphore`, Redisson's permit-expirable semaphore).
 *
 * ```ts
 * const pool = new Semaphore(adapter, { ttl: 10_000, limit: 4 });
 * await using lease = await pool.acquire('api-quota', { permits: 2, timeout: 5_000 });
 * ```
 *
 * Each acquire, release, extend is one script on the Redis server's clock. A crashed holder's
 * permits come back when its ttl runs out — never earlier, never lost. Blocked acquires queue in
 * Redis; a release wakes only the waiters that can go now (`to:<token>`, herd-free), and once a
 * waiter has waited 5 ms nobody behind it may take the room it needs: a request for many permits
 * does not starve behind a stream of single-permit ones (docs/semaphore.md).
 */
export class Semaphore extends NamedLockManager<SemaphoreAcquireOptions> {
  /** The default limit, if one was configured. */
  readonly limit: number | undefined;
  protected readonly protocol = semaphoreProtocol;
  protected readonly acquireOptionKeys = SEMAPHORE_ACQUIRE_OPTION_KEYS;

  /** @param adapter - a driver adapter; @param options - see {@link SemaphoreOptions} */
  constructor(adapter: RedisAdapter, options?: SemaphoreOptions) {
    super(adapter, options);
    const o = checkOptions<SemaphoreOptions>(options, SEMAPHORE_OPTION_KEYS);
    this.limit = o.limit === undefined ? undefined : checkCount(o.limit, 'limit');
  }

  /**
   * Run `fn(signal, lease)` holding `permits` of `name`, with the watchdog renewing the lease
   * (the same contract as `withLock`): an exception from `fn` propagates unchanged; after a clean
   * exit a failed release throws `LockReleaseError`.
   */
  withPermits<T>(name: string, fn: (signal: AbortSignal, lease: Lease) => T | Promise<T>, options?: SemaphoreAcquireOptions): Promise<T> {
    return this.withLock(name, fn, options);
  }

  /**
   * The holders and waiters of `name`, and the permits available under `limit` (default: the
   * Semaphore's). Expired holders are purged first, so a crashed holder never shows.
   */
  async status(name: string, options?: { limit?: number }): Promise<SemaphoreStatus> {
    this.assertOpen();
    const o = checkOptions<{ limit?: number }>(options, STATUS_OPTION_KEYS);
    const { limit } = checkPermits(o.limit ?? this.limit, 1);
    const reply = await this.runner.run(semaphoreStatus, semaphoreKeys(this.prefix, checkName(name)), [], { timeoutMs: this.commandTimeout });
    const { holders: entries, waiters } = readSemaphoreStatus(reply);
    const holders = entries.map((h) => ({ ...h, ownerInfo: parseOwner(h.id) ?? undefined, acquiredAt: grantedAt(h.fence) }));
    const used = holders.reduce((sum, h) => sum + h.permits, 0);
    return { holders, waiters, used, limit, available: Math.max(0, limit - used) };
  }

  protected holdInit(resource: string, call: ResolvedAcquire, o: SemaphoreAcquireOptions): HoldInit {
    const { limit, permits } = checkPermits(o.limit ?? this.limit, o.permits);
    // A blocking caller queues when busy and withdraws when it gives up.
    const queues = call.block && call.timeout > 0;
    const token = this.newToken();
    return {
      resource,
      keys: semaphoreKeys(this.prefix, resource),
      token,
      acquireArgs: semaphoreAcquireArgs(token, permits, limit, call.ttl, queues),
      queues,
      signal: call.signal,
      // Diagnostics events of this acquire carry the permits and the limit.
      detail: { permits, limit },
    };
  }

  protected waitOptions(hold: ProtocolHold): Partial<WaitPlan> {
    return { token: hold.token, maxSleep: QUEUED_WAITER_NAP, onGiveUp: hold.queues ? () => hold.withdraw() : undefined, detail: hold.detail };
  }
}

const STATUS_OPTION_KEYS = { limit: true } as const satisfies OptionKeys<{ limit?: number }>;
