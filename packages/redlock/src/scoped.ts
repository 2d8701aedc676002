import { LockLostError } from '@hilok/core';
import type { RedlockLease } from './lease.js';

/**
 * Run `fn(lease.signal, lease)` while extending `lease` every `interval` ms, then release it.
 * - `fn` gets the lease for its `fence` and for the clock-true check before each side effect
 *   (`lease.valid` / `lease.throwIfLost()`; the signal may lag a process pause by a timer tick).
 * - An exception from `fn` propagates unchanged; a failing release is only recorded in
 *   `lease.releaseError` (the top complaint about `using()` in node-redlock is the reverse).
 * - After a clean exit a failed release throws `LockReleaseError`, and a lease lost while `fn`
 *   ran throws its `LockLostError`: the caller must learn the section was not protected.
 * - A failed extension (instances unreachable) is retried sooner, never past the validity;
 *   when validity runs out the lease's own timer aborts the signal.
 */
export async function runScoped<T, L extends RedlockLease>(lease: L, fn: (signal: AbortSignal, lease: L) => T | Promise<T>, interval: number): Promise<T> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();

  const schedule = (delay: number): void => {
    if (stopped || !lease.valid) return;
    timer = setTimeout(() => {
      inFlight = lease.extend().then(
        () => schedule(interval),
        (err: unknown) => {
          // Lost: the signal has aborted already; nothing more to do.
          if (err instanceof LockLostError) return;
          // Unreachable instances: try again within the validity that is left.
          schedule(Math.max(10, Math.min(interval, lease.remaining / 4)));
        },
      );
    }, delay);
    timer.unref();
  };
  const stop = async (): Promise<void> => {
    stopped = true;
    clearTimeout(timer);
    // Let a running extension finish, so it cannot land after the release.
    await inFlight;
  };

  schedule(interval);
  let result: T;
  try {
    result = await fn(lease.signal, lease);
  } catch (err) {
    await stop();
    await lease.releaseQuietly();
    throw err;
  }
  await stop();
  const lost = lease.signal.aborted ? (lease.signal.reason as LockLostError) : undefined;
  await lease.release();
  if (lost) throw lost;
  return result;
}
