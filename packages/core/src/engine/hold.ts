/**
 * The one hold of every single-name lock kind (`Mutex`, `SpinLock`, `ReentrantMutex`, `FairLock`,
 * `Semaphore`): acquire attempts, the withdrawal of a waiter that gives up, and the owner-checked
 * extend and release of the lease — driven by the kind's {@link HoldProtocol}, which lives in its
 * `<kind>/protocol.ts` next to the keys and readers it uses.
 *
 * This is the uncontended path's hottest object: one allocation per acquire plus its closures
 * (the attempt handed to the wait loop, the reply readers handed to the script runner), no
 * per-attempt options object for the first attempt, and batch scripts run through
 * {@link ScriptRunner.runBatched} so calls of one tick share one EVALSHA.
 */
import type { ScriptArg } from '../adapter.js';
import { RedisUnavailableError } from '../errors.js';
import { monotonicNow, type LeaseBackend } from './lease.js';
import type { RunOptions, Script, ScriptRunner } from './script.js';
import { attemptRunOptions, type Attempt, type AttemptHead, type AttemptLimits } from './wait.js';
import type { WakeHub } from './wake-hub.js';

/** One acquire reply entry as a kind's protocol reads it. */
export type GrantReply = { ok: true; fence: number } | { ok: false; retryAfter: number } | { ok: false; foreign: true };

/** One release reply entry: whether our hold was removed, and the waiter(s) it handed the lock to. */
export interface ReleaseReply {
  readonly released: boolean;
  /** Token(s) of the waiters this release woke; one of them waiting in this process goes at once. */
  readonly handedTo?: string | readonly string[] | undefined;
  /**
   * Waiters of this process the release granted directly (a {@link HoldProtocol.directHandOff}
   * kind), with their fences: each holds from the reply on, without an attempt of its own.
   */
  readonly granted?: readonly { readonly token: string; readonly fence: number }[] | undefined;
}

/** What a protocol's argument builders may read of a hold. */
export interface HoldFacts {
  readonly token: string;
  /** Fencing token of the grant (0 until granted). */
  readonly fence: number;
  /** The lock's wake-up channel ({@link HoldProtocol.channel} of the first key). */
  readonly channel: string;
  /** The acquire ARGV the hold was made with (the kind's own layout). */
  readonly acquireArgs: readonly ScriptArg[];
  /**
   * Tokens of other holds of this process queued on the same lock (at most
   * {@link LOCAL_WAITERS_MAX}, oldest first): a {@link HoldProtocol.directHandOff} release names
   * them so that its script may grant them directly. Empty for other kinds.
   */
  localWaiters(): readonly string[];
  /** The same waiters' holds (their tokens and acquire ARGV: a kind that needs their ttl reads it there). */
  localHolds(): readonly HoldFacts[];
}

/** Most local waiter tokens a release names ({@link HoldFacts.localWaiters}): bounds its ARGV. */
export const LOCAL_WAITERS_MAX = 8;

/**
 * A single-name lock kind's Redis protocol as the generic {@link ProtocolHold} runs it: its
 * scripts, ARGV builders and reply readers. One constant object per kind (`mutexProtocol`,
 * `fairProtocol`, `semaphoreProtocol`). A script with a `@batch` header is run batched.
 */
export interface HoldProtocol {
  /** The kind's word in errors (`"mutex"`). */
  readonly name: string;
  readonly acquire: Script;
  readonly extend: Script;
  readonly release: Script;
  readonly withdraw: Script;
  /** The wake-up channel of the lock whose first key is `lock`. */
  channel(lock: string): string;
  /** Read one acquire reply entry (a late one too: a grant that came after we gave up is undone). */
  readAcquire(entry: unknown): GrantReply;
  /** ARGV of the attempts after the first (default: the first's): a waiter may be queued by then. */
  retryArgs?(first: readonly ScriptArg[]): ScriptArg[];
  /** Which keys extend takes: the lock key alone or all of the kind's keys. */
  readonly extendKeys: 'lock' | 'all';
  extendArgs(token: string, ttl: number): ScriptArg[];
  readExtend(entry: unknown): boolean;
  releaseArgs(hold: HoldFacts): ScriptArg[];
  readRelease(entry: unknown): ReleaseReply;
  withdrawArgs(hold: HoldFacts): ScriptArg[];
  /**
   * The kind's release grants queued waiters of the releasing process directly (the semaphore):
   * a queued hold registers itself process-wide while it waits, a release names the registered
   * ones ({@link HoldFacts.localWaiters}) and hands each grant in its reply
   * ({@link ReleaseReply.granted}) to that hold, which then holds without a Redis call of its
   * own. Its withdraw must give back such a grant too (the waiter may give up before it sees it).
   */
  readonly directHandOff?: boolean;
}

