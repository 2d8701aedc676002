import { LockBusyError, RedisUnavailableError, type LockBlocker } from '../errors.js';
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
      /** The conflicting hold, when the lock's reply names it: carried by the `LockBusyError`. */
      blocker?: LockBlocker;
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

/** The call's deadline: whether it waits for a held lock, and for how long (a resolved acquire has both). */
export type AttemptWithin = Pick<WaitPlan, 'block' | 'timeout'>;

/**
 * How long past its deadline an acquire may still wait for the reply of an attempt it sent
 * before the deadline (ms): a healthy Redis answers well within it, so an attempt sent just
 * before the deadline still tells "held" (busy) from "granted", while a frozen one costs at most
 * this much beyond `timeout`.
 */
export const DEADLINE_SLACK = 100;

/**
 * How long a one-shot acquire (`tryAcquire`, `block: false`, `timeout: 0`) waits for Redis to
 * answer when no finite `timeout` is given (ms): it never waits for a held lock, and a caller
 * that asked "can I have it now?" gets an answer now, not after `commandTimeout`.
 */
export const ONE_SHOT_TIMEOUT = 1_000;

/**
 * The reply deadline of an acquire's first attempt: `min(commandTimeout, timeout + DEADLINE_SLACK)`
 * for a blocking call; for a one-shot call its finite `timeout` (when given) or
 * {@link ONE_SHOT_TIMEOUT}, also at most `commandTimeout`.
 */
export function firstAttemptTimeout(commandTimeout: number, within: AttemptWithin): number {
  if (within.block && within.timeout > 0) return Math.min(commandTimeout, within.timeout + DEADLINE_SLACK);
  return Math.min(commandTimeout, within.timeout > 0 && Number.isFinite(within.timeout) ? within.timeout : ONE_SHOT_TIMEOUT);
}

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
 * One deadline for the whole call: `within.timeout` (or the signal). Every Redis call is bounded
 * by the time left plus {@link DEADLINE_SLACK} (and by `commandTimeout`), so the call ends by
 * `timeout + DEADLINE_SLACK` at the latest. Busy and broken are told by the error, not by waiting
 * longer: no reply in time is a {@link ReplyTimeoutError} (a `RedisUnavailableError`), never
 * busy; `LockBusyError` only when Redis answered "held". A one-shot call (`block: false` or
 * `timeout: 0`) waits for its one reply at most its finite `timeout` if one was given, else
 * {@link ONE_SHOT_TIMEOUT} (see {@link firstAttemptTimeout}).
 */
