import { isRedisAdapter, type RedisAdapter } from './adapter.js';
import { InvalidArgumentError } from './errors.js';
import { describe } from './validate.js';
import { adoptAdapter } from './engine/manager.js';
import { Mutex, SpinLock, type MutexOptions } from './mutex/mutex.js';
import { HiLok, type HiLokOptions } from './hilok/hilok.js';
import { ReentrantMutex } from './reentrant/reentrant.js';
import { FairLock, type FairLockOptions } from './fair/fair.js';
import { ReadWriteLock, type ReadWriteLockOptions } from './rwlock/rwlock.js';
import { Semaphore, type SemaphoreOptions } from './semaphore/semaphore.js';

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
  /** {@link ReentrantMutex} on this driver: `new ReentrantMutex(clientOrUrl, options)`. */
  ReentrantMutex: new (connection: Connection<C>, options?: MutexOptions) => ReentrantMutex;
  /** {@link ReadWriteLock} on this driver: `new ReadWriteLock(clientOrUrl, options)`. */
  ReadWriteLock: new (connection: Connection<C>, options?: ReadWriteLockOptions) => ReadWriteLock;
  /** {@link FairLock} on this driver: `new FairLock(clientOrUrl, options)`. */
  FairLock: new (connection: Connection<C>, options?: FairLockOptions) => FairLock;
  /** {@link Semaphore} on this driver: `new Semaphore(clientOrUrl, options)`. */
  Semaphore: new (connection: Connection<C>, options?: SemaphoreOptions) => Semaphore;
}

/**
 * How a driver package recognises its clients: core knows no driver's method names, so a third
 * driver brings its own test.
 */
export interface DriverClients<C> {
  /** Whether `value` is a client of this driver. */
  isClient(value: unknown): value is C;
  /**
   * Why `value`, which is no client of this driver, cannot be used, when the driver recognises
   * it — typically another driver's client, naming the package that takes it. `undefined` for
   * anything else (the caller then says what a connection must be).
   */
  describeOther?(value: unknown): string | undefined;
}

/**
 * Build the lock-manager classes of a driver package, so `new Mutex(clientOrUrl)` looks the same
 * whichever driver is imported — switching drivers is a one-import change. A manager built from
 * a URL owns that connection and closes it in `close()`; one built from the user's client closes
 * only the pub/sub connection it duplicated; a ready adapter is used as is and left open.
 *
 * @param toAdapter - the driver's adapter factory (client or URL → adapter)
 * @param clients - how the driver recognises its clients (and another driver's)
 */
export function createDriverBindings<C>(toAdapter: (connection: C | string) => RedisAdapter, clients: DriverClients<C>): DriverBindings<C> {
  const resolve = (connection: Connection<C>): RedisAdapter =>
    isRedisAdapter(connection) ? connection : adoptAdapter(toAdapter(checkConnection(connection, clients)));

  /** Subclass `Base` so its first constructor argument may be a client or URL too. */
  const bind = <O, I>(Base: new (adapter: RedisAdapter, options?: O) => I): new (connection: Connection<C>, options?: O) => I => {
    const Bound = class extends (Base as unknown as new (adapter: RedisAdapter, options?: O) => object) {
      constructor(connection: Connection<C>, options?: O) {
        const adapter = resolve(connection);
        try {
          super(adapter, options);
        } catch (err) {
          // Bad options: close what was opened for this manager (a URL's client, a duplicate).
          if (adapter !== connection) adapter.close().catch(() => undefined);
          throw err;
        }
      }
    };
    Object.defineProperty(Bound, 'name', { value: Base.name });
    return Bound as unknown as new (connection: Connection<C>, options?: O) => I;
  };

  return {
    Mutex: bind(Mutex),
    SpinLock: bind(SpinLock),
    HiLok: bind(HiLok),
    ReentrantMutex: bind(ReentrantMutex),
    ReadWriteLock: bind(ReadWriteLock),
    FairLock: bind(FairLock),
    Semaphore: bind(Semaphore),
  };
}

/**
 * A connection must be a `redis://`, `rediss://` or `unix://` URL, or a client of the driver
 * (it says which: {@link DriverClients}); anything else is a caller bug, reported before any
 * connection is attempted.
 */
function checkConnection<C>(connection: C | string, clients: DriverClients<C>): C | string {
  if (typeof connection === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(connection);
    } catch {
      url = undefined;
    }
    if (!url || !['redis:', 'rediss:', 'unix:'].includes(url.protocol)) {
      throw new InvalidArgumentError('connection', `expected a redis://, rediss:// or unix:// URL, got ${describe(connection)}`);
    }
    return connection;
  }
  if (clients.isClient(connection)) return connection;
  const other = clients.describeOther?.(connection);
  throw new InvalidArgumentError('connection', other ?? `expected a Redis client, a URL or a RedisAdapter, got ${describe(connection)}`);
}
