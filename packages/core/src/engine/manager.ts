import { setMaxListeners } from 'node:events';
import type { RedisAdapter } from '../adapter.js';
import { ClosedError, InvalidArgumentError, type LockLostError, type LockReleaseError } from '../errors.js';
import { checkApp, checkCallback, checkDuration, checkName, checkOptions, checkPrefix, checkSignal, checkTimeout, checkBoolean, type AllowedKeys, type OptionKeys } from '../validate.js';
import { Lease, type LeaseInit } from './lease.js';
import { nextOwnerToken, ownerTokenPrefix } from './owner.js';
import { Registry, type RegistrySlot } from './registry.js';
import { ScriptRunner } from './script.js';
import { DEFAULT_SPIN, type SpinOptions, type WaitPlan } from './wait.js';
import { WakeHub } from './wake-hub.js';

/** Options shared by every lock manager (`Mutex`, `HiLok`, …). */
export interface ManagerOptions {
  /** Key namespace, prepended to every key and channel (default `"hilok:"`). No `{` or `}`. */
  prefix?: string;
  /** Default lease ttl in ms (default 30 000). */
  ttl?: number;
  /**
   * Upper bound in ms of any single Redis call (default 5 000): a frozen Redis can't stall a
   * caller longer. An acquire's calls are bounded by its own deadline too, whichever is first.
   */
  commandTimeout?: number;
  /**
   * Watchdog default for `acquire`: `true` renews every ttl/3 while held, a number sets the
   * interval in ms (must be < ttl), `false` (default) lets the lease run out at its ttl.
   * Scoped helpers (`withLock`, …) always renew.
   */
  autoRenew?: boolean | number;
  /** Called when any lease of this manager is found lost. */
  onLost?: (error: LockLostError) => void;
  /** Called when a release that must not throw (dispose, or after the body threw) fails. */
  onReleaseError?: (error: LockReleaseError) => void;
  /**
   * Application label in the owner token of every hold this manager takes (1–64 characters
   * `A-Z a-z 0-9 . _ -`), next to the host, pid and process start time, so `status()` /
   * `inspect()` and `hilok inspect` show who holds a lock (`billing-worker@web-7:4242`); read
   * one back with `parseOwner(token)`. Default: none (host and pid only).
   */
  app?: string;
}

/** The keys of {@link ManagerOptions}; each kind's own options list extends it. */
export const MANAGER_OPTION_KEYS = {
  prefix: true,
  ttl: true,
  commandTimeout: true,
  autoRenew: true,
  onLost: true,
  onReleaseError: true,
  app: true,
} as const satisfies OptionKeys<ManagerOptions>;

/** Per-call options of every acquire. */
export interface AcquireOptions {
  /** Lease ttl in ms (default: the manager's). */
  ttl?: number;
  /**
   * `false`: try once and fail with `LockBusyError` if held (default `true`); never waits for a
   * held lock, and waits for Redis's answer at most `timeout` (default 1 000 ms).
   */
  block?: boolean;
  /**
   * Overall wait in ms (default `Infinity`); one deadline for the whole call. The call ends by
   * `timeout` + 100 ms (an attempt in flight at the deadline gets that long for its reply):
   * `LockBusyError` if Redis answered "held", a `RedisUnavailableError` if it did not answer.
   */
  timeout?: number;
  /**
   * Alias of `timeout`, under redis-kit's / redis-py's name (`blocking_timeout`), so code ported
   * from there reads the same. Giving both with different values is an error.
   */
  blockingTimeout?: number;
  /** Cancels a waiting acquire; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Watchdog for this lease (see {@link ManagerOptions.autoRenew}). */
  autoRenew?: boolean | number;
  /** Called if this lease is found lost. */
  onLost?: (error: LockLostError) => void;
}

/** The keys of {@link AcquireOptions}; each kind's per-call options list extends it. */
export const ACQUIRE_OPTION_KEYS = {
  ttl: true,
  block: true,
  timeout: true,
  blockingTimeout: true,
  signal: true,
  autoRenew: true,
  onLost: true,
} as const satisfies OptionKeys<AcquireOptions>;

/** Acquire options after validation, with defaults applied. */
export interface ResolvedAcquire {
  ttl: number;
  block: boolean;
  timeout: number;
  signal: AbortSignal | undefined;
  autoRenew: number | undefined;
  onLost: ((error: LockLostError) => void) | undefined;
}

const runners = new WeakMap<RedisAdapter, ScriptRunner>();
const hubs = new WeakMap<RedisAdapter, WakeHub>();
const ownedAdapters = new WeakSet<RedisAdapter>();

/**
 * Mark `adapter` as created for one manager only (e.g. from a URL or a client passed to a
 * driver package): that manager closes it in its own `close()`.
 */
export function adoptAdapter<A extends RedisAdapter>(adapter: A): A {
  ownedAdapters.add(adapter);
  return adapter;
}

/**
 * The shared machinery of every lock kind: validated defaults, the script runner and wake-up
 * hub of its adapter (shared by all managers on one adapter), tracking of live leases and
 * pending waits, and `close()`.
 */
