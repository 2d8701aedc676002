import { randomUUID } from 'node:crypto';
import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { mutexAcquire, mutexExtend, mutexInspect, mutexRelease } from '../generated/scripts.js';
import { lockKey } from '../engine/keys.js';
import { monotonicNow, type Lease, type LeaseBackend } from '../engine/lease.js';
import { resolveSpin, type AcquireOptions, type ManagerOptions } from '../engine/manager.js';
import { NamedLockManager } from '../engine/named-lock.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import { acquireWithWait, type Attempt, type AttemptLimits, type SpinOptions } from '../engine/wait.js';
import { checkName, checkOptions } from '../validate.js';

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
 * Each acquire, release and extend is one script = one round trip. Waiters sleep until the
 * holder's release publishes a wake-up (one waiter per process is woken), and wake on their own
 * at the holder's remaining ttl in case the message was lost.
 */
export class Mutex extends NamedLockManager<MutexAcquireOptions> {
  private readonly strategy: 'pubsub' | 'spin';
  private readonly spin: SpinOptions;

  /** @param adapter - a driver adapter; @param options - see {@link MutexOptions} */
  constructor(adapter: RedisAdapter, options?: MutexOptions) {
    super(adapter, options);
    const o = checkOptions<MutexOptions>(options);
    if (o.wait !== undefined && o.wait !== 'pubsub' && o.wait !== 'spin') {
      throw new InvalidArgumentError('wait', `expected "pubsub" or "spin", got ${String(o.wait)}`);
    }
    this.strategy = o.wait ?? this.defaultStrategy();
    this.spin = resolveSpin(o.spin);
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

  protected async acquireLease(name: string, options: MutexAcquireOptions | undefined, scoped: boolean): Promise<Lease> {
    const resource = checkName(name);
    const call = this.resolveAcquire(options, scoped);
    const o = checkOptions<MutexAcquireOptions>(options);
    const token = o.id === undefined ? randomUUID() : checkName(o.id, 'id');
    const reentrant = o.reentrant ?? false;
    if (typeof reentrant !== 'boolean') throw new InvalidArgumentError('reentrant', 'expected a boolean');
    const key = this.key(resource);
    const channel = `${key}:wake`;
    const backend: LeaseBackend = {
      extend: async (ttl) => asNumber(await this.run(mutexExtend, key, [token, ttl])) === 1,
      release: async () => asNumber(await this.run(mutexRelease, key, [token, channel])) >= 0,
    };
    let sentAt = 0;
    const attempt = async (limits: AttemptLimits): Promise<Attempt<number>> => {
      sentAt = monotonicNow();
      const reply = asArray(
        await this.runner.run(mutexAcquire, [key], [token, call.ttl, reentrant ? '1' : '0'], {
          ...limits,
          // A reply that comes after we gave up may say "acquired": undo that ghost hold.
          onLateReply: (late) => {
            if (asNumber(asArray(late)[0]) === 1) backend.release().catch(() => undefined);
          },
        }),
      );
      if (asNumber(reply[0]) === 1) return { ok: true, acquired: asNumber(reply[1]) };
      return { ok: false, retryAfter: asNumber(reply[1]) };
    };
    const fence = await acquireWithWait(this.waitPlan(resource, call, channel, { strategy: this.strategy, spin: this.spin }), attempt);
    return this.track({ resource, token, fence, ttl: call.ttl, sentAt, backend, autoRenew: call.autoRenew, onLost: call.onLost });
  }

  private key(name: string): string {
    return lockKey(this.prefix, 'mutex', name);
  }

  private run(script: typeof mutexAcquire, key: string, args: (string | number)[]): Promise<unknown> {
    return this.runner.run(script, [key], args, { timeoutMs: this.commandTimeout });
  }
}

/**
 * A {@link Mutex} that waits by polling with exponential backoff and jitter instead of pub/sub
 * (redis-lock-py's `RedisSpinLock`). Prefer {@link Mutex} unless pub/sub is unavailable.
 */
export class SpinLock extends Mutex {
  protected override defaultStrategy(): 'pubsub' | 'spin' {
    return 'spin';
  }
}
