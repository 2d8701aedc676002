import { InvalidArgumentError, MAX_DURATION_MS, isRedisAdapter, type RedisAdapter } from '@hilok/core';
import { checkApp, checkDuration, checkOptions, checkPrefix, checkSeparator, type OptionKeys } from '@hilok/core/internal';

/** Options of a `Redlock`. Every duration is in milliseconds. */
export interface RedlockOptions {
  /** Default lease ttl (default 10 000, aioredlock's `lock_timeout`). */
  ttl?: number;
  /**
   * Retries after a failed attempt (default 3), so at most `retryCount + 1` attempts. Every
   * failed attempt is released on all instances before the next one starts.
   */
  retryCount?: number;
  /** Lower bound of the random pause between attempts (default 100). */
  retryDelayMin?: number;
  /** Upper bound of the random pause between attempts (default 300). */
  retryDelayMax?: number;
  /**
   * Clock drift allowance as a fraction of the ttl (default 0.01): validity is
   * `ttl − elapsed − (ttl · driftFactor + 2 ms)`. Must be in [0, 0.5).
   */
  driftFactor?: number;
  /**
   * Longest wait for one instance's reply (default 500). A frozen or unreachable instance costs
   * an attempt at most this long; keep it well below the ttl. Must be smaller than every ttl.
   */
  instanceTimeout?: number;
  /** Key namespace (default `"hilok:redlock:"`), kept apart from single-instance locks on purpose. No `{` or `}`. */
  prefix?: string;
  /** Path separator of the read/write locks on paths (default `"/"`). */
  separator?: string;
  /**
   * Close the adapters in `close()` (default `false` for adapters you pass, `true` for
   * {@link Redlock.fromUrls}, which created them).
   */
  closeAdapters?: boolean;
  /**
   * Application label in every owner token this Redlock makes (1–64 characters
   * `A-Z a-z 0-9 . _ -`), next to the host, pid and process start time, as core's managers do:
   * `hilok inspect --redlock` shows `app@host:pid`; `parseOwner(lease.token)` reads it back.
   */
  app?: string;
}

/** The keys of {@link RedlockOptions}: unknown keys are an `InvalidArgumentError`. */
export const REDLOCK_OPTION_KEYS = {
  ttl: true,
  retryCount: true,
  retryDelayMin: true,
  retryDelayMax: true,
  driftFactor: true,
  instanceTimeout: true,
  prefix: true,
  separator: true,
  closeAdapters: true,
  app: true,
} as const satisfies OptionKeys<RedlockOptions>;

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  ttl: number;
  retryCount: number;
  retryDelayMin: number;
  retryDelayMax: number;
  driftFactor: number;
  instanceTimeout: number;
  prefix: string;
  separator: string;
  closeAdapters: boolean;
  app: string | undefined;
}

/** Largest accepted `retryCount`; more is a configuration mistake, not a strategy. */
export const MAX_RETRY_COUNT = 10_000;

/** Validate the adapter list: non-empty, adapters only, no adapter twice (it would vote twice). */
export function checkAdapters(adapters: unknown): RedisAdapter[] {
  if (!Array.isArray(adapters)) throw new InvalidArgumentError('adapters', 'expected an array of RedisAdapter (one per independent Redis instance)');
  if (adapters.length === 0) throw new InvalidArgumentError('adapters', 'must contain at least one adapter');
  adapters.forEach((a, i) => {
    if (!isRedisAdapter(a)) throw new InvalidArgumentError(`adapters[${i}]`, 'expected a RedisAdapter (use createIoredisAdapter or createNodeRedisAdapter)');
  });
  if (new Set(adapters).size !== adapters.length) {
    throw new InvalidArgumentError('adapters', 'the same adapter appears twice; each entry must be a different, independent instance');
  }
  return [...(adapters as RedisAdapter[])];
}

/** Validate constructor options and apply defaults. Throws `InvalidArgumentError`, never touches Redis. */
export function resolveOptions(options: unknown, closeAdaptersDefault: boolean): ResolvedOptions {
  const o = checkOptions<RedlockOptions>(options, REDLOCK_OPTION_KEYS);
  const ttl = o.ttl === undefined ? 10_000 : checkDuration(o.ttl, 'ttl');
  const retryCount = o.retryCount === undefined ? 3 : checkInteger(o.retryCount, 'retryCount', 0, MAX_RETRY_COUNT);
  const retryDelayMin = o.retryDelayMin === undefined ? 100 : checkInteger(o.retryDelayMin, 'retryDelayMin', 0, MAX_DURATION_MS);
  const retryDelayMax = o.retryDelayMax === undefined ? Math.max(300, retryDelayMin) : checkInteger(o.retryDelayMax, 'retryDelayMax', 0, MAX_DURATION_MS);
  if (retryDelayMax < retryDelayMin) {
    throw new InvalidArgumentError('retryDelayMax', `must be >= retryDelayMin (${retryDelayMin}), got ${retryDelayMax}`);
  }
  const driftFactor = o.driftFactor === undefined ? 0.01 : o.driftFactor;
  if (typeof driftFactor !== 'number' || !Number.isFinite(driftFactor) || driftFactor < 0 || driftFactor >= 0.5) {
    throw new InvalidArgumentError('driftFactor', `expected a number in [0, 0.5), got ${String(driftFactor)}`);
  }
  const instanceTimeout = o.instanceTimeout === undefined ? 500 : checkDuration(o.instanceTimeout, 'instanceTimeout');
  checkTtlAgainst(ttl, instanceTimeout, driftFactor);
  // Core's checks, so a prefix or separator is valid here exactly when it is for core's locks.
  const prefix = o.prefix === undefined ? 'hilok:redlock:' : checkPrefix(o.prefix);
  const separator = o.separator === undefined ? '/' : checkSeparator(o.separator);
  const closeAdapters = o.closeAdapters === undefined ? closeAdaptersDefault : o.closeAdapters;
  if (typeof closeAdapters !== 'boolean') throw new InvalidArgumentError('closeAdapters', 'expected a boolean');
  const app = checkApp(o.app);
  return { ttl, retryCount, retryDelayMin, retryDelayMax, driftFactor, instanceTimeout, prefix, separator, closeAdapters, app };
}

/**
 * A ttl must leave room for one attempt and the drift: with `ttl <= instanceTimeout + drift` a
 * slow-but-answering instance would make every grant arrive with no validity left.
 */
export function checkTtlAgainst(ttl: number, instanceTimeout: number, driftFactor: number): void {
  if (ttl <= instanceTimeout + drift(ttl, driftFactor)) {
    throw new InvalidArgumentError('ttl', `${ttl} ms leaves no validity after instanceTimeout (${instanceTimeout} ms) and clock drift; use a longer ttl or a shorter instanceTimeout`);
  }
}

/** The drift allowance of the Redlock spec: `ttl · factor + 2 ms` (2 ms for timer granularity). */
export function drift(ttl: number, driftFactor: number): number {
  return Math.floor(ttl * driftFactor) + 2;
}

/** A whole number within [min, max] (retry counts and delays; durations use core's `checkDuration`). */
export function checkInteger(value: unknown, argument: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(argument, `expected a whole number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}
