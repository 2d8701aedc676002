import { randomUUID } from 'node:crypto';
import type { RedisAdapter, ScriptArg } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { hilokAcquire, hilokExtend, hilokRelease, hilokStatus, hilokWithdraw } from '../generated/scripts.js';
import { Lease, monotonicNow, type LeaseBackend, type LeaseInit } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, LockManager, MANAGER_OPTION_KEYS, resolveRenewInterval, type AcquireOptions, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import { grantedAt, parseOwner, type OwnerInfo } from '../engine/owner.js';
import { runScoped } from '../engine/scoped.js';
import type { RunOptions, Script, ScriptRunner } from '../engine/script.js';
import { acquireOrWait, attemptRunOptions, type Attempt, type AttemptHead, type AttemptLimits, type WaitPlan } from '../engine/wait.js';
import { checkDuration, checkName, checkOptions, checkSeparator, type OptionKeys } from '../validate.js';
import { pathKeys, splitPath, type PathKeys } from './paths.js';
import { DEFAULT_INTENT_TTL, readTreeAcquire, readTreeDone, treeAcquireArgs, treeExtendArgs, treeReleaseArgs } from './protocol.js';


/** Longest sleep of a waiting reader between attempts, in ms (see `TreeHold.waiting`). */
const READER_NAP = 1_000;
/** A hold's mode. */
export type HoldMode = 'read' | 'write';

/** Options of a {@link HiLok}. */
export interface HiLokOptions extends ManagerOptions {
  /** Path separator (default `"/"`); any non-empty string, e.g. `":"`. */
  separator?: string;
  /**
   * Auto-refresh interval in ms for holds opened with `read()` / `write()` (must be < ttl).
   * Unset: those holds are not refreshed unless `autoRenew` asks for it. `withRead` /
   * `withWrite` always refresh (at this interval, or ttl/3).
   */
  refreshInterval?: number;
  /**
   * How long a waiting writer's claim keeps new readers out if the writer stops refreshing it
   * (it crashed): default 3 000 ms. A live waiting writer refreshes it every third of this.
   */
  intentTtl?: number;
}

/** The keys of {@link HiLokOptions}: unknown keys are an `InvalidArgumentError`. */
export const HILOK_OPTION_KEYS = { ...MANAGER_OPTION_KEYS, separator: true, refreshInterval: true, intentTtl: true } as const satisfies OptionKeys<HiLokOptions>;

/** Per-call options of {@link HiLok.read} / {@link HiLok.write}. */
export interface HoldOptions extends AcquireOptions {
  /**
   * Hold id: re-take the hold with this id (from any process or HiLok instance) instead of
   * conflicting with it; a new hold gets this id. Default: a random UUID.
   */
  id?: string;
}

/** The keys of {@link HoldOptions}: unknown keys are an `InvalidArgumentError`. */
export const HOLD_OPTION_KEYS = { ...ACQUIRE_OPTION_KEYS, id: true } as const satisfies OptionKeys<HoldOptions>;

/** One live hold, as reported by {@link HiLok.status}. */
export interface HoldInfo {
  id: string;
  path: string;
  mode: HoldMode;
  fence: number;
  /** Remaining ttl in ms on the Redis server's clock. */
  ttl: number;
  /** Who took the hold (`app`, host, pid, process start), read from `id`; `undefined` for an `id` the caller chose. */
  ownerInfo: OwnerInfo | undefined;
  /** When the hold was granted, in ms on the Redis server's clock (read from the fence). */
  acquiredAt: number | undefined;
}

/** What {@link HiLok.status} reports for a path and everything below it. */
export interface TreeStatus {
  /** Live holds at the path and below. */
  holds: HoldInfo[];
  /** Writers waiting at the path or below (readers arriving there queue behind them). */
  waitingWriters: { path: string; ttl: number }[];
}

/** A held read or write lock on a path of a {@link HiLok} tree. */
export class Hold extends Lease {
  /** The path this hold is on. */
  readonly path: string;
  /** `'read'` or `'write'`. */
  readonly mode: HoldMode;

  /** Created by {@link HiLok}; not meant to be constructed by users. */
  constructor(init: LeaseInit, path: string, mode: HoldMode) {
    super(init);
    this.path = path;
    this.mode = mode;
  }

  /** The hold's id (its owner token): pass it as `id` to re-take the hold elsewhere. */
  get id(): string {
    return this.token;
  }
}

