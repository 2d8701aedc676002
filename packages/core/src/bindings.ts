import { isRedisAdapter, type RedisAdapter } from './adapter.js';
import { adoptAdapter } from './engine/manager.js';
import { Mutex, SpinLock, type MutexOptions } from './mutex/mutex.js';
import { HiLok, type HiLokOptions } from './hilok/hilok.js';

/**
 * What a driver package accepts wherever a lock manager needs Redis: a ready adapter, the
 * user's own client `C`, or a `redis://` URL.
 */
export type Connection<C> = RedisAdapter | C | string;

/** Constructors of a driver package's lock managers: same classes as core, taking a `Connection<C>`. */
export interface DriverBindings<C> {
  /** {@link Mutex} on this driver: `new Mutex(clientOrUrl, options)`. */
  Mutex: new (connection: Connection<C>, options?: MutexOptions) => Mutex;
  /** {@link SpinLock} on this driver: `new SpinLock(clientOrUrl, options)`. */
  SpinLock: new (connection: Connection<C>, options?: MutexOptions) => SpinLock;
  /** {@link HiLok} on this driver: `new HiLok(clientOrUrl, options)`. */
  HiLok: new (connection: Connection<C>, options?: HiLokOptions) => HiLok;
}

/**
 * Build the lock-manager classes of a driver package, so `new Mutex(clientOrUrl)` looks the same
 * whichever driver is imported — switching drivers is a one-import change. A manager built from
 * a URL owns that connection and closes it in `close()`; one built from the user's client closes
 * only the pub/sub connection it duplicated; a ready adapter is used as is and left open.
 *
 * @param toAdapter - the driver's adapter factory (client or URL → adapter)
 */
export function createDriverBindings<C>(toAdapter: (connection: C | string) => RedisAdapter): DriverBindings<C> {
  const resolve = (connection: Connection<C>): RedisAdapter =>
    isRedisAdapter(connection) ? connection : adoptAdapter(toAdapter(connection));

  /** Subclass `Base` so its first constructor argument may be a client or URL too. */
  const bind = <O, I>(Base: new (adapter: RedisAdapter, options?: O) => I): new (connection: Connection<C>, options?: O) => I => {
    const Bound = class extends (Base as unknown as new (adapter: RedisAdapter, options?: O) => object) {
      constructor(connection: Connection<C>, options?: O) {
        super(resolve(connection), options);
      }
    };
    Object.defineProperty(Bound, 'name', { value: Base.name });
    return Bound as unknown as new (connection: Connection<C>, options?: O) => I;
  };

  return { Mutex: bind(Mutex), SpinLock: bind(SpinLock), HiLok: bind(HiLok) };
}
