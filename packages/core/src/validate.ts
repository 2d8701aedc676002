import { InvalidArgumentError } from './errors.js';

/** Longest lock name or path hilok accepts, in UTF-16 code units; longer keys only waste Redis memory. */
export const MAX_NAME_LENGTH = 1024;
/** Largest ttl / timeout in ms: the largest delay Node timers can schedule (about 24.8 days). */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/** A non-empty string of at most {@link MAX_NAME_LENGTH} characters. */
export function checkName(name: unknown, argument = 'name'): string {
  if (typeof name !== 'string') throw new InvalidArgumentError(argument, `expected a string, got ${describe(name)}`);
  if (name.length === 0) throw new InvalidArgumentError(argument, 'must not be empty');
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(argument, `is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`);
  }
  if (!name.isWellFormed()) throw new InvalidArgumentError(argument, 'contains a lone surrogate (not valid Unicode)');
  return name;
}

/**
 * The `app` manager option (the label in every owner token the manager makes): `undefined` or
 * 1–64 characters `A-Z a-z 0-9 . _ -`, so a token stays readable and parses back.
 */
export function checkApp(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(value)) {
    throw new InvalidArgumentError('app', `expected 1–64 characters of A-Z a-z 0-9 . _ -, got ${typeof value === 'string' ? JSON.stringify(value) : typeof value}`);
  }
  return value;
}

/** A key prefix: any string without `{` or `}` (they would hijack the Redis Cluster hash tag). */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix', `expected a string, got ${describe(prefix)}`);
  if (/[{}]/.test(prefix)) throw new InvalidArgumentError('prefix', 'must not contain "{" or "}" (reserved for hash tags)');
  if (prefix.length > MAX_NAME_LENGTH) throw new InvalidArgumentError('prefix', `longer than ${MAX_NAME_LENGTH}`);
  if (!prefix.isWellFormed()) throw new InvalidArgumentError('prefix', 'contains a lone surrogate (not valid Unicode)');
  return prefix;
}

/** A path separator: a non-empty string without `{` or `}` (a tree's keys carry its root segment as hash tag). */
export function checkSeparator(separator: unknown): string {
  if (typeof separator !== 'string' || separator.length === 0) throw new InvalidArgumentError('separator', 'expected a non-empty string');
  if (/[{}]/.test(separator)) throw new InvalidArgumentError('separator', 'must not contain "{" or "}"');
  return separator;
}

/** A positive whole number of milliseconds, at most {@link MAX_DURATION_MS}. */
export function checkDuration(value: unknown, argument: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidArgumentError(argument, `expected a finite number of milliseconds, got ${describe(value)}`);
  }
  if (!Number.isInteger(value)) throw new InvalidArgumentError(argument, `must be a whole number of milliseconds, got ${value}`);
  if (value <= 0) throw new InvalidArgumentError(argument, `must be greater than 0, got ${value}`);
  if (value > MAX_DURATION_MS) throw new InvalidArgumentError(argument, `must be at most ${MAX_DURATION_MS} ms, got ${value}`);
  return value;
}

/** A wait timeout: 0 (try once) up to {@link MAX_DURATION_MS}, or `Infinity` (wait as long as it takes). */
export function checkTimeout(value: unknown, argument = 'timeout'): number {
  if (value === Infinity) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new InvalidArgumentError(argument, `expected a number of milliseconds or Infinity, got ${describe(value)}`);
  }
  if (value < 0) throw new InvalidArgumentError(argument, `must not be negative, got ${value}`);
  if (value > MAX_DURATION_MS) throw new InvalidArgumentError(argument, `must be at most ${MAX_DURATION_MS} ms or Infinity`);
  return value;
}

/** A boolean, or the default when undefined. */
export function checkBoolean(value: unknown, argument: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new InvalidArgumentError(argument, `expected a boolean, got ${describe(value)}`);
  return value;
}

/** An AbortSignal or undefined. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError('signal', `expected an AbortSignal, got ${describe(value)}`);
  return value;
}

/** A function or undefined. */
export function checkCallback<F extends (...args: never[]) => unknown>(value: unknown, argument: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new InvalidArgumentError(argument, `expected a function, got ${describe(value)}`);
  return value as F;
}

/**
 * Every key of an options type `T`, as an object `{ key: true, … }`. Declare each list next to
 * its interface with `satisfies OptionKeys<T>`: TypeScript then fails when a key is added to the
 * interface but not to the list (or the other way round), so the runtime check cannot drift.
 */
export type OptionKeys<T> = { readonly [K in keyof T]-?: true };

/** A list of allowed option keys (an {@link OptionKeys} object of any options type). */
export type AllowedKeys = Readonly<Record<string, true>>;

/**
 * Options must be an object (or undefined); anything else is a caller bug. With `allowed`, every
 * key of the object must be in it: an unknown key (`{ tiemout: 5 }`, `{ tttl: 100 }`) would
 * otherwise be ignored in silence, so it is an {@link InvalidArgumentError} naming the key (and
 * the closest known one). `null` checks the shape only — for callers whose options are checked
 * against their list further down the same call. Costs nothing without options and one `for…in`
 * with them.
 */
export function checkOptions<T extends object>(value: unknown, allowed: AllowedKeys | null, argument = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `expected an options object, got ${describe(value)}`);
  }
  if (allowed !== null) {
    for (const key in value) if (allowed[key] !== true) throw unknownOption(key, allowed, argument);
  }
  return value as Partial<T>;
}

/** The error for an unknown option key: names it (prefixed for nested options, e.g. `spin.x`) and suggests the closest known key. */
function unknownOption(key: string, allowed: AllowedKeys, argument: string): InvalidArgumentError {
  const known = Object.keys(allowed);
  const guess = closestKey(key, known);
  const name = argument === 'options' ? key : `${argument}.${key}`;
  const hint = guess === undefined ? `known options: ${known.join(', ')}` : `did you mean ${guess}?`;
  return new InvalidArgumentError(name, `unknown option (${hint})`);
}

/**
 * The known key `key` was most likely meant to be: same letters ignoring case, `_` and `-`
 * (`blocking_timeout` → `blockingTimeout`), a prefix of it (`refresh` → `refreshInterval`), or
 * at most one edit per three characters away (`tiemout` → `timeout`, `tttl` → `ttl`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[_-]/g, '');
  const k = norm(key);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const c = norm(candidate);
    const d = c === k ? 0 : k.length >= 4 && c.startsWith(k) ? 1 : editDistance(k, c);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(k.length / 3)) ? best : undefined;
}

/** Edit distance with adjacent transpositions (optimal string alignment); short strings only. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Infinity;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) (d[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] as number[];
    const prev = d[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** Short description of a value for error messages, never dumping large objects. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    default:
      return `a ${typeof value}`;
  }
}