/**
 * A hierarchical read-write lock (redishilok's HiLok, rebuilt): paths like `a/b/c` form a tree,
 * reads anywhere coexist, and a write on a node excludes every hold on its ancestors, itself and
 * its whole subtree. Acquire, release and refresh are one Lua script each, whatever the depth
 * (those that tasks make in the same tick share one script call, each tree checked on its own);
 * every hold has its own lease on the Redis server's clock; waiting writers keep new conflicting
 * readers out (no writer starvation); waiters are woken by the releases that can unblock them.
 *
 * ```ts
 * const hilok = new HiLok(adapter, { ttl: 10_000 });
 * await using hold = await hilok.read('a/b');
 * await hilok.write('a', { block: false }); // throws LockBusyError
 * ```
 */
export class HiLok extends LockManager {
  /** The path separator. */
  readonly separator: string;
  private readonly refreshInterval: number | undefined;
  private readonly intentTtl: number;
  private engine: TreeEngine | undefined;

  /** @param adapter - a driver adapter; @param options - see {@link HiLokOptions} */
  constructor(adapter: RedisAdapter, options?: HiLokOptions) {
    super(adapter, options);
    const o = checkOptions<HiLokOptions>(options, HILOK_OPTION_KEYS);
    this.separator = o.separator === undefined ? '/' : checkSeparator(o.separator);
    this.refreshInterval = o.refreshInterval === undefined ? undefined : resolveRenewInterval(o.refreshInterval, this.ttl, 'refreshInterval');
    this.intentTtl = checkDuration(o.intentTtl ?? DEFAULT_INTENT_TTL, 'intentTtl');
  }

  /**
   * Take a read hold on `path`, waiting while a write on it, an ancestor or a descendant (or a
   * waiting writer there) is in the way. Refreshed automatically if `refreshInterval` is set.
   * @throws {@link LockBusyError} when `block: false` and busy, or when `timeout` passed
   */
  read(path: string, options?: HoldOptions): Promise<Hold> {
    return this.take('read', path, options, this.refreshInterval);
  }

  /**
   * Take a write hold on `path`, waiting while any hold on it, an ancestor or a descendant exists.
   * @throws {@link LockBusyError} when `block: false` and busy, or when `timeout` passed
   */
  write(path: string, options?: HoldOptions): Promise<Hold> {
    return this.take('write', path, options, this.refreshInterval);
  }

  /**
   * Run `fn(signal, hold)` under a refreshed read hold on `path`. An exception from `fn`
   * propagates unchanged (a release failure is then only reported); after a clean exit a failed
   * release throws {@link LockReleaseError}. Check `hold.held` / `hold.throwIfLost()` before each
   * side effect.
   */
  async withRead<T>(path: string, fn: (signal: AbortSignal, hold: Hold) => T | Promise<T>, options?: HoldOptions): Promise<T> {
    return this.scoped('read', path, fn, options);
  }

  /**
   * Run `fn(signal, hold)` under a refreshed write hold on `path`. An exception from `fn`
   * propagates unchanged (a release failure is then only reported); after a clean exit a failed
   * release throws {@link LockReleaseError}. Check `hold.held` / `hold.throwIfLost()` before each
   * side effect.
   */
  async withWrite<T>(path: string, fn: (signal: AbortSignal, hold: Hold) => T | Promise<T>, options?: HoldOptions): Promise<T> {
    return this.scoped('write', path, fn, options);
  }

  /**
   * Take a read hold and return only its id, with no auto-refresh: the caller keeps it alive by
   * acquiring again with `{ id }` (from any process) and ends it with {@link HiLok.release}.
   */
  async acquireRead(path: string, options?: HoldOptions): Promise<string> {
    return this.detached('read', path, options);
  }

  /** Take a write hold and return only its id (see {@link HiLok.acquireRead}). */
  async acquireWrite(path: string, options?: HoldOptions): Promise<string> {
    return this.detached('write', path, options);
  }

  /**
   * Release the hold `id` on `path`, from any process. Resolves `true` if it was live and is
   * gone now, `false` if it had already expired or is not on that path (nothing else is touched).
   */
  async release(path: string, id: string): Promise<boolean> {
    this.assertOpen();
    const keys = this.keys(path);
    checkName(id, 'id');
    return this.runner.runBatched(hilokRelease, keys.keys, treeReleaseArgs(id, path), { timeoutMs: this.commandTimeout }, readTreeDone);
  }

