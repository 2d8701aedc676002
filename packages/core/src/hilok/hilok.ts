import { randomUUID } from 'node:crypto';
import type { RedisAdapter, ScriptArg } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { hilokAcquire, hilokAcquireAll, hilokExtend, hilokRelease, hilokStatus, hilokWithdraw } from '../generated/scripts.js';
import { Lease, monotonicNow, type LeaseBackend, type LeaseInit } from '../engine/lease.js';
import { ACQUIRE_OPTION_KEYS, LockManager, MANAGER_OPTION_KEYS, resolveRenewInterval, type AcquireOptions, type ManagerOptions, type ResolvedAcquire } from '../engine/manager.js';
import { asArray, asNumber, asString } from '../engine/reply.js';
import { grantedAt, parseOwner, type OwnerInfo } from '../engine/owner.js';
import { runScoped } from '../engine/scoped.js';
import { GroupsBackend, takeInOrder } from '../engine/in-order.js';
import type { RunOptions, Script, ScriptRunner } from '../engine/script.js';
import { acquireOrWait, attemptRunOptions, type Attempt, type AttemptHead, type AttemptLimits, type WaitPlan } from '../engine/wait.js';
import { checkDuration, checkName, checkOptions, checkSeparator, type OptionKeys } from '../validate.js';
import { pathKeys, splitPath, treeParts, type PathKeys, type PathPart } from './paths.js';
import { DEFAULT_INTENT_TTL, READER_INTENT, newIntentId, readTreeAcquire, readTreeAcquireAll, readTreeDone, treeAcquireAllArgs, treeAcquireArgs, treeChannelAt, treeExtendArgs, treePartId, treeReleaseArgs, type TreePart } from './protocol.js';


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
   * conflicting with it; a new hold gets this id. Default: a fresh token naming this process (`parseOwner`).
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
      // A caller that will wait leaves an intent when busy: its place in the tree's hand-off
      // queue (a writer's also keeps new readers out); the script removes it when the caller gets
      // in, withdraw when it gives up.
      const intent = blocking ? newIntentId(mode) : '';
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

  /**
   * Take several holds — reads and writes on paths of one or several trees — as one lease, all or
   * none: one `release`, one `extend`, one watchdog, one `signal` that aborts if any part is lost,
   * and a fencing token per part (`hold.parts[i].fence`). Waits like {@link HiLok.read} /
   * {@link HiLok.write} within `timeout` / `signal`; a blocking request's parts wait in the tree's
   * hand-off queue (a write part as a writer, a read part as a reader), so a stream of
   * single-path holders does not starve it.
   *
   * The parts are checked before any Redis call (`InvalidArgumentError`): a non-empty array of
   * `{ path, mode }`; the same path twice is one part (write if either is); a part below another
   * part is merged into it when an ancestor covers it (any write above it, or both reads) and
   * rejected otherwise (only reads above a write). The parts of one tree are taken by one script, all or none;
   * trees are taken one after the other in sorted order (a tree's key), the trees already taken
   * kept renewed while a later one waits and released if it fails: two requests naming
   * overlapping sets in any order never deadlock (docs/hilok.md, "Several paths as one hold").
   * @throws {@link LockBusyError} when `block: false` and busy, or when `timeout` passed
   */
  acquire(parts: readonly PathRequest[], options?: HoldOptions): Promise<MultiHold> {
    return this.takeAll(parts, options, this.refreshInterval);
  }

  /**
   * Run `fn(signal, hold)` under a refreshed multi-path hold (see {@link HiLok.acquire}). An
   * exception from `fn` propagates unchanged (a release failure is then only reported); after a
   * clean exit a failed release throws {@link LockReleaseError}.
   */
  async withLock<T>(parts: readonly PathRequest[], fn: (signal: AbortSignal, hold: MultiHold) => T | Promise<T>, options?: HoldOptions): Promise<T> {
    if (typeof fn !== 'function') throw new InvalidArgumentError('fn', 'expected a function');
    return runScoped<T, MultiHold>(await this.takeAll(parts, options, this.refreshInterval ?? true), fn);
  }

  /** Check the parts of a multi-path request (a subclass with flat names checks more). */
  protected checkParts(parts: unknown): PathPart[] {
    return treeParts(parts, this.separator);
  }

  private takeAll(list: readonly PathRequest[], options: HoldOptions | undefined, refresh: number | boolean | undefined): Promise<MultiHold> {
    let groups: TreeGroupHold[];
    let call: ResolvedAcquire;
    let token: string;
    let parts: PathPart[];
    try {
      parts = this.checkParts(list);
      const o = options === undefined ? NO_OPTIONS : checkOptions<HoldOptions>(options, HOLD_OPTION_KEYS);
      call = this.resolveAcquire(o.autoRenew === undefined && refresh !== undefined ? { ...o, autoRenew: refresh } : o, false, null);
      token = this.newToken(o.id);
      const blocking = call.block && call.timeout > 0;
      const intentBase = blocking ? randomUUID() : '';
      const engine = (this.engine ??= { runner: this.runner, commandTimeout: this.commandTimeout, kind: this.kind, plain: { timeoutMs: this.commandTimeout } });
      // One script per tree; the trees in the order of their state key (every caller's order).
      const byTree = new Map<string, { keys: PathKeys; parts: PathPart[] }>();
      for (const p of parts) {
        const keys = this.keys(p.path);
        const tree = byTree.get(keys.keys[0]);
        if (tree) tree.parts.push(p);
        else byTree.set(keys.keys[0], { keys, parts: [p] });
      }
      let n = 0;
      groups = [...byTree.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, tree]) => {
          // A blocking request's parts wait in the tree's hand-off queue: a read part as a reader.
          const treeParts = tree.parts.map((p) => ({ mode: p.mode, id: treePartId(token, p.path), path: p.path, intent: intentBase ? `${p.mode === 'read' ? READER_INTENT : ''}${intentBase}#${n++}` : '' }));
          const args = treeAcquireAllArgs({ ttl: call.ttl, separator: this.separator, intentTtl: this.intentTtl, listens: blocking, parts: treeParts });
          return new TreeGroupHold(engine, tree.keys, treeParts, token, args, call.signal, this.separator);
        });
    } catch (err) {
      return Promise.reject(err);
    }
    return this.takeTrees(parts, groups, call, token);
  }

  /**
   * Take each tree's group in order, renewing the groups already taken while a later one waits;
   * on any failure give back what was taken (all or none, as the caller sees it).
   */
  private async takeTrees(parts: PathPart[], groups: TreeGroupHold[], call: ResolvedAcquire, token: string): Promise<MultiHold> {
    const resource = parts.map((p) => p.path).join(',');
    await takeInOrder(resource, groups, call, (group, within) => {
      const plan = this.waitPlan(group.resource, within, group.keys.channel(1), group.waiting(this.intentTtl));
      group.plan = plan;
      return plan;
    });
    const held: HeldPart[] = groups.flatMap((g) => g.parts.map((p, i) => ({ path: p.path, mode: p.mode, fence: g.fences[i] as number })));
    held.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const fence = Math.max(...held.map((p) => p.fence));
    const sentAt = Math.min(...groups.map((g) => g.sentAt));
    const backend = new GroupsBackend(groups);
    return this.track(
      { resource, token, fence, ttl: call.ttl, sentAt, backend, autoRenew: call.autoRenew, onLost: call.onLost, detail: { parts: held.map((p) => `${p.mode}:${p.path}`) } },
      (full) => new MultiHold(full, held),
    ) as MultiHold;
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
      // A waiting caller re-asserts its intent on every attempt; wake often enough that it never
      // lapses. A reader without one retries at least every second too: its wake-up rides on a
      // node mark, and a mark kept while writers still sit there must not cost it the holders' ttl.
      maxSleep: intent ? Math.max(1, Math.floor(intentTtl / 3)) : READER_NAP,
      // A waiting caller is woken by a hand-off addressed to its intent (on its path's channel);
      // a reader also by "all" there.
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

/** One part of a {@link HiLok.acquire} request. */
export interface PathRequest {
  /** The path (for a {@link ReadWriteLock}: the name). */
  path: string;
  mode: HoldMode;
}

/** One part of a {@link MultiHold}: its path, mode and fencing token. */
export interface HeldPart {
  path: string;
  mode: HoldMode;
  /**
   * The part's fencing token: the grant's (the Redis server's µs when its tree was taken; the
   * parts of one tree share it), strictly larger than that of any earlier conflicting hold on
   * the path. Pass the part's own fence to the resource the path guards.
   */
  fence: number;
}

/**
 * Several holds on paths of a {@link HiLok} taken as one lease ({@link HiLok.acquire}): one
 * release, one extend, one watchdog and one signal for all of them. `fence` is the largest of the
 * parts' fences; each part's own is in `parts`.
 */
export class MultiHold extends Lease {
  /** The parts held, sorted by path (duplicates merged, covered descendants dropped). */
  readonly parts: readonly HeldPart[];

  /** Created by {@link HiLok}; not meant to be constructed by users. */
  constructor(init: LeaseInit, parts: readonly HeldPart[]) {
    super(init);
    this.parts = parts;
  }

  /** The hold's id (its owner token): pass it as `id` to re-take the same parts elsewhere. */
  get id(): string {
    return this.token;
  }
}

/** Longest sleep of a multi-path waiter with several parts in one tree, in ms: shorter than a hand-off's reservation (250 ms). */
const MULTI_PART_NAP = 100;

/**
 * The parts of one tree of a multi-path acquire, taken as one grant by `hilok/acquire-all.lua`,
 * and their id-checked extend and release (one batched tree script call over all the parts).
 */
class TreeGroupHold implements LeaseBackend, AttemptHead {
  sentAt = 0;
  /** Each part's fence once granted (0 before). */
  fences: number[];
  /** The wait plan, once the tree was found busy: its token follows the busy part. */
  plan: WaitPlan | undefined;
  readonly resource: string;
  readonly commandTimeout: number;
  readonly kind: string;
  readonly detail: Record<string, unknown>;
  private busyPart = 0;
  private firstOptions: RunOptions | undefined;

  constructor(
    private readonly engine: TreeEngine,
    readonly keys: PathKeys,
    readonly parts: readonly TreePart[],
    readonly token: string,
    private readonly args: ScriptArg[],
    readonly signal: AbortSignal | undefined,
    private readonly separator: string,
  ) {
    this.resource = parts.map((p) => p.path).join(',');
    this.commandTimeout = engine.commandTimeout;
    this.kind = engine.kind;
    this.detail = { parts: parts.map((p) => `${p.mode}:${p.path}`) };
    this.fences = parts.map(() => 0);
  }

  readonly attempt = (limits: AttemptLimits): Promise<Attempt<number>> => {
    this.sentAt = monotonicNow();
    const options = attemptRunOptions(limits, (this.firstOptions ??= { timeoutMs: this.commandTimeout, onLateReply: this.undoLateGrant }));
    return this.engine.runner.run(hilokAcquireAll, this.keys.keys, this.args, options).then(this.readGrant);
  };

  /** The tree's keys once per part: the batched tree scripts take one entry per part. */
  private entries(): string[] {
    return this.parts.flatMap(() => this.keys.keys);
  }

  async extend(ttl: number): Promise<boolean> {
    const reply = await this.engine.runner.run(hilokExtend, this.entries(), this.parts.flatMap((p) => treeExtendArgs(p.id, p.path, ttl)), this.engine.plain);
    return asArray(reply).every(readTreeDone);
  }

  async release(): Promise<boolean> {
    const reply = await this.engine.runner.run(hilokRelease, this.entries(), this.parts.flatMap((p) => treeReleaseArgs(p.id, p.path)), this.engine.plain);
    return asArray(reply).every(readTreeDone);
  }

  /** The wait plan's tree-specific part, once the tree was found busy. */
  waiting(intentTtl: number): Partial<WaitPlan> {
    const queued = this.parts.filter((p) => p.intent !== '');
    return {
      detail: this.detail,
      // Intents are renewed by every attempt (at least every intentTtl / 3). A part handed the
      // path (reserved for 250 ms) is woken on its own path's channel, which this waiter hears
      // only while that part is the busy one: with several parts it retries within the
      // reservation, so a hand-off it did not hear does not cost it its place.
      maxSleep: queued.length > 1 ? MULTI_PART_NAP : queued.length === 1 ? Math.max(1, Math.floor(intentTtl / 3)) : READER_NAP,
      token: this.parts[this.busyPart]?.intent || undefined,
      onGiveUp: queued.length === 0 ? undefined : () => Promise.all(queued.map((p) => this.engine.runner.run(hilokWithdraw, this.keys.keys, treeReleaseArgs(p.intent, p.path), this.engine.plain))),
    };
  }

  private readonly readGrant = (reply: unknown): Attempt<number> => {
    const r = readTreeAcquireAll(reply);
    if (r.status === 'granted') {
      this.fences = r.fences;
      return { ok: true, acquired: Math.max(...r.fences) };
    }
    if (r.status === 'conflict') throw new InvalidArgumentError('id', `"${this.token}" already identifies a live hold with another path or mode (${r.hold})`);
    const part = this.parts[r.part] as TreePart;
    this.busyPart = r.part;
    // The waiter listens with the busy part's intent as token (its hand-off is addressed so);
    // the plan's token is read when the waiter joins a channel, i.e. whenever the channel changes.
    if (this.plan) this.plan.token = part.intent || undefined;
    return { ok: false, retryAfter: r.retryAfter, channel: this.channelOf(part.path, r.level), blocker: r.blocker };
  };

  /** The channel of the node at `level` (1 = root) of a part's path. */
  private channelOf(path: string, level: number): string {
    return treeChannelAt(this.keys.keys[0].slice(0, -'state'.length), path.split(this.separator).slice(0, level).join(this.separator));
  }

  private readonly undoLateGrant = (late: unknown): void => {
    if (readTreeAcquireAll(late).status === 'granted') this.release().catch(() => undefined);
  };
}

