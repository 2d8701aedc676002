import { LockBusyError, RedisUnavailableError } from '../errors.js';
import { ReplyTimeoutError, type RunOptions } from './script.js';
import { monotonicNow } from './lease.js';
import type { WakeHub, Waiter } from './wake-hub.js';
import { diagnostics, emit } from './diagnostics.js';

/** The outcome of one acquire attempt: the hold, or how long the blocker's lease has left. */
export type Attempt<T> =
  | { ok: true; acquired: T }
  | {
      ok: false;
      /** Ms until the blocking lease ends: the fallback wake-up time. */
      retryAfter: number;
      /** Channel whose release message can unblock us (default: the plan's channel). */
      channel?: string;
    };

/** Backoff of the spin strategy: `initialDelay · factor^n`, capped at `maxDelay`, with jitter. */
export interface SpinOptions {
  /** First delay in ms (default 5). */
  initialDelay: number;
  /** Largest delay in ms (default 200). */
  maxDelay: number;
  /** Growth factor per failed attempt (default 2). */
  factor: number;
}

/** Default backoff of the spin strategy. */
export const DEFAULT_SPIN: SpinOptions = { initialDelay: 5, maxDelay: 200, factor: 2 };

/** How to wait for a busy lock. */
export interface WaitPlan {
  /** The lock's name or path, for errors. */
  resource: string;
  /** False: one attempt only. */
  block: boolean;
  /** Overall wait in ms, from the first attempt (Infinity = no limit). */
  timeout: number;
  /** Cancels the wait (rejects with the signal's reason). */
  signal?: AbortSignal | undefined;
  /**
   * Cancels an in-flight attempt too; default `signal`. Managers pass only the caller's signal
   * here (listening for their own close on every call would cost an EventTarget listener each).
   */
  attemptSignal?: AbortSignal | undefined;
  /** `'pubsub'` sleeps until a release message (or the blocker's ttl); `'spin'` polls with backoff. */
  strategy: 'pubsub' | 'spin';
  spin: SpinOptions;
  /** Upper bound of one Redis call. */
  commandTimeout: number;
  hub: WakeHub;
  /** Channel whose release messages can unblock this acquire, unless an attempt names another. */
  channel: string;
  /** Longest single sleep in ms (e.g. to refresh a waiting writer's intent); default unlimited. */
  maxSleep?: number;
  /**
   * The waiter's token, for locks whose release hands off to one named waiter (the mutex): only
   * a message naming it wakes this waiter (see {@link WakeHub}). Without it, any wake-up may.
   */
  token?: string;
  /** Called (awaited, errors ignored) when the wait ends without the lock after a failed attempt. */
  onGiveUp?: () => Promise<unknown>;
  /** Lock kind for diagnostics events (the manager's class name). */
  kind?: string;
  /** Extra fields for diagnostics events (e.g. a HiLok hold's mode). */
  detail?: Record<string, unknown>;
}

