/**
 * Every error hilok throws extends {@link HilokError} and carries a stable `code`,
 * so callers can branch on `err.code` without `instanceof` across package copies.
 */
export type HilokErrorCode =
  | 'INVALID_ARGUMENT'
  | 'LOCK_BUSY'
  | 'REDIS_UNAVAILABLE'
  | 'LOCK_LOST'
  | 'RELEASE_FAILED'
  | 'CLOSED';

/** Base class of every error thrown by hilok. */
export class HilokError extends Error {
  /** Stable machine-readable error code. */
  readonly code: HilokErrorCode;

  /** @param code - stable error code; @param message - human-readable text; @param options - standard `cause` */
  constructor(code: HilokErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A caller passed a value hilok cannot use. Thrown before any Redis call is made. */
export class InvalidArgumentError extends HilokError {
  /** Name of the offending argument or option, e.g. `"ttl"`. */
  readonly argument: string;

  /** @param argument - which argument was wrong; @param message - what is wrong with it */
  constructor(argument: string, message: string) {
    super('INVALID_ARGUMENT', `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** Why a lock was not acquired although Redis answered every request. */
export type BusyReason = 'held' | 'timeout';

/**
 * What stood in the way of an acquire, when the lock knows (today `HiLok` and `ReadWriteLock`):
 * the conflicting path and its mode, and the owner id when it is a write hold.
 */
export interface LockBlocker {
  /** The path (or name) of the conflicting hold: the requested one, an ancestor or a descendant. */
  path: string;
  /** `'read'` for read holds, `'write'` for a write hold or a waiting writer (`waiting: true`). */
  mode: 'read' | 'write';
  /** The hold id (owner token) of a write hold; unknown for reads (several may share the path). */
  id?: string;
  /** True when the blocker is a writer *waiting* for `path`: readers queue behind it (no writer starvation). */
  waiting?: boolean;
}

/** "a read hold on "a/b"", "a write hold on "a" (id "…")", "a writer waiting for "a"". */
function describeBlocker(b: LockBlocker): string {
  if (b.waiting) return `a writer waiting for "${b.path}"`;
  return `a ${b.mode} hold on "${b.path}"${b.id === undefined ? '' : ` (id "${b.id}")`}`;
}

/**
 * The lock is held by someone else: either `block: false` was asked for (`reason: 'held'`)
 * or the wait ran past its `timeout` (`reason: 'timeout'`). Redis itself is fine.
 */
export class LockBusyError extends HilokError {
  /** The resource (name or path) that was busy. */
  readonly resource: string;
  /** `'held'` for a non-blocking attempt, `'timeout'` when the wait deadline passed. */
  readonly reason: BusyReason;
  /** Milliseconds until the blocking holder's lease ends, when known. */
  readonly retryAfter: number | undefined;
  /** The conflicting hold (path, mode, id of a write), when the lock knows it — named in the message too. */
  readonly blocker: LockBlocker | undefined;

  /**
   * @param resource - lock name or path; @param reason - why; @param retryAfter - blocker's remaining ttl in ms;
   * @param blocker - the conflicting hold, when known (the last attempt's)
   */
  constructor(resource: string, reason: BusyReason, retryAfter?: number, blocker?: LockBlocker) {
    super(
      'LOCK_BUSY',
      blocker
        ? reason === 'held'
          ? `"${resource}" is blocked by ${describeBlocker(blocker)}`
          : `timed out waiting for "${resource}", still blocked by ${describeBlocker(blocker)}`
        : reason === 'held'
          ? `"${resource}" is held by another owner`
          : `timed out waiting for "${resource}", which is still held by another owner`,
    );
    this.resource = resource;
    this.reason = reason;
    this.retryAfter = retryAfter;
    this.blocker = blocker;
  }
}

/** Redis could not be reached, did not answer in time, or rejected the command. `cause` has the driver's error. */
export class RedisUnavailableError extends HilokError {
  /** @param message - what hilok was doing; @param cause - the driver's error */
  constructor(message: string, cause?: unknown) {
    super('REDIS_UNAVAILABLE', message, { cause });
  }
}

/** A held lock was found to be gone (expired, released by force, or Redis lost its data). */
export class LockLostError extends HilokError {
  /** The resource whose lock was lost. */
  readonly resource: string;

  /** @param resource - lock name or path; @param detail - how the loss was noticed */
  constructor(resource: string, detail = 'it expired or was taken over') {
    super('LOCK_LOST', `lock on "${resource}" was lost: ${detail}`);
    this.resource = resource;
  }
}

/** Releasing a lock failed: it was no longer ours (`cause` absent) or Redis failed (`cause` set). */
export class LockReleaseError extends HilokError {
  /** The resource whose release failed. */
  readonly resource: string;

  /** @param resource - lock name or path; @param message - what happened; @param cause - underlying error */
  constructor(resource: string, message: string, cause?: unknown) {
    super('RELEASE_FAILED', `release of "${resource}" failed: ${message}`, { cause });
    this.resource = resource;
  }
}

/** The lock manager was closed; no further operations are possible. */
export class ClosedError extends HilokError {
  constructor() {
    super('CLOSED', 'this lock manager has been closed');
  }
}

const CODES: ReadonlySet<string> = new Set<HilokErrorCode>([
  'INVALID_ARGUMENT',
  'LOCK_BUSY',
  'REDIS_UNAVAILABLE',
  'LOCK_LOST',
  'RELEASE_FAILED',
  'CLOSED',
]);

/** True when `err` is a hilok error (optionally with the given code), even across duplicated package copies. */
export function isHilokError(err: unknown, code?: HilokErrorCode): err is HilokError {
  if (!(err instanceof Error)) return false;
  const actual = (err as { code?: unknown }).code;
  return typeof actual === 'string' && CODES.has(actual) && (code === undefined || actual === code);
}
