/**
 * Reply coercion. Drivers disagree on shapes: integers may arrive as numbers or strings,
 * bulk strings as strings or Buffers, and RESP3 clients may wrap things differently.
 * Every script reply passes through these helpers so lock code sees one shape.
 */

/** The reply as an array (a script's Lua table). */
export function asArray(reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply;
  throw new TypeError(`expected an array reply from Redis, got ${typeof reply}`);
}

/** The reply as a finite number (integer replies, or numeric strings). */
export function asNumber(reply: unknown): number {
  const n = typeof reply === 'number' ? reply : Number(asString(reply));
  if (!Number.isFinite(n)) throw new TypeError(`expected a numeric reply from Redis, got ${String(reply)}`);
  return n;
}

/** The reply as a string (bulk strings, Buffers, numbers). */
export function asString(reply: unknown): string {
  if (typeof reply === 'string') return reply;
  if (typeof reply === 'number' || typeof reply === 'bigint') return String(reply);
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8');
  throw new TypeError(`expected a string reply from Redis, got ${reply === null ? 'null' : typeof reply}`);
}