/** What an attempt is allowed: a reply deadline and the cancel signal. */
export interface AttemptLimits {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * The script-call options of an attempt within `limits`. The first attempt of an acquire (no
 * signal, the full command timeout) reuses the hold's one `first` object, so the free-lock case
 * allocates no options per call; later attempts get their own, with the same late-reply undo.
 */
export function attemptRunOptions(limits: AttemptLimits, first: RunOptions): RunOptions {
  if (limits.signal === undefined && limits.timeoutMs === first.timeoutMs) return first;
  return { timeoutMs: limits.timeoutMs, signal: limits.signal, onLateReply: first.onLateReply };
}

/** What the first attempt of an acquire needs (a {@link WaitPlan} has all of it). */
export type AttemptHead = Pick<WaitPlan, 'resource' | 'kind' | 'detail' | 'commandTimeout' | 'signal' | 'attemptSignal'>;

/**
 * Acquire with waiting, shared by every lock kind. Tries once; if busy and blocking, joins the
 * lock's wake-up channel, tries again (closing the race with a release that happened before the
 * subscription was live), then sleeps until a release message or the blocker's remaining ttl —
 * pub/sub is at-most-once, so the timer is the safety net — and repeats until the deadline.
 *
 * The free-lock case stays lean: the first attempt runs with only `head`, and the wait plan is
 * built (by `plan`) only when that attempt found the lock busy. `granted` (e.g. wrapping the
 * fence in a lease) runs in the same promise reaction as the grant, not one hop later.
 *
 * The first Redis call is bounded by `commandTimeout` (a frozen Redis fails with
 * {@link ReplyTimeoutError}); once Redis has said the lock is held, every later call is cut at the
 * deadline, so the whole call ends by `max(timeout, first reply)` with "busy".
 */
export function acquireOrWait<T extends number, R = T>(
  head: AttemptHead,
  attempt: (limits: AttemptLimits) => Promise<Attempt<T>>,
  plan: () => WaitPlan,
  granted?: (fence: T) => R,
): Promise<R> {
  // A plain promise chain, not an async function: this is every acquire's path.
  if (head.signal?.aborted) return Promise.reject(head.signal.reason);
  const started = monotonicNow();
  const finish = granted ?? ((fence: T) => fence as unknown as R);
  // Until Redis has answered once we cannot tell "busy" from "broken": the full commandTimeout.
  return attempt({ timeoutMs: head.commandTimeout, signal: attemptSignalOf(head) }).then(
    (first) => {
      if (!first.ok) return waitAfterBusy(plan(), attempt, first, started).then(finish);
      if (diagnostics.acquire.hasSubscribers) reportGrant(head, first.acquired, started, 1, undefined);
      return finish(first.acquired);
    },
    (err: unknown) => {
      reportFailure(head, err, started);
      throw err;
    },
  );
}

/** The rest of {@link acquireOrWait} once the first attempt found the lock busy. */
async function waitAfterBusy<T extends number>(
  plan: WaitPlan,
  attempt: (limits: AttemptLimits) => Promise<Attempt<T>>,
  first: Attempt<T> & { ok: false },
  started: number,
): Promise<T> {
  let attempts = 1;
  let wokenAt: number | undefined;
  try {
    const fence = await waitLoop();
    reportGrant(plan, fence, started, attempts, wokenAt);
    return fence;
  } catch (err) {
    reportFailure(plan, err, started);
    throw err;
  }

  async function waitLoop(): Promise<T> {
    const blocking = plan.block && plan.timeout > 0;
    if (!blocking) throw new LockBusyError(plan.resource, 'held', first.retryAfter);
    const deadline = started + plan.timeout;
    const retryAfter = first.retryAfter;
    emit(diagnostics.wait, () => ({ ...eventBase(plan), retryAfter }));
    // Redis has answered, so from now on every call is cut at the deadline, and running into
    // it means "busy".
    const tryOnce = async (): Promise<Attempt<T>> => {
      const untilDeadline = Math.max(1, deadline - monotonicNow());
      const cutAtDeadline = untilDeadline < plan.commandTimeout;
      try {
        attempts++;
        return await attempt({ timeoutMs: cutAtDeadline ? untilDeadline : plan.commandTimeout, signal: attemptSignalOf(plan) });
      } catch (err) {
        if (cutAtDeadline && err instanceof ReplyTimeoutError) throw new LockBusyError(plan.resource, 'timeout');
        throw err;
      }
    };

    let result: Attempt<T> = first;
    let waiter: Waiter | undefined;
    let channel: string | undefined;
    try {
      for (let round = 0; !result.ok; round++) {
        const wanted = result.channel ?? plan.channel;
        if (plan.strategy === 'pubsub' && wanted !== channel) {
          // (Re)subscribe where the current blocker's release will be announced, then try again:
          // a release between our last attempt and the subscription would otherwise be missed.
          waiter?.leave();
          waiter = undefined;
          abandonJoin(joining);
          joining = plan.hub.join(wanted, plan.token);
          channel = wanted;
          // Bounded like a sleep — by the blocker's ttl and the time left — not by commandTimeout.
          const nap = Math.min(Math.max(JOIN_WAIT_MIN, result.retryAfter + 1), plan.maxSleep ?? Infinity);
          waiter = await confirmedWithin(joining, Math.min(plan.commandTimeout, deadline - monotonicNow(), nap), plan.signal);
          if (waiter) joining = undefined;
          result = await tryOnce();
          if (result.ok) break;
          continue;
        }
        const left = deadline - monotonicNow();
        if (left <= 0) throw new LockBusyError(plan.resource, 'timeout', result.retryAfter);
        const fallback = result.retryAfter > 0 ? result.retryAfter + 1 : 1;
        const nap = Math.min(fallback, left, plan.maxSleep ?? Infinity);
        if (waiter) wokenAt = (await waiter.sleep(nap, plan.signal)) ? monotonicNow() : undefined;
        else await sleep(Math.min(spinDelay(plan.spin, round), nap), plan.signal);
        result = await tryOnce();
      }
      return result.acquired;
    } catch (err) {
      await plan.onGiveUp?.().catch(() => undefined);
      throw err;
    } finally {
      waiter?.leave();
    }
  }
}

/** The signal that cancels an in-flight attempt. */
function attemptSignalOf(plan: AttemptHead): AbortSignal | undefined {
  return 'attemptSignal' in plan ? plan.attemptSignal : plan.signal;
}

function eventBase(plan: AttemptHead): { kind: string; resource: string; detail?: Record<string, unknown> } {
  const base = { kind: plan.kind ?? 'lock', resource: plan.resource };
  return plan.detail ? { ...base, detail: plan.detail } : base;
}

function reportGrant(plan: AttemptHead, fence: number, started: number, attempts: number, wokenAt: number | undefined): void {
  const now = monotonicNow();
  emit(diagnostics.acquire, () => ({ ...eventBase(plan), fence, durationMs: now - started, waited: attempts > 1, attempts }));
  if (wokenAt !== undefined) emit(diagnostics.handoff, () => ({ ...eventBase(plan), fence, latencyMs: now - wokenAt }));
}

function reportFailure(plan: AttemptHead, error: unknown, started: number): void {
  emit(diagnostics.acquireFailed, () => ({ ...eventBase(plan), error, durationMs: monotonicNow() - started }));
}

/** Join a wake-up channel, failing with {@link RedisUnavailableError} if the subscription takes longer than `ms`. */
async function joinWithin(hub: WakeHub, channel: string, ms: number): Promise<Waiter> {
  const joining = hub.join(channel);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisUnavailableError(`no confirmation of SUBSCRIBE ${channel} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([joining, timedOut]);
  } catch (err) {
    // A subscription that completes after we gave up must not keep a phantom waiter around.
    joining.then((w) => w.leave(), () => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** Delay before spin retry number `round` (0-based): exponential, capped, with "equal jitter" (half fixed, half random). */
export function spinDelay(spin: SpinOptions, round: number): number {
  const ceiling = Math.min(spin.maxDelay, spin.initialDelay * spin.factor ** round);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Sleep `ms`, rejecting with the signal's reason if it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
