import type { RedisAdapter } from '../adapter.js';
import { RedisUnavailableError } from '../errors.js';
import { connectionFailure } from '../connection.js';

/** Payload a releasing script publishes when every waiter may now proceed (e.g. readers). */
export const WAKE_ALL = 'all';

/** How many unclaimed addressed tokens a channel remembers (see `Channel.recent`). */
const RECENT_TOKENS = 32;

/** Prefix of a payload addressed to one waiter: `to:<token>` wakes only the waiter joined with that token. */
const ADDRESSED = 'to:';

interface Channel {
  readonly name: string;
  readonly waiters: Waiter[];
  /** Resolves once the server confirmed the subscription; all adapter calls for the channel chain on it. */
  ready: Promise<void>;
  subscribed: boolean;
  /** Monotonic time the current subscription was confirmed (Infinity while not live). */
  liveSince: number;
  /**
   * Monotonic time the latest message not addressed to a token ({@link WAKE_ALL} or a wake-one)
   * arrived (-Infinity: none yet). It woke only the waiters joined then: one that joins later and
   * whose attempt was sent before it must retry (see `Waiter.heardAt`).
   */
  heardAt: number;
  /**
   * Tokens of the latest addressed messages that found no waiter here (insertion order, at most
   * {@link RECENT_TOKENS}): a waiter can be addressed before it joins — its attempt's reply and the
   * release's message travel on different connections — and then starts woken.
   */
  recent: Set<string>;
  lingerTimer: NodeJS.Timeout | undefined;
}

/**
 * Turns pub/sub release messages into wake-ups of local waiters.
 *
 * One subscription per channel per process, however many local waiters share it; the
 * subscription lingers briefly after the last waiter leaves so a busy lock does not churn
 * SUBSCRIBE/UNSUBSCRIBE. A message `to:<token>` wakes only the waiter that joined with that token
 * (the mutex's hand-off: in every other process the message wakes nobody, so a release costs one
 * retry however many processes wait); {@link WAKE_ALL} wakes every local waiter; any other
 * payload wakes one local waiter (the oldest without a pending wake). Pub/sub is at-most-once, so
 * every wait also has a fallback timer chosen by the caller.
 */
export class WakeHub {
  private readonly channels = new Map<string, Channel>();
  private closed = false;

  /**
   * @param adapter - where to subscribe
   * @param lingerMs - how long an unused subscription is kept before UNSUBSCRIBE (default 2 s: a
   *   lock waited for again within that keeps its subscription, so a contended lock costs no
   *   SUBSCRIBE per wait; the timer is unref'd and never keeps the process alive)
   */
  constructor(
    private readonly adapter: RedisAdapter,
    private readonly lingerMs = 2_000,
  ) {}

  /**
   * Join the waiters of `channel` (as `token`, if releases address their waiters by token);
   * resolves once the subscription is live, so no later release is missed.
   */
  async join(channel: string, token?: string): Promise<Waiter> {
    if (this.closed) throw new RedisUnavailableError('wake-up hub is closed');
    const state = this.channel(channel);
    const waiter = this.add(state, token);
    if (!state.subscribed) {
      state.subscribed = true;
      const current = state;
      state.ready = state.ready
        .catch(() => undefined)
        .then(() => this.adapter.subscribe(channel, (message) => this.deliver(current, message)))
        .then(() => {
          current.liveSince = performance.now();
        })
        .catch((err: unknown) => {
          current.subscribed = false;
          // A missing channel permission (NOPERM) says which ACL rule to add.
          throw connectionFailure(err) ?? new RedisUnavailableError(`could not subscribe to ${channel} for wake-ups`, err);
        });
    }
    try {
      await state.ready;
    } catch (err) {
      waiter.leave();
      throw err;
    }
    return waiter;
  }

  /**
   * Join the waiters of `channel` as `token` without subscribing: only this process's own
   * hand-offs ({@link handOff}: a release reply naming `token`) wake the waiter, and any message
   * of a subscription another waiter of this process holds on the channel. A polling (spin) waiter
   * uses it: a release in the same process hands it the lock at once instead of at its next poll,
   * at no Redis cost (no SUBSCRIBE, no connection).
   */
  local(channel: string, token: string): Waiter {
    return this.add(this.channel(channel), token);
  }

  /** The state of `name`, created (not subscribed) if new; a pending unsubscribe is called off. */
  private channel(name: string): Channel {
    let state = this.channels.get(name);
    if (!state) {
      state = { name, waiters: [], ready: Promise.resolve(), subscribed: false, liveSince: Infinity, heardAt: -Infinity, recent: new Set(), lingerTimer: undefined };
      this.channels.set(name, state);
    }
    clearTimeout(state.lingerTimer);
    state.lingerTimer = undefined;
    return state;
  }

  /** A new waiter on `state`, woken at once if a message addressed to `token` came before it. */
  private add(state: Channel, token: string | undefined): Waiter {
    const waiter = new Waiter(() => this.leave(state, waiter), token, () => state.liveSince, () => state.heardAt);
    state.waiters.push(waiter);
    if (token !== undefined && state.recent.delete(token)) waiter.wake();
    return waiter;
  }

