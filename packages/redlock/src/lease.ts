import { LockLostError, LockReleaseError } from '@hilok/core';
import { checkDuration, checkTtlAgainst } from './options.js';
import { monotonicNow, type Acquired, type QuorumEngine } from './engine.js';

type State = 'held' | 'released' | 'lost';

/** Called by the `Redlock` when a lease ends (to stop tracking it). */
export type OnEnd = (lease: RedlockLease) => void;

/**
 * A lock held on a majority of instances. `valid` is true until the validity — measured on our
 * monotonic clock from the moment the acquire was sent, minus the drift allowance — runs out;
 * then `signal` aborts with a `LockLostError`. Usable with `await using` (its dispose never
 * throws; a failed release is kept in `releaseError`).
 */
export class RedlockLease implements AsyncDisposable {
  /** The lock's name (or path for read/write holds). */
  readonly resource: string;
  /** The owner token stored on every instance. */
  readonly token: string;
  /**
   * Fencing token: the largest of the granting instances' server clocks (µs) at the grant.
   * Not a strict global order — see README, "Fencing on a quorum".
   */
  readonly fence: number;
  /** The error of the last release that could not throw (dispose, or after a failed body). */
  releaseError: LockReleaseError | undefined;

  private state: State = 'held';
  private until: number;
  private ttlMs: number;
  private timer: NodeJS.Timeout | undefined;
  // The AbortController and the expiry timer exist only once someone reads `signal`: a lock
  // taken and released without looking at it costs no EventTarget and no timer.
  private controller: AbortController | undefined;
  private lostError: LockLostError | undefined;

  /** Created by `Redlock`; not meant to be constructed by users. */
  constructor(
    private readonly engine: QuorumEngine,
    private readonly acquired: Acquired,
    ttl: number,
    private readonly instanceTimeout: number,
    private readonly onEnd: OnEnd,
  ) {
    this.resource = acquired.kind.resource;
    this.token = acquired.token;
    this.fence = acquired.fence;
    this.until = acquired.validUntil;
    this.ttlMs = ttl;
  }

  /** Aborts with a `LockLostError` when validity runs out or an extension finds the hold lost. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.lostError) this.controller.abort(this.lostError);
      else this.arm();
    }
    return this.controller.signal;
  }

  /**
   * True while not released, not lost, and validity is left — read from the monotonic clock on
   * every access, so after a process pause it is `false` at once, even before the signal's timer
   * has run. Check it (or {@link RedlockLease.throwIfLost}) before every protected side effect.
   */
  get valid(): boolean {
    return this.state === 'held' && monotonicNow() < this.until;
  }

  /** Same as {@link RedlockLease.valid}, under the name core's `Lease` uses. */
  get held(): boolean {
    return this.valid;
  }

  /**
   * Throw unless the lease is valid (see {@link RedlockLease.valid}): the one-line guard before a
   * side effect. Marks the lease lost (aborting the signal) if its validity ran out.
   * @throws LockLostError when the lease was lost, its validity ran out, or it was released
   */
  throwIfLost(): void {
    if (this.state === 'released') throw new LockLostError(this.resource, 'it was already released');
    if (this.state === 'lost') throw this.lostError as LockLostError;
    if (!this.valid) throw this.markLost('its validity ran out');
  }

  /** Monotonic time (`performance.now()` scale) at which validity runs out. */
  get validUntil(): number {
    return this.until;
  }

  /** Milliseconds of validity left (0 once released, lost or expired). */
  get remaining(): number {
    return this.state === 'held' ? Math.max(0, this.until - monotonicNow()) : 0;
  }

  /** The ttl the hold was last set to. */
  get ttl(): number {
    return this.ttlMs;
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
      const until = await this.engine.extend(this.acquired.kind, ttl, this.until);
      if (this.state !== 'held') return;
      this.until = until;
      this.ttlMs = ttl;
      if (this.controller) this.arm();
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

  /** Release without ever throwing; a failure is stored in {@link RedlockLease.releaseError}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.releaseQuietly();
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

  /** One timer per lease: it fires when validity runs out. Unref'd so it never keeps a process alive. */
  private arm(): void {
    clearTimeout(this.timer);
    if (this.state !== 'held') return;
    const left = this.until - monotonicNow();
    if (left <= 0) {
      this.markLost('its validity ran out');
      return;
    }
    this.timer = setTimeout(() => this.arm(), left);
    this.timer.unref();
  }

  private markLost(detail: string): LockLostError {
    if (this.lostError) return this.lostError;
    const error = new LockLostError(this.resource, detail);
    if (this.state === 'released') return error;
    this.lostError = error;
    this.end('lost');
    this.controller?.abort(error);
    return error;
  }

  private end(state: State): void {
    clearTimeout(this.timer);
    const first = this.state === 'held';
    this.state = state;
    if (first) this.onEnd(this);
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
