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

/** A key prefix: any string without `{` or `}` (they would hijack the Redis Cluster hash tag). */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string') throw new InvalidArgumentError('prefix', `expected a string, got ${describe(prefix)}`);
  if (/[{}]/.test(prefix)) throw new InvalidArgumentError('prefix', 'must not contain "{" or "}" (reserved for hash tags)');
  if (prefix.length > MAX_NAME_LENGTH) throw new InvalidArgumentError('prefix', `longer than ${MAX_NAME_LENGTH}`);
  if (!prefix.isWellFormed()) throw new InvalidArgumentError('prefix', 'contains a lone surrogate (not valid Unicode)');
  return prefix;
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

/** A number within [min, max] (inclusive unless `exclusiveMin`). */
export function checkNumberInRange(
  value: unknown,
  argument: string,
  min: number,
  max: number,
  { exclusiveMin = false, integer = false } = {},
): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (exclusiveMin ? value > min : value >= min) &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const low = exclusiveMin ? `> ${min}` : `>= ${min}`;
    throw new InvalidArgumentError(argument, `expected ${integer ? 'an integer' : 'a number'} ${low} and <= ${max}, got ${describe(value)}`);
  }
  return value as number;
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

/** Options must be an object (or undefined); anything else is a caller bug. */
export function checkOptions<T extends object>(value: unknown, argument = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(argument, `expected an options object, got ${describe(value)}`);
  }
  return value as Partial<T>;
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
