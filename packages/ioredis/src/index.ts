/**
 * `@hilok/ioredis`: hilok locks on ioredis. Re-exports everything of `@hilok/core`, with lock
 * managers that take your ioredis client or a URL: `new Mutex(redis)`, `new Mutex('redis://…')`.
 * Switching to node-redis is a one-import change (`@hilok/node-redis`).
 * @packageDocumentation
 */
import { createDriverBindings, type HiLok as CoreHiLok, type Mutex as CoreMutex, type SpinLock as CoreSpinLock } from '@hilok/core';
import { createIoredisAdapter, type IoredisClient } from './adapter.js';

export * from '@hilok/core';
export { createIoredisAdapter, type IoredisClient, type IoredisAdapterOptions } from './adapter.js';

const bindings = createDriverBindings<IoredisClient>((connection) => createIoredisAdapter(connection));

/** A {@link CoreMutex | Mutex} that takes an ioredis client or a URL. */
export const Mutex = bindings.Mutex;
/** Instance type of {@link Mutex}. */
export type Mutex = CoreMutex;
/** A {@link CoreSpinLock | SpinLock} that takes an ioredis client or a URL. */
export const SpinLock = bindings.SpinLock;
/** Instance type of {@link SpinLock}. */
export type SpinLock = CoreSpinLock;
/** A {@link CoreHiLok | HiLok} (hierarchical read-write lock) that takes an ioredis client or a URL. */
export const HiLok = bindings.HiLok;
/** Instance type of {@link HiLok}. */
export type HiLok = CoreHiLok;
