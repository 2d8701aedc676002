import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { fairInspect } from '../generated/scripts.js';
import type { HoldInit, ProtocolHold } from '../engine/hold.js';
import { ACQUIRE_OPTION_KEYS, MANAGER_OPTION_KEYS, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import { NamedLockManager } from '../engine/named-lock.js';
import type { OwnerInfo } from '../engine/owner.js';
import type { WaitPlan } from '../engine/wait.js';
import { checkDuration, checkName, checkOptions, type OptionKeys } from '../validate.js';
import { fairAcquireArgs, fairChannel, fairKeys, fairProtocol, readFairInspect } from './protocol.js';

/** Options of a {@link FairLock}. */
export interface FairLockOptions extends ManagerOptions {
  /**
   * How long a waiter keeps its place without being heard from, in ms (default 3 000). A live
   * waiter re-announces itself every third of this; one that crashed is skipped after at most
   * this long, so a dead process can stall the queue only briefly.
   */
  queueTtl?: number;
}

/** The keys of {@link FairLockOptions}: unknown keys are an `InvalidArgumentError`. */
export const FAIR_LOCK_OPTION_KEYS = { ...MANAGER_OPTION_KEYS, queueTtl: true } as const satisfies OptionKeys<FairLockOptions>;

/** What {@link FairLock.inspect} reports. */
export interface FairLockInfo {
  /** Owner token of the hold, or `undefined` when free. */
  owner: string | undefined;
  /** Fencing token of the hold (0 when free). */
  fence: number;
  /** Remaining ttl of the hold in ms (0 when free). */
  ttl: number;
  /** Tokens of the queued waiters, first in line first (a crashed one stays until skipped). */
  queue: string[];
  /** Who took the hold (`app`, host, pid, process start), read from `owner`; `undefined` when free or for an `id` the caller chose. */
  ownerInfo: OwnerInfo | undefined;
  /** When the hold was granted, in ms on the Redis server's clock (read from the fence); `undefined` when free. */
  acquiredAt: number | undefined;
}

/**
 * A fair lock: waiters get the lock in the order they arrived (FIFO), and a release wakes only
 * the waiter at the head of the queue — on its own channel — not a herd (Redisson's FairLock,
 * minus the thread binding).
 *
 * Every blocking waiter sits in a queue in Redis with a heartbeat deadline; it renews the
 * deadline every `queueTtl / 3` while it waits. The lock is granted only to the head of the
 * queue (or to anyone when the queue is empty), so newcomers cannot barge in. A waiter that dies
 * stops renewing and is skipped at most `queueTtl` later; the script that skips it wakes the
 * new head. A waiter that gives up (timeout, abort) leaves the queue at once.
 *
 * Non-blocking attempts (`block: false`, `timeout: 0`) never queue, and fail while others wait.
 */
export class FairLock extends NamedLockManager {
  protected readonly protocol = fairProtocol;
  protected readonly acquireOptionKeys = ACQUIRE_OPTION_KEYS;
  private readonly queueTtl: number;

  /** @param adapter - a driver adapter; @param options - see {@link FairLockOptions} */
  constructor(adapter: RedisAdapter, options?: FairLockOptions) {
    super(adapter, options);
    this.queueTtl = checkDuration(checkOptions<FairLockOptions>(options, FAIR_LOCK_OPTION_KEYS).queueTtl ?? 3_000, 'queueTtl');
    if (this.queueTtl < 3) throw new InvalidArgumentError('queueTtl', 'must be at least 3 ms');
  }

  /** The holder and the queue of `name`. Changes nothing. */
  async inspect(name: string): Promise<FairLockInfo> {
    this.assertOpen();
    const [lock, queue] = fairKeys(this.prefix, checkName(name));
    return readFairInspect(await this.runner.run(fairInspect, [lock, queue], [], { timeoutMs: this.commandTimeout }));
  }

  /** Whether `name` is held by anyone. */
  async isLocked(name: string): Promise<boolean> {
    return (await this.inspect(name)).owner !== undefined;
  }

  protected holdInit(resource: string, call: ResolvedAcquire): HoldInit {
    const keys = fairKeys(this.prefix, resource);
    const token = this.newToken();
    // A blocking caller joins the queue when the lock is busy; a one-shot attempt never queues.
    const queues = call.block && call.timeout > 0;
    return { resource, keys, token, acquireArgs: fairAcquireArgs(token, call.ttl, this.queueTtl, queues, fairChannel(keys[0])), queues, signal: call.signal };
  }

  protected waitOptions(hold: ProtocolHold): Partial<WaitPlan> {
    return {
      token: hold.token,
      // Every attempt renews the waiter's heartbeat: never sleep so long that it lapses.
      maxSleep: Math.max(1, Math.floor(this.queueTtl / 3)),
      onGiveUp: hold.queues ? () => hold.withdraw() : undefined,
    };
  }
}