export abstract class LockManager implements AsyncDisposable {
  /** The adapter this manager runs on. */
  readonly adapter: RedisAdapter;
  /** The key namespace. */
  readonly prefix: string;
  /** Default lease ttl in ms. */
  readonly ttl: number;
  /** Upper bound of one Redis call in ms. */
  readonly commandTimeout: number;
  protected readonly runner: ScriptRunner;
  protected readonly hub: WakeHub;
  protected readonly defaults: {
    autoRenew: boolean | number;
    onLost: ((error: LockLostError) => void) | undefined;
    onReleaseError: ((error: LockReleaseError) => void) | undefined;
  };
  /** Leases still held, released by close() (a Registry: one add and one delete per lock). */
  private readonly leases = new Registry<Lease>();
  private kindName: string | undefined;
  private readonly resolvedDefaults: [ResolvedAcquire?, ResolvedAcquire?] = [];
  private readonly closing = new AbortController();
  private readonly ownsAdapter: boolean;
  /** `[app@]host:pid:started:nonce.` of this manager's owner tokens (see engine/owner.ts). */
  private readonly tokenPrefix: string;

  /** @param adapter - a driver adapter; @param options - see {@link ManagerOptions} */
  constructor(adapter: RedisAdapter, options?: ManagerOptions) {
    // The shape only: each kind checks the keys against its own list (a superset of these).
    const o = checkOptions<ManagerOptions>(options, null);
    if (typeof adapter !== 'object' || adapter === null || typeof adapter.evalsha !== 'function') {
      throw new InvalidArgumentError('adapter', 'expected a RedisAdapter (use @hilok/ioredis or @hilok/node-redis)');
    }
    this.adapter = adapter;
    this.prefix = checkPrefix(o.prefix ?? 'hilok:');
    this.ttl = checkDuration(o.ttl ?? 30_000, 'ttl');
    this.commandTimeout = checkDuration(o.commandTimeout ?? 5_000, 'commandTimeout');
    this.defaults = {
      autoRenew: o.autoRenew ?? false,
      onLost: checkCallback(o.onLost, 'onLost'),
      onReleaseError: checkCallback(o.onReleaseError, 'onReleaseError'),
    };
    resolveRenewInterval(this.defaults.autoRenew, this.ttl, 'autoRenew');
    this.tokenPrefix = ownerTokenPrefix(checkApp(o.app));
    this.ownsAdapter = ownedAdapters.has(adapter);
    // Every pending script call of every task listens on this signal; hundreds of concurrent
    // acquires are normal, not a leak, so Node's listener-count warning does not apply.
    setMaxListeners(0, this.closing.signal);
    this.runner = sharedFor(runners, adapter, () => new ScriptRunner(adapter));
    this.hub = sharedFor(hubs, adapter, () => new WakeHub(adapter));
  }

  /** Lock kind for diagnostics events: the class name (`Mutex`, `HiLok`, …), kept by the driver packages' classes. */
  get kind(): string {
    return (this.kindName ??= this.constructor.name);
  }

  /** True once {@link LockManager.close} was called. */
  get closed(): boolean {
    return this.closing.signal.aborted;
  }

  /**
   * Validate per-call acquire options against the manager's defaults. Throws
   * {@link InvalidArgumentError} (or {@link ClosedError}) before any Redis call.
   * @param keys - the kind's per-call option keys (e.g. `ACQUIRE_OPTION_KEYS` plus its
   *   own), or `null` when the caller already checked them
   */
  protected resolveAcquire(options: unknown, scoped: boolean, keys: (AllowedKeys & OptionKeys<AcquireOptions>) | null): ResolvedAcquire {
    this.assertOpen();
    // No options: the manager's defaults, resolved once (a frozen object nobody mutates).
    if (options === undefined) return (this.resolvedDefaults[scoped ? 1 : 0] ??= Object.freeze(this.resolveOptions({}, scoped, null)));
    return this.resolveOptions(options, scoped, keys);
  }

  private resolveOptions(options: unknown, scoped: boolean, keys: AllowedKeys | null): ResolvedAcquire {
    const o = checkOptions<AcquireOptions>(options, keys);
    const ttl = o.ttl === undefined ? this.ttl : checkDuration(o.ttl, 'ttl');
    const renew = o.autoRenew ?? (scoped ? true : this.defaults.autoRenew);
    const timeout = resolveWaitTimeout(o.timeout, o.blockingTimeout);
    return {
      ttl,
      block: checkBoolean(o.block, 'block', true),
      timeout,
      signal: checkSignal(o.signal),
      autoRenew: resolveRenewInterval(renew, ttl, 'autoRenew'),
      onLost: checkCallback(o.onLost, 'onLost') ?? this.defaults.onLost,
    };
  }