export function acquireOrWait<T extends number, R = T>(
  head: AttemptHead,
  within: AttemptWithin,
  attempt: (limits: AttemptLimits) => Promise<Attempt<T>>,
  plan: () => WaitPlan,
  granted?: (fence: T) => R,
): Promise<R> {
  // A plain promise chain, not an async function: this is every acquire's path.
  if (head.signal?.aborted) return Promise.reject(head.signal.reason);
  const started = monotonicNow();
  const finish = granted ?? ((fence: T) => fence as unknown as R);
  return attempt({ timeoutMs: firstAttemptTimeout(head.commandTimeout, within), signal: attemptSignalOf(head) }).then(
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
    if (!blocking) throw new LockBusyError(plan.resource, 'held', first.retryAfter, first.blocker);
    const deadline = started + plan.timeout;
    const retryAfter = first.retryAfter;
    emit(diagnostics.wait, () => ({ ...eventBase(plan), retryAfter }));
    // Every later call is bounded by the time left plus DEADLINE_SLACK: its reply still decides
    // (granted, or busy once the deadline has passed), and no reply is a ReplyTimeoutError —
    // Redis broken, not the lock busy.
    // When the latest attempt was sent: a subscription live since before then missed nothing.
    let sentAt = started;
    const tryOnce = (): Promise<Attempt<T>> => {
      attempts++;
      sentAt = monotonicNow();
      const timeoutMs = Math.min(plan.commandTimeout, Math.max(0, deadline - monotonicNow()) + DEADLINE_SLACK);
      return attempt({ timeoutMs, signal: attemptSignalOf(plan) });
    };

    let result: Attempt<T> = first;
    let waiter: Waiter | undefined;
    // A subscription not confirmed yet (a slow or silent pub/sub link): the wait goes on by
    // polling, and each poll's pause is spent waiting for this confirmation.
    let joining: Promise<Waiter> | undefined;
    let channel: string | undefined;
    // A polling waiter addressed by token listens locally (no subscription): a release in this
    // process that hands the lock to it wakes it at once (WakeHub.local).
    let local: Waiter | undefined;
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
          // A subscription that was live before our last attempt was sent (a hot lock's channel,
          // kept by the hub across waits) cannot have missed a release after it: no retry needed —
          // unless a wake-up for every waiter (or the next one) came since that attempt was sent:
          // it reached the waiters joined then, not this one, which joined only now (the hub keeps
          // no unaddressed wake-up for later joiners; addressed ones it does, see WakeHub.recent).
          if (waiter && waiter.liveSince <= sentAt && waiter.heardAt < sentAt) continue;
          result = await tryOnce();
          if (result.ok) break;
          continue;
        }
        const left = deadline - monotonicNow();
        if (left <= 0) throw new LockBusyError(plan.resource, 'timeout', result.retryAfter, result.blocker);
        const fallback = result.retryAfter > 0 ? result.retryAfter + 1 : 1;
        const nap = Math.min(fallback, left, plan.maxSleep ?? Infinity);
        if (waiter) wokenAt = (await waiter.sleep(nap, plan.signal)) ? monotonicNow() : undefined;
        else if (joining) {
          // Still unconfirmed: poll with the spin backoff, waiting for the confirmation meanwhile.
          waiter = await confirmedWithin(joining, Math.min(spinDelay(plan.spin, round), nap), plan.signal);
          if (waiter) joining = undefined;
        } else if (plan.token !== undefined) {
          local ??= plan.hub.local(result.channel ?? plan.channel, plan.token);
          wokenAt = (await local.sleep(Math.min(spinDelay(plan.spin, round), nap), plan.signal)) ? monotonicNow() : undefined;
        } else await sleep(Math.min(spinDelay(plan.spin, round), nap), plan.signal);
        result = await tryOnce();
      }
      return result.acquired;
    } catch (err) {
      // The clean-up (e.g. leaving a queue) is awaited at most DEADLINE_SLACK (and not past the
      // deadline's slack), then runs on in the background: a frozen Redis must not hold the call.
      const { onGiveUp } = plan;
      if (onGiveUp) {
        const ms = Math.min(DEADLINE_SLACK, Math.max(0, deadline + DEADLINE_SLACK - monotonicNow()));
        await settledWithin(Promise.resolve().then(onGiveUp), ms);
      }
      throw err;
    } finally {
      waiter?.leave();
      local?.leave();
      abandonJoin(joining);
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

/**
 * Least wait for a SUBSCRIBE confirmation before the first poll (ms): a healthy link confirms
 * in one round trip, so only a slow or silent one falls back to polling.
 */
const JOIN_WAIT_MIN = 50;

/**
 * The waiter once `joining` confirmed its subscription, or `undefined` if that takes longer than
 * `ms` (the join stays pending; wait on it again later). A failed subscription rejects (a
 * {@link RedisUnavailableError}); so does `signal`, with its reason.
 */
function confirmedWithin(joining: Promise<Waiter>, ms: number, signal?: AbortSignal): Promise<Waiter | undefined> {
  return new Promise<Waiter | undefined>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve(undefined);
    }, Math.max(1, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
    joining.then(
      (waiter) => {
        done();
        resolve(waiter);
      },
      (err: unknown) => {
        done();
        reject(err);
      },
    );
  });
}

/** Resolves once `task` settled (its outcome ignored) or after `ms`, whichever is first. */
export function settledWithin(task: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    task.then(
      () => (clearTimeout(timer), resolve()),
      () => (clearTimeout(timer), resolve()),
    );
  });
}

/** Give up a join that never confirmed: a subscription that completes later must not keep a phantom waiter around. */
function abandonJoin(joining: Promise<Waiter> | undefined): void {
  joining?.then(
    (w) => w.leave(),
    () => undefined,
  );
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
