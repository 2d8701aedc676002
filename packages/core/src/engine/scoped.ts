import { endScope, type LeaseLifecycle } from './lease.js';

/**
 * Run `fn(lease.signal, lease)` under `lease` and end the scope afterwards, with the
 * exception-safety contract every scoped helper shares (core's `withLock`/`withRead`/…, and
 * Redlock's `using`/`withRead`/…): an exception from `fn` propagates unchanged (the lease is
 * released quietly: a release failure is then only reported through the lease); after a clean
 * exit the lease ends its scope by its own contract and throws what the caller must learn — core's
 * `Lease` releases (unless `fn` did) and a failed release, or a lock no longer ours, throws
 * `LockReleaseError`; Redlock's lease also throws the `LockLostError` of a lease lost meanwhile.
 *
 * `fn` gets the lease so it can pass `lease.fence` to the resource it protects and check
 * `lease.held` / `lease.throwIfLost()` — read from the clock — before each side effect.
 */
export async function runScoped<T, L extends LeaseLifecycle>(lease: L, fn: (signal: AbortSignal, lease: L) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(lease.signal, lease);
  } catch (err) {
    await lease.releaseQuietly();
    throw err;
  }
  await lease[endScope]();
  return result;
}