  /** Live holds at `path` and below (with remaining ttl, fencing token, id) and waiting writers. Changes nothing. */
  async status(path: string): Promise<TreeStatus> {
    this.assertOpen();
    const keys = this.keys(path);
    const [now, holds, intents] = asArray(await this.call(hilokStatus, keys.keys, [path, this.separator]));
    const nowMs = asNumber(now);
    const ttl = (expiry: unknown) => Math.max(0, Number(expiry) - nowMs);
    const result: TreeStatus = { holds: [], waitingWriters: [] };
    const flat = asArray(holds).map(asString);
    for (let i = 0; i + 4 < flat.length; i += 5) {
      const [id, mode, fence, expiry, holdPath] = flat.slice(i, i + 5) as [string, string, string, string, string];
      const f = Number(fence);
      result.holds.push({ id, path: holdPath, mode: mode === 'w' ? 'write' : 'read', fence: f, ttl: ttl(expiry), ownerInfo: parseOwner(id) ?? undefined, acquiredAt: grantedAt(f) });
    }
    const waiting = asArray(intents).map(asString);
    for (let i = 0; i + 2 < waiting.length; i += 3) result.waitingWriters.push({ path: waiting[i + 2] as string, ttl: ttl(waiting[i + 1]) });
    return result;
  }

  private async scoped<T>(mode: HoldMode, path: string, fn: (signal: AbortSignal, hold: Hold) => T | Promise<T>, options?: HoldOptions): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'expected a function');
    return runScoped<T, Hold>(await this.take(mode, path, options, this.refreshInterval ?? true), fn);
  }

  private async detached(mode: HoldMode, path: string, options?: HoldOptions): Promise<string> {
    // take() checks the keys.
    const hold = await this.take(mode, path, { ...checkOptions<HoldOptions>(options, null), autoRenew: false }, undefined);
    // The hold lives on in Redis until its ttl or an explicit release; stop tracking it locally.
    hold.detach();
    return hold.id;
  }

  private take(mode: HoldMode, path: string, options: HoldOptions | undefined, refresh: number | boolean | undefined): Promise<Hold> {
    let hold: TreeHold;
    let call: ResolvedAcquire;
    try {
      const keys = this.keys(path);
      const o = options === undefined ? NO_OPTIONS : checkOptions<HoldOptions>(options, HOLD_OPTION_KEYS);
      // No options and no refresh default: the manager's resolved defaults (shared, no allocation).
      const given = options === undefined && refresh === undefined ? undefined : o.autoRenew === undefined && refresh !== undefined ? { ...o, autoRenew: refresh } : o;
      call = this.resolveAcquire(given, false, null);
      const id = this.newToken(o.id);
      const blocking = call.block && call.timeout > 0;
      // Only a writer that will wait leaves an intent (so readers queue behind it); the script
      // removes it when the writer gets in, withdraw when it gives up.
      const intent = mode === 'write' && blocking ? randomUUID() : '';
      // A waiter marks the node it listens on (`listens`), so that releases publish only where someone listens.
      const args = treeAcquireArgs({ mode, id, ttl: call.ttl, path, separator: this.separator, intent, intentTtl: this.intentTtl, listens: blocking });
      const engine = (this.engine ??= { runner: this.runner, commandTimeout: this.commandTimeout, kind: this.kind, plain: { timeoutMs: this.commandTimeout } });
      hold = new TreeHold(engine, path, keys, id, mode, intent, args, call.signal);
    } catch (err) {
      // Bad input rejects the returned promise (before any Redis call), like every other failure.
      return Promise.reject(err);
    }
    const resolved = call;
    // The wait plan (channels, intent refresh, withdraw) is built only once the path was busy.
    return acquireOrWait(hold, resolved, hold.attempt, () => this.waitPlan(path, resolved, hold.keys.channel(hold.keys.segments.length), hold.waiting(this.intentTtl)), (fence) =>
      this.track(
        { resource: path, token: hold.token, fence, ttl: resolved.ttl, sentAt: hold.sentAt, backend: hold, autoRenew: resolved.autoRenew, onLost: resolved.onLost, detail: hold.detail },
        (full) => new Hold(full, path, mode),
      ) as Hold,
    );
  }

  /** Key-kind segment of this manager's keys (`tree`); a subclass with other semantics uses its own. */
  protected get keyKind(): string {
    return 'tree';
  }

  private keys(path: string): PathKeys {
    return pathKeys(this.prefix, this.separator, splitPath(path, this.separator), this.keyKind);
  }

  private call(script: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.runner.run(script, keys, args, { timeoutMs: this.commandTimeout });
  }
}