  /**
   * Wake the waiter of this process joined on `channel` as `token`, if any — what the pub/sub
   * message addressed to it would do, without waiting for it (a releaser that learnt from its
   * reply whom it handed the lock to). The message, when it comes, finds the waiter gone or
   * already woken.
   */
  handOff(channel: string, token: string): void {
    const state = this.channels.get(channel);
    if (state) this.deliver(state, ADDRESSED + token);
  }

  /** Unsubscribe everything and stop all timers. Waiters still waiting fall back to their timers. */
  async close(): Promise<void> {
    this.closed = true;
    const pending: Promise<unknown>[] = [];
    for (const state of this.channels.values()) {
      clearTimeout(state.lingerTimer);
      if (state.subscribed) pending.push(state.ready.then(() => this.adapter.unsubscribe(state.name)).catch(() => undefined));
    }
    this.channels.clear();
    await Promise.all(pending);
  }

  /** Number of channels currently subscribed (for tests and diagnostics). */
  get subscriptionCount(): number {
    let n = 0;
    for (const state of this.channels.values()) if (state.subscribed) n++;
    return n;
  }

  private deliver(state: Channel, message: string): void {
    if (!message.startsWith(ADDRESSED)) state.heardAt = performance.now();
    if (message === WAKE_ALL) {
      for (const waiter of state.waiters) waiter.wake();
      return;
    }
    if (message.startsWith(ADDRESSED)) {
      const token = message.slice(ADDRESSED.length);
      let found = false;
      for (const waiter of state.waiters) {
        if (waiter.token === token) {
          waiter.wake();
          found = true;
        }
      }
      if (!found) {
        // Most such messages are for other processes' waiters; a few are for one of ours that
        // has not joined yet. Remember the latest few.
        state.recent.add(token);
        if (state.recent.size > RECENT_TOKENS) state.recent.delete(state.recent.values().next().value as string);
      }
      return;
    }
    const next = state.waiters.find((w) => !w.pending);
    next?.wake();
  }

  private leave(state: Channel, waiter: Waiter): void {
    const index = state.waiters.indexOf(waiter);
    if (index === -1) return;
    state.waiters.splice(index, 1);
    // A wake this waiter received but will never act on belongs to the next one in line (an
    // addressed one does not: the lock's own withdraw passes a hand-off on).
    if (waiter.pending && waiter.token === undefined) state.waiters.find((w) => !w.pending)?.wake();
    if (state.waiters.length > 0 || this.closed) return;
    state.lingerTimer = setTimeout(() => {
      if (state.waiters.length > 0) return;
      if (!state.subscribed) {
        // Only local (spin) waiters used it: nothing to unsubscribe, just forget the channel.
        if (this.channels.get(state.name) === state) this.channels.delete(state.name);
        return;
      }
      state.subscribed = false;
      state.liveSince = Infinity;
      // Chained on `ready` so a later re-subscribe of the same channel is ordered after this.
      state.ready = state.ready
        .catch(() => undefined)
        .then(() => this.adapter.unsubscribe(state.name))
        .catch(() => undefined)
        .then(() => {
          if (!state.subscribed && state.waiters.length === 0) this.channels.delete(state.name);
        });
    }, this.lingerMs);
    state.lingerTimer.unref();
  }
}

/** One local waiter on a channel: sleeps until woken by a release message or its own timer. */
export class Waiter {
  /** True when a wake arrived that this waiter has not consumed yet. */
  pending = false;
  private resume: (() => void) | undefined;

  /**
   * @param onLeave - removes this waiter from its channel
   * @param token - the token hand-off messages address this waiter by, if any
   * @param since - when its channel's current subscription was confirmed (Infinity while not live)
   * @param heard - when its channel's latest unaddressed message arrived (-Infinity: none)
   */
  constructor(
    private readonly onLeave: () => void,
    readonly token?: string,
    private readonly since: () => number = () => Infinity,
    private readonly heard: () => number = () => -Infinity,
  ) {}

  /**
   * Monotonic time since which the channel's subscription has been live (`Infinity` while it is
   * not): a release published after that reaches this waiter.
   */
  get liveSince(): number {
    return this.since();
  }

  /**
   * Monotonic time the channel's latest message not addressed to a token ({@link WAKE_ALL}, a
   * wake-one) arrived, `-Infinity` if none: it woke the waiters joined then, not this one if it
   * joined later — a live subscription is not enough, a wake-up between an attempt and the join
   * that follows it was heard by the hub but reached no waiter of that attempt.
   */
  get heardAt(): number {
    return this.heard();
  }

  /** Wake this waiter now, or at its next {@link sleep} if it is busy retrying. */
  wake(): void {
    this.pending = true;
    this.resume?.();
  }

  /**
   * Sleep until woken, `ms` elapse, or `signal` aborts (rejects with the signal's reason).
   * Returns immediately if a wake is already pending. Resolves `true` when woken by a message,
   * `false` when the timer ran out.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve, reject) => {
      const finish = (woken: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.resume = undefined;
        this.pending = false;
        resolve(woken);
      };
      const onAbort = (): void => {
        clearTimeout(timer);
        this.resume = undefined;
        reject(signal?.reason);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, ms));
      this.resume = () => finish(true);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stop waiting; a pending wake is handed on to the next waiter. */
  leave(): void {
    this.onLeave();
  }
}
