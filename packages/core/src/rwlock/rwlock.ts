import type { RedisAdapter } from '../adapter.js';
import { InvalidArgumentError } from '../errors.js';
import { HiLok, HILOK_OPTION_KEYS, type Hold, type HiLokOptions, type HoldOptions, type TreeStatus } from '../hilok/hilok.js';
import { checkName, checkOptions } from '../validate.js';
import type { PathPart } from '../hilok/paths.js';

/**
 * The separator of the underlying tree. A flat name is a one-segment path, so the separator only
 * has to be a character no name contains; NUL is one nobody puts in a lock name on purpose, and
 * it leaves `/`, `:` and friends free for names like `users/42`.
 */
const FLAT_SEPARATOR = '\u0000';

/** Options of a {@link ReadWriteLock}: those of {@link HiLok} without `separator` (names are flat). */
export type ReadWriteLockOptions = Omit<HiLokOptions, 'separator'>;

/**
 * A read-write lock on single named resources (redis-kit's `lock.read()` / `lock.write()`):
 * readers share, a writer is alone — **without writer starvation**: a writer that has to wait
 * leaves an intent that keeps newly arriving readers out until it got in (redis-kit prefers
 * readers, so a steady stream of them starves its writers).
 *
 * It is the {@link HiLok} engine on one-segment paths (same scripts, leases, fencing, wake-ups),
 * under its own key kind (`rw`), so a `ReadWriteLock` named `x` and a `HiLok` path `x` are
 * different locks. Every per-call option of HiLok applies, including `blockingTimeout`
 * (alias of `timeout`) and `autoRenew`.
 *
 * ```ts
 * const rw = new ReadWriteLock(adapter);
 * await rw.withRead('config', async () => readConfig(), { blockingTimeout: 5_000 });
 * await rw.withWrite('config', async () => writeConfig());
 * ```
 */
export class ReadWriteLock extends HiLok {
  /** @param adapter - a driver adapter; @param options - see {@link ReadWriteLockOptions} */
  constructor(adapter: RedisAdapter, options?: ReadWriteLockOptions) {
    // HiLok's keys: a separator passes the key check, to be refused with a message of its own.
    const o = checkOptions<HiLokOptions>(options, HILOK_OPTION_KEYS);
    if (o.separator !== undefined) throw new InvalidArgumentError('separator', 'a ReadWriteLock has flat names; use HiLok for paths');
    super(adapter, { ...o, separator: FLAT_SEPARATOR });
  }

  protected override get keyKind(): string {
    return 'rw';
  }

  /** Take a shared read hold on `name`, waiting while a writer holds it or waits for it. */
  override async read(name: string, options?: HoldOptions): Promise<Hold> {
    return super.read(flatName(name), options);
  }

  /** Take the exclusive write hold on `name`, waiting while anyone holds it. */
  override async write(name: string, options?: HoldOptions): Promise<Hold> {
    return super.write(flatName(name), options);
  }

  /** Run `fn(signal, hold)` under a renewed read hold on `name` (exception contract of {@link HiLok.withRead}). */
  override async withRead<T>(name: string, fn: (signal: AbortSignal, hold: Hold) => T | Promise<T>, options?: HoldOptions): Promise<T> {
    return super.withRead(flatName(name), fn, options);
  }

  /** Run `fn(signal, hold)` under a renewed write hold on `name` (exception contract of {@link HiLok.withWrite}). */
  override async withWrite<T>(name: string, fn: (signal: AbortSignal, hold: Hold) => T | Promise<T>, options?: HoldOptions): Promise<T> {
    return super.withWrite(flatName(name), fn, options);
  }

  /** Take a read hold and return only its id (see {@link HiLok.acquireRead}). */
  override async acquireRead(name: string, options?: HoldOptions): Promise<string> {
    return super.acquireRead(flatName(name), options);
  }

  /** Take a write hold and return only its id (see {@link HiLok.acquireWrite}). */
  override async acquireWrite(name: string, options?: HoldOptions): Promise<string> {
    return super.acquireWrite(flatName(name), options);
  }

  /**
   * The parts of a multi-name hold ({@link HiLok.acquire}, {@link HiLok.withLock}): `path` is a
   * flat name (no NUL character); each name is its own tree, taken in sorted order.
   */
  protected override checkParts(parts: unknown): PathPart[] {
    const checked = super.checkParts(parts);
    for (const p of checked) flatName(p.path);
    return checked;
  }

  /** Release the hold `id` on `name`, from any process (see {@link HiLok.release}). */
  override async release(name: string, id: string): Promise<boolean> {
    return super.release(flatName(name), id);
  }

  /** Live holds on `name` and waiting writers (see {@link HiLok.status}). */
  override async status(name: string): Promise<TreeStatus> {
    return super.status(flatName(name));
  }
}

// The overrides are async so that a bad name rejects the returned promise, like every other
// call, instead of throwing before there is one.

/** A flat lock name: a valid name that cannot be read as a path of the underlying tree. */
function flatName(name: unknown): string {
  const value = checkName(name);
  if (value.includes(FLAT_SEPARATOR)) throw new InvalidArgumentError('name', 'must not contain a NUL character');
  return value;
}