  /**
   * The wait plan every lock kind hands to `acquireOrWait`: this manager's hub, timeouts and
   * signals plus the call's options; `extra` adds or overrides kind-specific fields.
   */
  protected waitPlan(resource: string, call: ResolvedAcquire, channel: string, extra?: Partial<WaitPlan>): WaitPlan {
    // `signal` (caller's or close) ends sleeps; `attemptSignal` (the caller's only) also cuts
    // in-flight script calls — listening for close on every call would cost a listener each.
    const signal = this.waitSignal(call.signal);
    return {
      resource,
      kind: this.kind,
      block: call.block,
      timeout: call.timeout,
      signal,
      attemptSignal: call.signal ? signal : undefined,
      strategy: 'pubsub',
      spin: DEFAULT_SPIN,
      commandTimeout: this.commandTimeout,
      hub: this.hub,
      channel,
      ...extra,
    };
  }

  /** A signal that aborts when the caller's signal aborts or this manager closes. */
  protected waitSignal(signal: AbortSignal | undefined): AbortSignal {
    if (!signal) return this.closing.signal;
    const combined = AbortSignal.any([signal, this.closing.signal]);
    setMaxListeners(0, combined);
    return combined;
  }

  /**
   * Wrap a fresh hold in a tracked {@link Lease} (or a subclass made by `make`), released on
   * `close()`. Takes ownership of `init` (a fresh object per hold): the manager's fields are added
   * to it rather than copied into another one.
   */
  protected track(init: Omit<LeaseInit, 'onEnd' | 'onReleaseError'>, make: (init: LeaseInit) => Lease = (i) => new Lease(i)): Lease {
    const full = init as LeaseInit;
    full.kind ??= this.kind;
    full.onReleaseError = this.defaults.onReleaseError;
    let tracked: RegistrySlot<Lease> | undefined;
    full.onEnd = () => {
      if (tracked) this.leases.delete(tracked);
    };
    const lease = make(full);
    if (this.closed) {
      // Granted while close() ran (an attempt in flight is not cancelled by close): give it back.
      void lease.releaseQuietly();
      throw new ClosedError();
    }
    if (lease.held) tracked = this.leases.add(lease);
    return lease;
  }

  /**
   * The owner token of a new hold: `id` as given (checked like a name), or, when `undefined`, a
   * fresh token carrying this manager's owner metadata (`app`, host, pid, process start; read
   * back with `parseOwner`). No Redis call, no allocation beyond the string.
   */
  protected newToken(id?: unknown, argument = 'id'): string {
    return id === undefined ? nextOwnerToken(this.tokenPrefix) : checkName(id, argument);
  }

  /** Throw {@link ClosedError} if closed. */
  protected assertOpen(): void {
    if (this.closed) throw new ClosedError();
  }

  /**
   * Close: pending acquires reject with {@link ClosedError}, leases still held are released
   * (best effort; failures are reported, not thrown), watchdog timers stop, and the adapter is
   * closed if this manager created it. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closing.abort(new ClosedError());
    await Promise.all(this.leases.values().map((lease) => lease.releaseQuietly()));
    if (this.ownsAdapter) {
      await this.hub.close();
      await this.adapter.close();
    }
  }

  /** Same as {@link LockManager.close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** The renewal interval in ms for an `autoRenew` setting, or undefined when off. */
export function resolveRenewInterval(value: unknown, ttl: number, argument: string): number | undefined {
  if (value === false || value === undefined) return undefined;
  if (value === true) return Math.max(1, Math.floor(ttl / 3));
  const interval = checkDuration(value, argument);
  if (interval >= ttl) throw new InvalidArgumentError(argument, `renewal interval ${interval} ms must be shorter than the ttl (${ttl} ms)`);
  return interval;
}

/**
 * The wait timeout from `timeout` and its alias `blockingTimeout` (default `Infinity`). Both may
 * be given only with the same value: silently preferring one would hide a porting mistake.
 */
export function resolveWaitTimeout(timeout: unknown, blockingTimeout: unknown): number {
  const t = timeout === undefined ? undefined : checkTimeout(timeout);
  const b = blockingTimeout === undefined ? undefined : checkTimeout(blockingTimeout, 'blockingTimeout');
  if (t !== undefined && b !== undefined && t !== b) {
    throw new InvalidArgumentError('blockingTimeout', `is an alias of timeout; got both (${t} and ${b})`);
  }
  return t ?? b ?? Infinity;
}

/** The keys of {@link SpinOptions}. */
const SPIN_OPTION_KEYS = { initialDelay: true, maxDelay: true, factor: true } as const satisfies OptionKeys<SpinOptions>;

/** Spin options merged over the defaults and validated. */
export function resolveSpin(value: unknown): SpinOptions {
  const o = checkOptions<SpinOptions>(value, SPIN_OPTION_KEYS, 'spin');
  const spin = { ...DEFAULT_SPIN, ...o };
  checkDuration(spin.initialDelay, 'spin.initialDelay');
  checkDuration(spin.maxDelay, 'spin.maxDelay');
  if (typeof spin.factor !== 'number' || !(spin.factor >= 1) || !Number.isFinite(spin.factor)) {
    throw new InvalidArgumentError('spin.factor', 'must be a finite number >= 1');
  }
  return spin;
}

function sharedFor<V>(map: WeakMap<RedisAdapter, V>, adapter: RedisAdapter, make: () => V): V {
  let value = map.get(adapter);
  if (!value) map.set(adapter, (value = make()));
  return value;
}