/** What every hold of one {@link HiLok} shares (one object per manager, not four fields per hold). */
interface TreeEngine {
  readonly runner: ScriptRunner;
  readonly commandTimeout: number;
  readonly kind: string;
  /** Options of a release or extend call (never mutated by the runner). */
  readonly plain: RunOptions;
}

/** Per-call options when none are given: shared, never mutated. */
const NO_OPTIONS: HoldOptions = Object.freeze({});

/** Diagnostics detail of a hold by mode: shared and frozen, not one object per acquire. */
const DETAIL: Readonly<Record<HoldMode, Readonly<{ mode: HoldMode }>>> = { read: Object.freeze({ mode: 'read' }), write: Object.freeze({ mode: 'write' }) };

/**
 * The Redis side of one tree acquire and the hold it yields: attempts, and the id-checked extend
 * and release of the lease. Calls of many holds in the same tick share one script call (the tree
 * scripts batch, three keys per tree).
 */
class TreeHold implements LeaseBackend, AttemptHead {
  /** Monotonic time the latest attempt was sent: the hold's validity counts from there. */
  sentAt = 0;
  readonly detail: Record<string, unknown>;
  readonly commandTimeout: number;
  readonly kind: string;
  private firstOptions: RunOptions | undefined;

  constructor(
    private readonly engine: TreeEngine,
    readonly resource: string,
    readonly keys: PathKeys,
    readonly token: string,
    mode: HoldMode,
    /** A blocking writer's intent id (its place among waiting writers), or "". */
    private readonly intent: string,
    /** The acquire script's arguments ({@link treeAcquireArgs}). */
    private readonly args: ScriptArg[],
    /** The caller's signal: cancels the first attempt (it is the {@link AttemptHead} of the acquire). */
    readonly signal: AbortSignal | undefined,
  ) {
    this.detail = DETAIL[mode];
    this.commandTimeout = engine.commandTimeout;
    this.kind = engine.kind;
  }

  /** One acquire attempt (an arrow property: it is handed to the wait loop as is). */
  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    this.sentAt = monotonicNow();
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    return this.engine.runner.runBatched(hilokAcquire, this.keys.keys, this.args, options, this.readGrant);
  };

  extend(ttl: number): Promise<boolean> {
    return this.engine.runner.runBatched(hilokExtend, this.keys.keys, treeExtendArgs(this.token, this.resource, ttl), this.engine.plain, readTreeDone);
  }

  release(): Promise<boolean> {
    return this.engine.runner.runBatched(hilokRelease, this.keys.keys, treeReleaseArgs(this.token, this.resource), this.engine.plain, readTreeDone);
  }

  /** The wait plan's tree-specific part, once the path was found busy. */
  waiting(intentTtl: number): Partial<WaitPlan> {
    const intent = this.intent;
    return {
      detail: this.detail,
      // A waiting writer re-asserts its intent on every attempt; wake often enough that it never
      // lapses. A reader retries at least every second too: its wake-up rides on a node mark,
      // and a mark kept while writers still sit there must not cost a reader the holders' ttl.
      maxSleep: intent ? Math.max(1, Math.floor(intentTtl / 3)) : READER_NAP,
      // A waiting writer is woken only by a hand-off addressed to its intent (on its path's channel).
      token: intent || undefined,
      onGiveUp: intent ? () => this.engine.runner.run(hilokWithdraw, this.keys.keys, treeReleaseArgs(intent, this.resource), this.engine.plain) : undefined,
    };
  }

  /** An acquire entry: the fence, or busy with the blocker and the channel announcing its end. */
  private readonly readGrant = (reply: unknown): Attempt<number> => {
    const r = readTreeAcquire(reply);
    if (r.status === 'granted') return { ok: true, acquired: r.fence };
    if (r.status === 'conflict') throw new InvalidArgumentError('id', `"${this.token}" already identifies a live hold with another path or mode (${r.hold})`);
    return { ok: false, retryAfter: r.retryAfter, channel: this.keys.channel(r.level), blocker: r.blocker };
  };

  /** A reply that came after we gave up may say "granted": undo that ghost hold. */
  private readonly undoLateGrant = (late: unknown): void => {
    if (readTreeAcquire(late).status === 'granted') this.release().catch(() => undefined);
  };
}
