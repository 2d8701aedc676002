import { LockLostError, LockReleaseError, RedisUnavailableError } from '../errors.js';
import { checkDuration } from '../validate.js';
import { diagnostics, emit } from './diagnostics.js';

/** Monotonic milliseconds; never jumps with the wall clock. */
export const monotonicNow = (): number => performance.now();

/**
 * The clock-drift margin taken off every lease's validity: `ttl · 0.01 + 2 ms` (Redlock's
 * default). It covers timer granularity and a modest rate difference between our clock and
 * the Redis server's, so that our lease ends — and its signal aborts — before the key can
 * expire on the server and be granted to someone else.
 */
export function leaseDrift(ttl: number): number {
  return ttl * 0.01 + 2;
}

/** What a lock kind must provide for its leases: the Redis side of extend and release. */
export interface LeaseBackend {
  /** Reset the hold's ttl in Redis; resolves `false` when the hold is no longer ours. */
  extend(ttl: number): Promise<boolean>;
  /** Remove the hold in Redis; resolves `false` when the hold was no longer ours. */
  release(): Promise<boolean>;
}

/** How a lease behaves while held: renewal and notifications. */
export interface LeaseBehaviour {
  /** Renew every `autoRenew` ms while held (the watchdog); `undefined` disables it. */
  autoRenew?: number | undefined;
  /** Called once if the lease is found lost (also signalled through {@link Lease.signal}). */
  onLost?: ((error: LockLostError) => void) | undefined;
  /** Called when a release that cannot throw (dispose, or after the body threw) fails. */
  onReleaseError?: ((error: LockReleaseError) => void) | undefined;
}

/** Everything a lock kind knows about a hold it just obtained. */
export interface LeaseInit extends LeaseBehaviour {
  resource: string;
  token: string;
  fence: number;
  ttl: number;
  /** Monotonic time at which the acquire request was sent: validity counts from there. */
  sentAt: number;
  backend: LeaseBackend;
  /** Lock kind for diagnostics events. */
  kind?: string;
  /** Extra fields for diagnostics events (e.g. a HiLok hold's mode). */
  detail?: Record<string, unknown>;
  /** Called once when the lease ends for any reason (release, loss). */
  onEnd?: ((lease: Lease) => void) | undefined;
}

type LeaseState = 'held' | 'released' | 'lost';

/**
 * What a scoped helper calls after its body returned normally (see `runScoped`): each lease kind
 * ends its scope by its own contract. A symbol, so it is no method of the public API.
 */
export const endScope: unique symbol = Symbol('hilok.endScope');

/**
 * The life of every lease, whatever its lock and however many Redis servers it lives on: held
 * until released or lost; a validity that ends at a monotonic time (`expires`); the loss signal
 * (an AbortController created only when the signal is read) and one expiry timer, armed only
 * while someone can observe it. Core's {@link Lease} and `@hilok/redlock`'s `RedlockLease` build
 * on it; each adds how its hold is extended and released.
 */
export abstract class LeaseLifecycle implements AsyncDisposable {
  /** The lock's name or path. */
  readonly resource: string;
  /** The owner token stored in Redis for this hold. */
  readonly token: string;
  /** Fencing token of the hold. */
  readonly fence: number;
  /** The error of the last release that could not throw, if any. */
  releaseError: LockReleaseError | undefined;

  /** The ttl in ms the hold was last set to. */
  protected ttlMs: number;
  /** Monotonic time at which the validity runs out. */
  protected expires: number;
  protected state: LeaseState = 'held';
  /** True once someone can observe a loss (the signal was read, or the kind watches from the start): the expiry timer is armed. */
  protected watching: boolean;
  protected lostError: LockLostError | undefined;
  /** Fires at the validity's end; armed whenever the lease is held and watched. */
  private expiryTimer: NodeJS.Timeout | undefined;
  // The AbortController and the expiry timer are created only when someone can observe them
  // (core's Lease: the signal is read, onLost is set, the watchdog runs, or `hilok:lost` has
  // subscribers): an uncontended acquire+release then costs no EventTarget and no timer.
  private controller: AbortController | undefined;

