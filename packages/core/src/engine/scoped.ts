import type { Lease } from './lease.js';

/**
 * Run `fn(lease.signal, lease)` under `lease` and release it afterwards, with the
 * exception-safety contract every scoped helper shares: an exception from `fn` propagates
 * unchanged (a release failure is then only reported through the lease and `onReleaseError`);
 * after a clean exit a failed release — Redis failed, or the lock was no longer ours — throws
 * `LockReleaseError`. A lease `fn` released itself is not released again.
 *
 * `fn` gets the lease so it can pass `lease.fence` to the resource it protects and check
 * `lease.held` / `lease.throwIfLost()` — read from the clock — before each side effect.
 */
export async function runScoped<T, L extends Lease = Lease>(lease: L, fn: (signal: AbortSignal, lease: L) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(lease.signal, lease);
  } catch (err) {
    await lease.releaseQuietly();
    throw err;
  }
  if (!lease.released) await lease.release({ strict: true });
  return result;
}
