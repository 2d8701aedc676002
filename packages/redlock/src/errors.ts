import { RedisUnavailableError } from '@hilok/core';

/** What went wrong with one instance during a quorum operation. */
export interface InstanceFailure {
  /** Position of the instance in the adapter list given to `Redlock`. */
  index: number;
  /** The adapter's driver name (`"ioredis"`, `"node-redis"`, …), for diagnostics. */
  driver: string;
  /** The error: usually a `RedisUnavailableError` (or its `ReplyTimeoutError`) with the driver's error as `cause`. */
  error: unknown;
}

/**
 * Too few instances answered for a majority to be possible — or the answers came so late that
 * no validity was left. Redis, not the lock, is the problem: a lock that is simply held by
 * someone else is a `LockBusyError`, never this.
 *
 * It extends core's `RedisUnavailableError` (code `REDIS_UNAVAILABLE`), so code that already
 * branches on "Redis is down" keeps working; `failures` has the per-instance causes.
 */
export class QuorumError extends RedisUnavailableError {
  /** The resource (name or path) of the operation. */
  readonly resource: string;
  /** Instances that agreed (granted, extended, released, answered). */
  readonly agreed: number;
  /** Instances needed: ⌊N/2⌋ + 1. */
  readonly quorum: number;
  /** Per-instance errors (empty when every instance answered but validity ran out). */
  readonly failures: readonly InstanceFailure[];

  /**
   * @param resource - lock name or path
   * @param operation - what was attempted, e.g. `"acquire"`
   * @param agreed - instances that agreed
   * @param quorum - instances needed
   * @param failures - per-instance errors
   * @param detail - extra explanation appended to the message
   */
  constructor(resource: string, operation: string, agreed: number, quorum: number, failures: readonly InstanceFailure[], detail?: string) {
    const causes = failures.map((f) => `#${f.index} (${f.driver}): ${f.error instanceof Error ? f.error.message : String(f.error)}`);
    super(
      `${operation} of "${resource}" reached ${agreed} of the ${quorum} instances needed` +
        (detail ? `: ${detail}` : '') +
        (causes.length > 0 ? ` [${causes.join('; ')}]` : ''),
      failures[0]?.error,
    );
    this.resource = resource;
    this.agreed = agreed;
    this.quorum = quorum;
    this.failures = failures;
  }
}