  constructor(resource: string, token: string, fence: number, ttl: number, expires: number, watching: boolean) {
    this.resource = resource;
    this.token = token;
    this.fence = fence;
    this.ttlMs = ttl;
    this.expires = expires;
    this.watching = watching;
  }

  /** Aborts with a {@link LockLostError} when the hold is found lost. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.lostError) this.controller.abort(this.lostError);
    }
    if (!this.watching) {
      this.watching = true;
      this.startWatching();
    }
    return this.controller.signal;
  }

  /** The ttl in ms the hold was last set to. */
  get ttl(): number {
    return this.ttlMs;
  }

  /** Milliseconds of validity left on our clock (0 when released, lost or expired). */
  get remaining(): number {
    return this.state === 'held' ? Math.max(0, this.expires - monotonicNow()) : 0;
  }

  /**
   * True while the hold is believed held: not released, not lost, and validity left — read from
   * the monotonic clock on every access, so after a process pause it is `false` at once, even
   * before the signal's timer has run. Check it (or `throwIfLost()`) before every side effect
   * the lock protects.
   */
  get held(): boolean {
    return this.remaining > 0;
  }

  /** True once the lease was released (or detached) by this process. */
  get released(): boolean {
    return this.state === 'released';
  }

  /** True once the hold was found lost (or its validity ran out on our clock). */
  get lost(): boolean {
    if (this.state === 'held' && monotonicNow() >= this.expires) this.markLost(this.expiredDetail(false));
    return this.state === 'lost';
  }

  /**
   * Throw unless the hold is clock-true held (see `held`): the one-line guard before a side
   * effect. Marks the lease lost (aborting the signal) if its validity ran out.
   * @throws {@link LockLostError} when the lease was lost, its validity ran out, or it was released
   */
  throwIfLost(): void {
    if (this.state === 'released') throw new LockLostError(this.resource, 'it was already released');
    if (this.lost) throw this.lostError as LockLostError;
  }

  /** Release without ever throwing (for `await using`); a failure lands in `releaseError`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.releaseQuietly();
  }

  /** Release; record (never throw) a failure. */
  abstract releaseQuietly(): Promise<unknown>;

  /** End a scope whose body returned normally (see `runScoped`); throws what the caller must learn. */
  abstract [endScope](): Promise<void>;

  /** Why the lease is lost when its validity ran out (`timer`: noticed by the expiry timer). */
  protected abstract expiredDetail(timer: boolean): string;

  /** The signal was read for the first time on a lease nobody watched: arm the expiry timer. */
  protected startWatching(): void {
    this.armExpiry();
  }

  /** Arm the expiry timer for the current validity; false (and marked lost) if it already ran out. */
  protected armExpiry(): boolean {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.state !== 'held' || !this.watching) return false;
    const left = this.expires - monotonicNow();
    if (left <= 0) {
      this.markLost(this.expiredDetail(true));
      return false;
    }
    // A timer may fire a little early (ms rounding): armExpiry then re-arms for the rest.
    this.expiryTimer = setTimeout(() => this.armExpiry(), left);
    this.expiryTimer.unref();
    return true;
  }

  /** Mark the lease lost (once): end it, then {@link LeaseLifecycle.announceLost}. Returns the error to throw. */
  protected markLost(detail: string): LockLostError {
    if (this.lostError) return this.lostError;
    const error = new LockLostError(this.resource, detail);
    if (this.state === 'released') return error;
    this.lostError = error;
    this.end('lost');
    this.announceLost(error);
    return error;
  }

  /** Tell the watchers of a loss: the signal aborts (a kind adds its own notifications around this). */
  protected announceLost(error: LockLostError): void {
    this.controller?.abort(error);
  }

  /** Stop the timers and change state; the first end (from held) calls `ended()`. */
  protected end(state: LeaseState): void {
    clearTimeout(this.expiryTimer);
    const first = this.state === 'held';
    this.state = state;
    if (first) this.ended();
  }

  /** Called once, when the lease stops being held (released, detached or lost). */
  protected abstract ended(): void;
}