/**
 * Queued holds of {@link HoldProtocol.directHandOff} kinds in this process, by the lock's channel
 * (the prefix and name are in it), then token. Process-wide, not per manager: a release through
 * one client may grant a waiter that waits through another. A token names one acquire, so a grant
 * for it is that acquire's grant whichever Redis the managers talk to (a token queued on another
 * server is not in this server's queue: the script grants nobody for it).
 */
const queuedHolds = new Map<string, Map<string, ProtocolHold>>();
const NO_WAITERS: readonly string[] = Object.freeze([]);
const NO_HOLDS: readonly HoldFacts[] = Object.freeze([]);

/** What every hold of one manager shares (one object per manager, not four fields per hold). */
export interface HoldEngine {
  readonly runner: ScriptRunner;
  readonly hub: WakeHub;
  readonly commandTimeout: number;
  /** Lock kind for diagnostics events (the manager's class name). */
  readonly kind: string;
  /** Script-call options of extend, release and withdraw: the command timeout only. */
  readonly plain: RunOptions;
}

/** One acquire's own facts: built by the kind's manager, read once by the hold. */
export interface HoldInit {
  /** The lock's name, for errors and diagnostics. */
  resource: string;
  /** The lock's keys, as the kind's protocol builds them (the first one names the lock). */
  keys: readonly string[];
  token: string;
  /** ARGV of the first attempt (the kind's builder: token, ttl, flags …). */
  acquireArgs: ScriptArg[];
  /** A blocking caller that queues in Redis when busy: it withdraws when it gives up. */
  queues: boolean;
  /** The caller's signal: cancels the first attempt. */
  signal: AbortSignal | undefined;
  /** Extra fields for diagnostics events (e.g. a semaphore's permits and limit). */
  detail?: Record<string, unknown> | undefined;
}

/**
 * The Redis side of one acquire of a single-name lock and the hold it yields. It is the
 * {@link AttemptHead} of the acquire and the {@link LeaseBackend} of its lease.
 */
export class ProtocolHold implements LeaseBackend, AttemptHead, HoldFacts {
  /** Monotonic time the latest attempt was sent: the hold's validity counts from there. */
  sentAt = 0;
  /** Fencing token of the grant (0 until granted). */
  fence = 0;
  readonly resource: string;
  readonly keys: readonly string[];
  readonly token: string;
  readonly acquireArgs: ScriptArg[];
  readonly queues: boolean;
  readonly signal: AbortSignal | undefined;
  readonly detail: Record<string, unknown> | undefined;
  readonly commandTimeout: number;
  readonly kind: string;
  private readonly runner: ScriptRunner;
  private firstOptions: RunOptions | undefined;
  private retryArgs: ScriptArg[] | undefined;
  private attempts = 0;
  /** The channel this hold is registered on in {@link queuedHolds} while it waits (directHandOff kinds). */
  private queuedOn: string | undefined;
  /** A fence a release of this process granted us while we waited (0: none), and when that release was sent. */
  private handedFence = 0;
  private handedSentAt = 0;
  /** Monotonic time our latest release was sent: a waiter it grants counts its lease from there. */
  private releaseSentAt = 0;

  constructor(
    private readonly protocol: HoldProtocol,
    private readonly engine: HoldEngine,
    init: HoldInit,
  ) {
    this.resource = init.resource;
    this.keys = init.keys;
    this.token = init.token;
    this.acquireArgs = init.acquireArgs;
    this.queues = init.queues;
    this.signal = init.signal;
    this.detail = init.detail;
    this.runner = engine.runner;
    this.commandTimeout = engine.commandTimeout;
    this.kind = engine.kind;
  }

  /** The lock's wake-up channel. */
  get channel(): string {
    return this.protocol.channel(this.keys[0] as string);
  }

