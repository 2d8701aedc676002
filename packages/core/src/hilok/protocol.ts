import type { LockBlocker } from '../errors.js';
import { asArray, asNumber, asString } from '../engine/reply.js';

/**
 * The reply of `hilok/acquire.lua`, read in one place for every caller of the script (`HiLok`,
 * `ReadWriteLock`, Redlock's read/write kinds).
 */
export type TreeAcquireReply =
  /** Held: the fencing token of the hold. */
  | { status: 'granted'; fence: number }
  /**
   * Busy: ms until the earliest lease in the tree ends (no later than the blocker's), the depth
   * (1 = root) of the node whose channel announces the blocker's release, and the blocker.
   */
  | { status: 'busy'; retryAfter: number; level: number; blocker: LockBlocker | undefined }
  /** The id already holds another path or mode: the live hold's stored value. */
  | { status: 'conflict'; hold: string };

/**
 * Parse a `hilok/acquire.lua` reply: `{1, fence}`, `{-1, hold}` or
 * `{0, retryAfter, level, blocker path, blocker kind ("w" | "r" | "i"), write hold id or ""}`.
 */
export function readTreeAcquire(reply: unknown): TreeAcquireReply {
  const r = asArray(reply);
  const status = asNumber(r[0]);
  if (status === 1) return { status: 'granted', fence: asNumber(r[1]) };
  if (status === -1) return { status: 'conflict', hold: asString(r[1]) };
  return { status: 'busy', retryAfter: asNumber(r[1]), level: asNumber(r[2]), blocker: readBlocker(r[3], r[4], r[5]) };
}

function readBlocker(path: unknown, kind: unknown, id: unknown): LockBlocker | undefined {
  if (path === undefined || path === null) return undefined;
  const k = asString(kind);
  const blocker: LockBlocker = { path: asString(path), mode: k === 'r' ? 'read' : 'write' };
  const owner = id === undefined || id === null ? '' : asString(id);
  if (k === 'w' && owner !== '') blocker.id = owner;
  if (k === 'i') blocker.waiting = true;
  return blocker;
}