/**
 * A held lock. Usable with `await using` (its dispose never throws: a failed release is
 * recorded in {@link Lease.releaseError} and passed to `onReleaseError`, so it can never mask
 * the exception of the block). Its {@link Lease.signal} aborts with a {@link LockLostError}
 * as soon as the hold is known to be gone — the watchdog found it taken, or its validity ran
 * out on our monotonic clock without a successful renewal.
 *
 * Validity: `sentAt + ttl − drift`, where `sentAt` is the monotonic time *before* the acquire
 * (or the last renewal whose reply arrived) was sent and drift is `ttl × 1% + 2 ms` (clock drift margin). The
 * expiry timer stays armed the whole time the lease is held — also while a renewal is in
 * flight — so a renewal that never gets its reply cannot postpone the loss signal.
 *
 * A timer cannot run while the process is paused (GC, SIGSTOP), so after a pause the signal
 * may abort one timer tick late; {@link Lease.held} and {@link Lease.throwIfLost} read the
 * clock every time. Check one of them before every side effect.
 */
export class Lease extends LeaseLifecycle {
  /** The watchdog's next renewal (or retry). */
  private renewTimer: NodeJS.Timeout | undefined;
  /** True while a watchdog renewal is in flight (for the loss message). */
  private renewing = false;
  private readonly init: LeaseInit;

  /** Created by lock managers; not meant to be constructed by users. */
  constructor(init: LeaseInit) {
    super(
      init.resource,
      init.token,
      init.fence,
      init.ttl,
      init.sentAt + init.ttl - leaseDrift(init.ttl),
      init.autoRenew !== undefined || init.onLost !== undefined || diagnostics.lost.hasSubscribers,
    );
    this.init = init;
    this.schedule();
  }

  /**
   * Monotonic time (`performance.now()`) at which the hold's validity runs out: the last
   * acquire's or renewal's send time + ttl − drift (`ttl × 1% + 2 ms`).
   */
  get expiresAt(): number {
    return this.expires;
  }

  /**
   * Reset the hold's ttl (default: the ttl it was taken with) on the Redis server's clock.
   * @throws {@link LockLostError} when the hold is no longer ours (the signal aborts too)
   * @throws {@link RedisUnavailableError} when Redis failed; the hold may still be ours
   */
  async extend(ttl: number = this.ttlMs): Promise<void> {
    checkDuration(ttl, 'ttl');
    if (this.state === 'released') throw new LockLostError(this.resource, 'it was already released');
    if (this.lost) throw this.lostError as LockLostError;
    const sentAt = monotonicNow();
    // The expiry timer stays armed while this call is in flight: a reply that never comes
    // cannot postpone the end of the validity we already have.
    const ours = await this.init.backend.extend(ttl);
    emit(diagnostics.extend, () => ({ ...this.eventBase(), token: this.token, ttl, ok: ours, durationMs: monotonicNow() - sentAt }));
    if (!ours) throw this.markLost('it expired or was taken over before the extension');
    if (this.released) return; // released while the call was in flight
    // A reply after the validity ran out counts for nothing: the lease is lost once the clock says so.
    if (this.lost) throw this.lostError as LockLostError;
    this.ttlMs = ttl;
    this.expires = sentAt + ttl - leaseDrift(ttl);
    this.schedule();
  }

