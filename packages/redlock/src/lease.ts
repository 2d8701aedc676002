import { LockLostError, LockReleaseError } from '@hilok/core';
import { LeaseLifecycle, checkDuration, endScope } from '@hilok/core/internal';
import type { Acquired, QuorumEngine } from './engine.js';
import { checkTtlAgainst } from './options.js';

/** Called by the `Redlock` when a lease ends (to stop tracking it). */
export type OnEnd = (lease: RedlockLease) => void;

/** Start extending a lease every `interval` ms until it is released (the scoped helpers' renewal). */
export const keepExtending: unique symbol = Symbol('hilok.redlock.keepExtending');

/**
 * A lock held on a majority of instances. `valid` is true until the validity — measured on our
 * monotonic clock from the moment the acquire was sent, minus the drift allowance — runs out;
 * then `signal` aborts with a `LockLostError`. Usable with `await using` (its dispose never
 * throws; a failed release is kept in `releaseError`). Its life (held, released, lost; the
 * signal and the expiry timer) is core's lease lifecycle; extend and release go to the quorum.
 */
export class RedlockLease extends LeaseLifecycle {
  /**
   * Fencing token: the largest of the granting instances' server clocks (µs) at the grant.
   * Not a strict global order — see docs/redlock.md, "Fencing on a quorum".
   */
  declare readonly fence: number;

  /** Ms between extensions while a scoped helper runs (0: none). */
  private extendInterval = 0;
  private extendTimer: NodeJS.Timeout | undefined;
  private extending: Promise<void> | undefined;

  /** Created by `Redlock`; not meant to be constructed by users. */
  constructor(
    private readonly engine: QuorumEngine,
    private readonly acquired: Acquired,
    ttl: number,
    private readonly instanceTimeout: number,
    private readonly onEnd: OnEnd,
  ) {
    // The expiry timer is armed once the signal is read: a lock taken and released without
    // looking at it costs no EventTarget and no timer.
    super(acquired.kind.resource, acquired.token, acquired.fence, ttl, acquired.validUntil, false);
  }

  /**
   * True while not released, not lost, and validity is left — read from the monotonic clock on
   * every access, so after a process pause it is `false` at once, even before the signal's timer
   * has run. Check it (or {@link RedlockLease.throwIfLost}) before every protected side effect.
   * (`held` is the same, under the name core's `Lease` uses.)
   */
  get valid(): boolean {
    return this.held;
  }

  /** Monotonic time (`performance.now()` scale) at which validity runs out. */
  get validUntil(): number {
    return this.expires;
  }

  /**
   * Reset the ttl on a majority of instances (default: the current ttl). Counts only if a
   * majority agreed before the current validity ran out.
   * @throws LockLostError when validity already ran out (no Redis call is made), or the hold is
   *   gone on too many instances — the signal aborts too
   * @throws QuorumError when too few instances answered; the lease stays valid until `validUntil`
   */
  async extend(ttl: number = this.ttlMs): Promise<void> {
    checkDuration(ttl, 'ttl');
    checkTtlAgainst(ttl, this.instanceTimeout, this.engine.driftFactor);
    if (this.state === 'released') throw new LockLostError(this.resource, 'it was already released');
    if (this.state === 'lost') throw this.lostError as LockLostError;
    // After expiry someone else may hold a majority: fail at once and say so, never retry.
    if (!this.valid) throw this.markLost('its validity ran out before the extension');
    try {
      const until = await this.engine.extend(this.acquired.kind, ttl, this.expires);
      if (this.state !== 'held') return;
      this.expires = until;
      this.ttlMs = ttl;
      this.armExpiry();
    } catch (err) {
      if (err instanceof LockLostError) throw this.markLost(err.message.replace(/^.*?was lost: /, ''));
      throw err;
    }
  }

  /**
   * Release on every instance (also those that did not grant it: a grant may have landed late).
   * Resolves `true` when a majority still had the hold, `false` when it had already expired,
   * been lost or been released.
   * @throws LockReleaseError when fewer than a majority answered (`cause`: the `QuorumError`);
   *   what is left expires at its ttl, and the lease stays usable for another try
   */
  async release(): Promise<boolean> {
    if (this.state === 'released') return false;
    await this.stopExtending();
    const wasHeld = this.state === 'held';
    let removed: number;
    try {
      removed = await this.engine.release(this.acquired.kind, this.acquired.fences);
    } catch (err) {
      throw new LockReleaseError(this.resource, err instanceof Error ? err.message : String(err), err);
    }
    this.end('released');
    return wasHeld && removed >= this.engine.instances.quorum;
  }

  /** Release; record (never throw) a failure. Resolves the error, if any. */
  async releaseQuietly(): Promise<LockReleaseError | undefined> {
    try {
      await this.release();
      return undefined;
    } catch (err) {
      this.releaseError = err as LockReleaseError;
      return this.releaseError;
    }
  }

  /**
   * Extend every `interval` ms until released. A failed extension (instances unreachable) is
   * retried sooner, never past the validity; when validity runs out the lease's own timer aborts
   * the signal.
   */
  [keepExtending](interval: number): void {
    this.extendInterval = interval;
    this.extendIn(interval);
  }

  /**
   * After a clean scope: stop extending, release, and — the caller must learn the section was
   * not protected to the end — throw the `LockLostError` of a lease lost meanwhile. A failed
   * release throws `LockReleaseError`.
   */
  async [endScope](): Promise<void> {
    await this.stopExtending();
    const lost = this.signal.aborted ? (this.signal.reason as LockLostError) : undefined;
    await this.release();
    if (lost) throw lost;
  }

  protected expiredDetail(): string {
    return 'its validity ran out';
  }

  protected ended(): void {
    this.onEnd(this);
  }

  private extendIn(delay: number): void {
    if (this.extendInterval === 0 || !this.valid) return;
    this.extendTimer = setTimeout(() => {
      this.extending = this.extend().then(
        () => this.extendIn(this.extendInterval),
        (err: unknown) => {
          // Lost: the signal has aborted already; nothing more to do.
          if (err instanceof LockLostError) return;
          // Unreachable instances: try again within the validity that is left.
          this.extendIn(Math.max(10, Math.min(this.extendInterval, this.remaining / 4)));
        },
      );
    }, delay);
    this.extendTimer.unref();
  }

  /** No more extensions; let a running one finish, so it cannot land after the release. */
  private async stopExtending(): Promise<void> {
    this.extendInterval = 0;
    clearTimeout(this.extendTimer);
    await this.extending;
  }
}

/** A read or write hold on a path, on the quorum. */
export class RedlockHold extends RedlockLease {
  /** `'read'` or `'write'`. */
  readonly mode: 'read' | 'write';

  /** Created by `Redlock`; not meant to be constructed by users. */
  constructor(engine: QuorumEngine, acquired: Acquired, ttl: number, instanceTimeout: number, onEnd: OnEnd, mode: 'read' | 'write') {
    super(engine, acquired, ttl, instanceTimeout, onEnd);
    this.mode = mode;
  }

  /** The path held. */
  get path(): string {
    return this.resource;
  }
}