  /** One acquire attempt (an arrow property: it is handed to the wait loop as is). */
  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    if (this.handedFence > 0) return Promise.resolve(this.takeHandOver());
    this.sentAt = monotonicNow();
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    // Only a retry can find the caller queued already: the protocol may say so in its ARGV.
    const args = this.attempts++ === 0 ? this.acquireArgs : (this.retryArgs ??= this.protocol.retryArgs?.(this.acquireArgs) ?? this.acquireArgs);
    return this.call(this.protocol.acquire, this.keys, args, options, this.readGrant);
  };

  /** Leave the queue after giving up (room or a reservation held for us goes to the next in line). */
  withdraw(): Promise<unknown> {
    this.unqueue();
    // A grant handed to us and never taken is given back by the withdraw script itself.
    this.handedFence = 0;
    return this.runner.run(this.protocol.withdraw, this.keys, this.protocol.withdrawArgs(this), this.engine.plain);
  }

  /** Tokens of the other holds of this process queued on this lock, oldest first (see {@link HoldFacts.localWaiters}). */
  localWaiters(): readonly string[] {
    const holds = this.localHolds();
    return holds.length === 0 ? NO_WAITERS : holds.map((h) => h.token);
  }

  /** The other holds of this process queued on this lock, oldest first, at most {@link LOCAL_WAITERS_MAX}. */
  localHolds(): readonly HoldFacts[] {
    const holds = queuedHolds.get(this.channel);
    if (holds === undefined) return NO_HOLDS;
    const out: HoldFacts[] = [];
    for (const hold of holds.values()) {
      if (hold.token !== this.token) out.push(hold);
      if (out.length === LOCAL_WAITERS_MAX) break;
    }
    return out;
  }

  extend(ttl: number): Promise<boolean> {
    const keys = this.protocol.extendKeys === 'lock' ? this.keys.slice(0, 1) : this.keys;
    return this.call(this.protocol.extend, keys, this.protocol.extendArgs(this.token, ttl), this.engine.plain, this.protocol.readExtend);
  }

  release(): Promise<boolean> {
    if (this.protocol.directHandOff) this.releaseSentAt = monotonicNow();
    return this.call(this.protocol.release, this.keys, this.protocol.releaseArgs(this), this.engine.plain, this.readRelease);
  }

  /** Run `script` batched with other calls of this tick when it is a batch script, else alone. */
  private call<T>(script: Script, keys: readonly string[], args: readonly ScriptArg[], options: RunOptions, read: (reply: unknown) => T): Promise<T> {
    if (script.batch !== undefined) return this.runner.runBatched(script, keys, args, options, read);
    return this.runner.run(script, keys, args, options).then(read);
  }

  /** An acquire entry: the fence, or busy with the ms until a retry is worth it. */
  private readonly readGrant = (entry: unknown): Attempt<number> => {
    const r = this.protocol.readAcquire(entry);
    if (r.ok) {
      if (this.queuedOn !== undefined) this.unqueue();
      this.handedFence = 0;
      this.fence = r.fence;
      return { ok: true, acquired: r.fence };
    }
    if ('foreign' in r) throw new RedisUnavailableError(`the key of ${this.protocol.name} "${this.resource}" holds a value that is not a hilok ${this.protocol.name}`);
    // Queued in Redis now: a release in this process may grant us directly (unless one already
    // did while this attempt was on its way: the next attempt takes that grant).
    if (this.queues && this.protocol.directHandOff && this.queuedOn === undefined && this.handedFence === 0) this.enqueue();
    return r;
  };

  private enqueue(): void {
    const channel = this.channel;
    let holds = queuedHolds.get(channel);
    if (holds === undefined) queuedHolds.set(channel, (holds = new Map()));
    holds.set(this.token, this);
    this.queuedOn = channel;
  }

  private unqueue(): void {
    const channel = this.queuedOn;
    if (channel === undefined) return;
    this.queuedOn = undefined;
    const holds = queuedHolds.get(channel);
    if (holds?.get(this.token) === this) {
      holds.delete(this.token);
      if (holds.size === 0) queuedHolds.delete(channel);
    }
  }

  /**
   * A release of this process granted us `fence` (its script ran after `sentAt`, so our lease,
   * counted from `sentAt`, ends before the server's): the next attempt takes it without Redis.
   * Wake our waiter the way the release's message would have.
   */
  private handOver(fence: number, sentAt: number): void {
    if (this.queuedOn === undefined) return;
    this.unqueue();
    this.handedFence = fence;
    this.handedSentAt = sentAt;
    this.engine.hub.handOff(this.channel, this.token);
  }

  /** The attempt that takes a handed-over grant. */
  private takeHandOver(): Attempt<number> {
    this.unqueue();
    this.attempts++;
    this.sentAt = this.handedSentAt;
    this.fence = this.handedFence;
    this.handedFence = 0;
    return { ok: true, acquired: this.fence };
  }

  /** A release entry; a waiter of this process it handed the lock to wakes now, ahead of the pub/sub message. */
  private readonly readRelease = (entry: unknown): boolean => {
    const r = this.protocol.readRelease(entry);
    const to = r.handedTo;
    if (typeof to === 'string') this.engine.hub.handOff(this.channel, to);
    else if (to !== undefined && to.length > 0) {
      const channel = this.channel;
      for (const token of to) this.engine.hub.handOff(channel, token);
    }
    const granted = r.granted;
    if (granted !== undefined && granted.length > 0) {
      const holds = queuedHolds.get(this.channel);
      for (const g of granted) holds?.get(g.token)?.handOver(g.fence, this.releaseSentAt);
    }
    return r.released;
  };

  /** A reply that came after we gave up may say "granted": undo that ghost hold. */
  private readonly undoLateGrant = (late: unknown): void => {
    if (this.protocol.readAcquire(late).ok) this.release().catch(() => undefined);
  };
}
