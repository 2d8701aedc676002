import type { RedisAdapter, ScriptArg } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { fairAcquire, fairExtend, fairInspect, fairRelease, fairWithdraw } from '../generated/scripts.js';
import { monotonicNow, type Lease } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, MANAGER_OPTION_KEYS, type AcquireOptions, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import { NamedLockManager, type NamedHold } from '../engine/named-lock.js';
import type { OwnerInfo } from '../engine/owner.js';
import type { RunOptions, ScriptRunner } from '../engine/script.js';
import { attemptRunOptions, type Attempt, type AttemptLimits } from '../engine/wait.js';
import { checkDuration, checkName, checkOptions, type OptionKeys } from '../validate.js';
import {
  fairAcquireArgs,
  fairChannel,
  fairExtendArgs,
  fairKeys,
  fairReleaseArgs,
  isFairGrant,
  readFairAcquire,
  readFairExtend,
  readFairInspect,
  readFairRelease,
} from './protocol.js';

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

  protected acquireLease(name: string, options: AcquireOptions | undefined, scoped: boolean): Promise<Lease> {
    let hold: FairHold;
    let call: ResolvedAcquire;
    try {
      const resource = checkName(name);
      call = this.resolveAcquire(options, scoped, ACQUIRE_OPTION_KEYS);
      const queueing = call.block && call.timeout > 0;
      hold = new FairHold(this.runner, resource, fairKeys(this.prefix, resource), this.newToken(), call.ttl, this.queueTtl, queueing, this.commandTimeout, this.kind, call.signal);
    } catch (err) {
      // Bad input rejects the returned promise (before any Redis call), like every other failure.
      return Promise.reject(err);
    }
    const resolved = call;
    return this.acquireHold(hold, resolved, () =>
      this.waitPlan(hold.resource, resolved, hold.channel, {
        token: hold.token,
        // Every attempt renews the waiter's heartbeat: never sleep so long that it lapses.
        maxSleep: Math.max(1, Math.floor(this.queueTtl / 3)),
        onGiveUp: hold.queueing ? () => hold.withdraw() : undefined,
      }),
    );
  }
}

/**
 * The Redis side of one fair acquire and the hold it yields: attempts (each renews the waiter's
 * place in the queue), the withdrawal of a waiter that gives up, and the owner-checked extend and
 * release of the lease. Acquires and releases of many locks in the same tick share one script call.
 */
class FairHold implements NamedHold {
  /** Monotonic time the latest attempt was sent: the hold's validity counts from there. */
  sentAt = 0;
  /**
   * The lock's wake-up channel. A release addresses its message to the head of the queue
   * (`to:<token>`), so one subscription per lock and process serves every wait — no SUBSCRIBE per wait.
   */
  readonly channel: string;
  private readonly acquireArgs: ScriptArg[];
  private firstOptions: RunOptions | undefined;

  constructor(
    private readonly runner: ScriptRunner,
    readonly resource: string,
    /** Lock hash, queue and heartbeat keys ({@link fairKeys}). */
    private readonly keys: string[],
    readonly token: string,
    ttl: number,
    queueTtl: number,
    /** A blocking caller that joins the queue when the lock is busy. */
    readonly queueing: boolean,
    readonly commandTimeout: number,
    readonly kind: string,
    /** The caller's signal: cancels the first attempt (it is the {@link AttemptHead} of the acquire). */
    readonly signal: AbortSignal | undefined,
  ) {
    this.channel = fairChannel(keys[0] as string);
    this.acquireArgs = fairAcquireArgs(token, ttl, queueTtl, queueing, this.channel);
  }

  /** One acquire attempt (an arrow property: it is handed to the wait loop as is). */
  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    this.sentAt = monotonicNow();
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    return this.runner.runBatched(fairAcquire, this.keys, this.acquireArgs, options, readFairAcquire);
  };

  extend(ttl: number): Promise<boolean> {
    return this.runner.run(fairExtend, this.keys.slice(0, 1), fairExtendArgs(this.token, ttl), { timeoutMs: this.commandTimeout }).then(readFairExtend);
  }

  release(): Promise<boolean> {
    return this.runner.runBatched(fairRelease, this.keys, fairReleaseArgs(this.token, this.channel), { timeoutMs: this.commandTimeout }, readFairRelease);
  }

  /** Leave the queue (the wait ended without the lock); wakes the next waiter if we were the head of a free lock. */
  withdraw(): Promise<unknown> {
    return this.runner.run(fairWithdraw, this.keys, fairReleaseArgs(this.token, this.channel), { timeoutMs: this.commandTimeout });
  }

  /** A reply that came after we gave up may say "acquired": undo that ghost hold. */
  private readonly undoLateGrant = (late: unknown): void => {
    if (isFairGrant(late)) this.release().catch(() => undefined);
  };
}
