/**
 * `@hilok/valkey-glide`: hilok locks on Valkey GLIDE. Re-exports the public API of `@hilok/core`,
 * with lock managers that take your `GlideClient` / `GlideClusterClient` or a URL:
 * `new Mutex(glide)`, `new Mutex('redis://…')`. Switching to ioredis or node-redis is a one-import
 * change (`@hilok/ioredis`, `@hilok/node-redis`).
 * @packageDocumentation
 * @module @hilok/valkey-glide
 */
import { createDriverBindings } from '@hilok/core/internal';
import type { HiLok as CoreHiLok, Mutex as CoreMutex, SpinLock as CoreSpinLock, ReentrantMutex as CoreReentrantMutex, ReadWriteLock as CoreReadWriteLock, FairLock as CoreFairLock, Semaphore as CoreSemaphore } from '@hilok/core';
import { createValkeyGlideAdapter, valkeyGlideClients, type ValkeyGlideClient } from './adapter.js';

// The public API of core (its lock classes are replaced below by ones that take a client or URL).
export * from '@hilok/core';
export { createValkeyGlideAdapter, type ValkeyGlideClient, type ValkeyGlideAdapterOptions } from './adapter.js';

const bindings = createDriverBindings<ValkeyGlideClient>((connection) => createValkeyGlideAdapter(connection), valkeyGlideClients);

/**
 * A {@link CoreMutex | Mutex} that takes a GLIDE client or a URL.
 * @class
 */
export const Mutex = bindings.Mutex;
/** Instance type of {@link Mutex}. */
export type Mutex = CoreMutex;
/**
 * A {@link CoreSpinLock | SpinLock} that takes a GLIDE client or a URL.
 * @class
 */
export const SpinLock = bindings.SpinLock;
/** Instance type of {@link SpinLock}. */
export type SpinLock = CoreSpinLock;
/**
 * A {@link CoreHiLok | HiLok} (hierarchical read-write lock) that takes a GLIDE client or a URL.
 * @class
 */
export const HiLok = bindings.HiLok;
/** Instance type of {@link HiLok}. */
export type HiLok = CoreHiLok;
/**
 * A {@link CoreReentrantMutex | ReentrantMutex} (owner-based reentrancy) that takes a GLIDE client or a URL.
 * @class
 */
export const ReentrantMutex = bindings.ReentrantMutex;
/** Instance type of {@link ReentrantMutex}. */
export type ReentrantMutex = CoreReentrantMutex;
/**
 * A {@link CoreReadWriteLock | ReadWriteLock} (flat, writer-preferring) that takes a GLIDE client or a URL.
 * @class
 */
export const ReadWriteLock = bindings.ReadWriteLock;
/** Instance type of {@link ReadWriteLock}. */
export type ReadWriteLock = CoreReadWriteLock;
/**
 * A {@link CoreFairLock | FairLock} (FIFO, wakes only the next waiter) that takes a GLIDE client or a URL.
 * @class
 */
export const FairLock = bindings.FairLock;
/** Instance type of {@link FairLock}. */
export type FairLock = CoreFairLock;
/**
 * A {@link CoreSemaphore | Semaphore} (counting, a lease per hold) that takes a GLIDE client or a URL.
 * @class
 */
export const Semaphore = bindings.Semaphore;
/** Instance type of {@link Semaphore}. */
export type Semaphore = CoreSemaphore;
