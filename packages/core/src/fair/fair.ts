import { randomUUID } from 'node:crypto';
import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { fairAcquire, fairExtend, fairInspect, fairRelease, fairWithdraw } from '../generated/scripts.js';
import { lockKey } from '../engine/keys.js';
import { monotonicNow, type Lease, type LeaseBackend } from '../engine/lease.js';
import { type AcquireOptions, type ManagerOptions } from '../engine/manager.js';
import { NamedLockManager } from '../engine/named-lock.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import type { Script } from '../engine/script.js';
import { acquireWithWait, type Attempt, type AttemptLimits } from '../engine/wait.js';
import { checkDuration, checkName, checkOptions } from '../validate.js';

/** Options of a {@link FairLock}. */
export interface FairLockOptions extends ManagerOptions {
  /**
   * How long a waiter keeps its place without being heard from, in ms (default 3 000). A live
   * waiter re-announces itself every third of this; one that crashed is skipped after at most
   * this long, so a dead process can stall the queue only briefly.
   */
  queueTtl?: number;
}

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
    this.queueTtl = checkDuration(checkOptions<FairLockOptions>(options).queueTtl ?? 3_000, 'queueTtl');
    if (this.queueTtl < 3) throw new InvalidArgumentError('queueTtl', 'must be at least 3 ms');
  }

  /** The holder and the queue of `name`. Changes nothing. */
  async inspect(name: string): Promise<FairLockInfo> {
    this.assertOpen();
    const keys = this.keys(checkName(name));
    const [owner, fence, pttl, queue] = asArray(await this.call(fairInspect, keys.slice(0, 2), []));
    const o = asString(owner);
    return { owner: o === '' ? undefined : o, fence: asNumber(fence), ttl: Math.max(0, asNumber(pttl)), queue: asArray(queue).map(asString) };
  }

  /** Whether `name` is held by anyone. */
  async isLocked(name: string): Promise<boolean> {
    return (await this.inspect(name)).owner !== undefined;
  }

  protected async acquireLease(name: string, options: AcquireOptions | undefined, scoped: boolean): Promise<Lease> {
    const resource = checkName(name);
    const call = this.resolveAcquire(options, scoped);
    const keys = this.keys(resource);
    const token = randomUUID();
    // Each waiter listens on its own channel, so a release wakes exactly the head of the queue.
    const wakePrefix = `${keys[0]}:wake:`;
    const queueing = call.block && call.timeout > 0;
    const backend: LeaseBackend = {
      extend: async (ttl) => asNumber(await this.call(fairExtend, keys.slice(0, 1), [token, ttl])) === 1,
      // Batched: locks released in the same tick share one script call (like their acquires).
      release: () => this.runner.runBatched(fairRelease, keys, [token, wakePrefix], { timeoutMs: this.commandTimeout }, isZero),
    };
    let sentAt = 0;
    const attempt = async (limits: AttemptLimits): Promise<Attempt<number>> => {
      sentAt = monotonicNow();
      // Batched: fair locks taken in the same tick (each with its own keys) share one script call.
      const reply = asArray(
        await this.runner.runBatched(fairAcquire, keys, [token, call.ttl, this.queueTtl, queueing ? '1' : '0', wakePrefix], {
          ...limits,
          onLateReply: (late) => {
            if (asNumber(asArray(late)[0]) === 1) backend.release().catch(() => undefined);
          },
        }),
      );
      if (asNumber(reply[0]) === 1) return { ok: true, acquired: asNumber(reply[1]) };
      return { ok: false, retryAfter: Math.max(1, asNumber(reply[1])) };
    };
    const fence = await acquireWithWait(
      this.waitPlan(resource, call, wakePrefix + token, {
        // Every attempt renews the waiter's heartbeat: never sleep so long that it lapses.
        maxSleep: Math.max(1, Math.floor(this.queueTtl / 3)),
        onGiveUp: queueing ? () => this.call(fairWithdraw, keys, [token, wakePrefix]) : undefined,
      }),
      attempt,
    );
    return this.track({ resource, token, fence, ttl: call.ttl, sentAt, backend, autoRenew: call.autoRenew, onLost: call.onLost });
  }

  /** Lock hash, queue and heartbeat keys: one hash tag, so one slot on a cluster. */
  private keys(name: string): string[] {
    return [lockKey(this.prefix, 'fair', name), lockKey(this.prefix, 'fair', name, ':q'), lockKey(this.prefix, 'fair', name, ':hb')];
  }

  private call(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.runner.run(script, keys, args, { timeoutMs: this.commandTimeout });
  }
}

/** A batched fair release's entry: 0 = released, -1 = not ours. */
const isZero = (reply: unknown): boolean => asNumber(reply) === 0;
