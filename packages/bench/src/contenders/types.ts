/** Which Redis driver a contender talks through. */
export type Driver = 'ioredis' | 'node-redis' | 'valkey-glide';

/** How a contender is configured for a scenario. */
export interface ContenderMode {
  /**
   * `false`: the library's documented defaults (the lock is never busy in these scenarios).
   * `true`: the scenario makes tasks wait, so the contender must wait without giving up
   * (retry count effectively unlimited; the retry delay is reported in `settings`).
   */
  waiting: boolean;
  /** Lease ttl in ms, the same for every contender. */
  ttl: number;
  /**
   * When waiting: give up an acquire after this many ms (it rejects; the scenario counts an
   * acquire timeout and tries again). Polling peers that only take a retry count get
   * `ceil(timeoutMs / retry delay)` retries. Absent: wait without limit.
   */
  timeoutMs?: number;
}

/** The scenarios of `ALL_CONTENDERS` a contender can be limited to ({@link ContenderFactory.scenarios}). */
export type ContenderScenario = 'uncontended' | 'parallel-keys' | 'contended' | 'semaphore' | 'multi';

/**
 * Lock kinds beyond the exclusive lock of one key ({@link ContenderFactory.kinds}): `semaphore`
 * ({@link Contender.acquireSemaphore}), `multi` — several keys as one lock, all or none
 * ({@link Contender.acquireAll}).
 */
export type ContenderKind = 'semaphore' | 'multi';

/** Releases a lock taken by {@link Contender.acquire}. */
export type Release = () => Promise<void>;

/** One live instance of a contender: one connection (plus whatever the library adds itself). */
export interface Contender {
  /** Take the exclusive lock on `key` (waiting if the mode says so); resolves with its release. */
  acquire(key: string): Promise<Release>;
  /** Take one permit of the counting semaphore `key` of size `limit` (contenders of kind `semaphore`). */
  acquireSemaphore?(key: string, limit: number): Promise<Release>;
  /** Take every key of `keys` as one lock, all or none (contenders of kind `multi`). */
  acquireAll?(keys: readonly string[]): Promise<Release>;
  /** The exact settings this instance runs with (library options and connection options). */
  readonly settings: Record<string, unknown>;
  /** Close the library and the connections this instance opened. */
  close(): Promise<void>;
}

/** A contender in the benchmark: a library (or the raw limit) on one driver. */
export interface ContenderFactory {
  /** Display name, e.g. `hilok (ioredis)`. */
  readonly name: string;
  readonly driver: Driver;
  /** The raw `SET NX PX` + compare-and-delete limit of its driver (no library). */
  readonly raw: boolean;
  /**
   * Not a library but a probe: hilok's own Lua scripts called directly, without hilok's
   * JavaScript, so the gap between hilok and the raw limit splits into its server side (the
   * scripts) and its client side (the library). Runs in the throughput scenarios only.
   */
  readonly probe?: boolean;
  /**
   * The scenarios this contender runs in (absent: all of them). hilok's other lock kinds run
   * where their targets are judged, to keep a full run within its time budget.
   */
  readonly scenarios?: readonly ContenderScenario[];
  /** The lock kinds beyond the exclusive one its instances offer (the semaphore and multi-name rows run these). */
  readonly kinds?: readonly ContenderKind[];
  /** Open one instance on its own connection to `url`. */
  create(url: string, mode: ContenderMode): Promise<Contender>;
}

/**
 * Retry delay (ms) of the polling peers when a scenario makes them wait: redis-semaphore's own
 * default `retryInterval`, applied to both Redlocks too (their default, 200 ± 100 ms, would
 * leave the lock idle most of the time with 1 ms holds).
 */
export const PEER_RETRY_DELAY_MS = 10;
/** Jitter (± ms) of the Redlocks' retry delay when waiting. */
export const PEER_RETRY_JITTER_MS = 5;

/** Whether `f` runs in `scenario` ({@link ContenderFactory.scenarios}; the semaphore and multi-name rows also need the kind, {@link ContenderFactory.kinds}). */
export function runsIn(f: ContenderFactory, scenario: string): boolean {
  if ((scenario === 'semaphore' || scenario === 'multi') && !f.kinds?.includes(scenario)) return false;
  return !f.scenarios || (f.scenarios as readonly string[]).includes(scenario);
}

/** Retries a polling peer gets for a wait bounded by `timeoutMs` ({@link ContenderMode.timeoutMs}); -1 = unlimited. */
export function retriesFor(mode: ContenderMode, delayMs = PEER_RETRY_DELAY_MS): number {
  return mode.timeoutMs === undefined ? -1 : Math.max(1, Math.ceil(mode.timeoutMs / delayMs));
}
