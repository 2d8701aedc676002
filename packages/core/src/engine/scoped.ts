import type { Lease } from './lease.js';

/**
 * Run `fn` under `lease` and release it afterwards, with the exception-safety contract every
 * scoped helper shares: an exception from `fn` propagates unchanged (a release failure is then
 * only reported through the lease and `onReleaseError`); after a clean exit a failed release —
 * Redis failed, or the lock was no longer ours — throws `LockReleaseError`.
 */
export async function runScoped<T>(lease: Lease, fn: (signal: AbortSignal) => T | Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await fn(lease.signal);
  } catch (err) {
    await lease.releaseQuietly();
    throw err;
  }
  await lease.release({ strict: true });
  return result;
}