  /**
   * Release the hold. Resolves `true` if this call removed it and `false` if it was already gone
   * (expired, taken over, or released before) — unless `strict`, which throws then.
   * @throws {@link LockReleaseError} when Redis failed (with the cause), or in strict mode when the
   *   hold was not ours (expired, taken over) or this lease was released before
   */
  async release(options?: { strict?: boolean }): Promise<boolean> {
    if (this.state === 'released') {
      if (options?.strict) throw new LockReleaseError(this.resource, 'it was already released');
      return false;
    }
    // No more renewals; the expiry timer stays armed until the release is confirmed.
    clearTimeout(this.renewTimer);
    let removed: boolean;
    const sentAt = diagnostics.release.hasSubscribers ? monotonicNow() : 0;
    try {
      removed = await this.init.backend.release();
    } catch (err) {
      if (this.state === 'held') this.schedule(false);
      const detail = err instanceof RedisUnavailableError ? err.message : String(err);
      throw new LockReleaseError(this.resource, `Redis failed (${detail}); the hold expires at its ttl`, err);
    }
    if (diagnostics.release.hasSubscribers) {
      diagnostics.release.publish({
        ...this.eventBase(),
        token: this.token,
        fence: this.fence,
        released: removed,
        heldMs: sentAt - this.init.sentAt,
        durationMs: monotonicNow() - sentAt,
      });
    }
    const wasLost = this.state === 'lost';
    this.end('released');
    if (!removed && options?.strict) {
      throw new LockReleaseError(this.resource, wasLost ? 'the lock had been lost' : 'the lock was no longer held (expired or taken over)');
    }
    return removed;
  }

  /**
   * Stop managing this hold locally — no renewal, no expiry signal, not released by the
   * manager's `close()` — while it lives on in Redis until its ttl or an explicit release.
   */
  detach(): void {
    this.end('released');
  }

  /**
   * Release; report (never throw) a failure or a hold that was no longer ours. Used by scoped
   * helpers. A lease released before is left alone (nothing to report).
   */
  async releaseQuietly(): Promise<void> {
    if (this.state === 'released') return;
    try {
      await this.release({ strict: true });
    } catch (err) {
      this.reportReleaseError(err as LockReleaseError);
    }
  }

  /** After a clean scope: release unless `fn` did; a failed release (or a hold no longer ours) throws. */
  async [endScope](): Promise<void> {
    if (!this.released) await this.release({ strict: true });
  }

  protected expiredDetail(timer: boolean): string {
    return timer && this.renewing ? 'Redis did not confirm a renewal before its validity ran out' : 'its ttl elapsed without a successful renewal';
  }

  protected override startWatching(): void {
    this.schedule();
  }

  protected override announceLost(error: LockLostError): void {
    emit(diagnostics.lost, () => ({ ...this.eventBase(), token: this.token, fence: this.fence, error }));
    super.announceLost(error);
    safeCall(this.init.onLost, error);
  }

  protected override end(state: 'held' | 'released' | 'lost'): void {
    clearTimeout(this.renewTimer);
    super.end(state);
  }

  protected ended(): void {
    safeCall(this.init.onEnd, this);
  }

  private eventBase(): { kind: string; resource: string; detail?: Record<string, unknown> } {
    const { kind = 'lock', detail } = this.init;
    return detail ? { kind, resource: this.resource, detail } : { kind, resource: this.resource };
  }

  private reportReleaseError(error: LockReleaseError): void {
    this.releaseError = error;
    safeCall(this.init.onReleaseError, error);
  }

  /**
   * (Re)arm the timers: the expiry timer always (if observed), and the next renewal if the
   * watchdog is on and `renew`.
   */
  private schedule(renew = this.init.autoRenew !== undefined): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    if (!this.armExpiry()) return;
    if (renew) this.renewIn(Math.min(this.init.autoRenew as number, this.expires - monotonicNow()));
  }

  private renewIn(delay: number): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = setTimeout(() => void this.renew(), Math.max(0, delay));
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    if (this.state !== 'held') return;
    this.renewing = true;
    try {
      await this.extend();
    } catch {
      if (this.state !== 'held') return; // lost (signalled already) or released meanwhile
      // Redis failed: retry soon, within the validity left; the expiry timer ends the lease
      // if no renewal gets through in time.
      this.renewIn(Math.min(this.init.autoRenew as number, Math.max(50, (this.expires - monotonicNow()) / 4)));
    } finally {
      this.renewing = false;
    }
  }
}

/** Invoke a user callback; its exceptions must never escape into timers as unhandled errors. */
function safeCall<A>(fn: ((arg: A) => void) | undefined, arg: A): void {
  if (!fn) return;
  try {
    fn(arg);
  } catch (err) {
    process.emitWarning(`hilok: a user callback threw: ${String(err)}`);
  }
}
