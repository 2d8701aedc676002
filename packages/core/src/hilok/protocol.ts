/**
 * The hierarchical lock tree's Redis protocol in one place (`HiLok`, `ReadWriteLock`, Redlock's
 * read/write holds, the CLI): its keys and channels, the arguments of its scripts, the stored
 * layout of holds and intents, and the replies. The scripts are `scripts/hilok/*.lua` on the shared
 * `scripts/includes/tree-prelude.lua`, which documents the layout in full. Acquire, extend and
 * release batch like the mutex's scripts (`-- @batch N keys 3`): one call may carry many trees,
 * each as its three keys and its own arguments (the builders below give one tree's), and the
 * reply has one entry per tree, which the readers below take.
 */
import { randomUUID } from 'node:crypto';
import type { ScriptArg } from '../adapter.js';
import type { LockBlocker } from '../errors.js';
import { hashTag } from '../engine/keys.js';
import { asArray, asNumber, asString } from '../engine/reply.js';

/** The key kind of a tree: `tree` (HiLok) or `rw` (ReadWriteLock, a tree of one-segment names), so the two never share a lock. */
export type TreeKind = 'tree' | 'rw';

/**
 * The common start of every key and channel of the tree whose root segment is `root` (for a
 * ReadWriteLock: the name): `<prefix><kind>:{<root>}:`, hash-tagged by the root, so one tree is
 * one Redis Cluster slot.
 */
export function treeBase(prefix: string, kind: string, root: string): string {
  return `${prefix}${kind}:${hashTag(root)}:`;
}

/** The three keys of a tree (KEYS of every tree script, at any depth): state hash, expiry set, path index. */
export function treeKeys(prefix: string, kind: string, root: string): [state: string, expiry: string, index: string] {
  return treeKeysAt(treeBase(prefix, kind, root));
}

/** {@link treeKeys} from the tree's {@link treeBase}. */
export function treeKeysAt(base: string): [state: string, expiry: string, index: string] {
  return [`${base}state`, `${base}expiry`, `${base}index`];
}

/**
 * The wake-up channel of the node `node` (its full path) of a tree: `<base>wake:<node>`. The
 * scripts derive the same name from the state key (`tree-prelude.lua`, `channelBase`).
 */
export function treeChannel(prefix: string, kind: string, root: string, node: string): string {
  return treeChannelAt(treeBase(prefix, kind, root), node);
}

/** {@link treeChannel} from the tree's {@link treeBase}. */
export function treeChannelAt(base: string, node: string): string {
  return `${base}wake:${node}`;
}

/** How long a waiting writer's intent keeps readers out without a refresh, unless configured (`intentTtl`). */
export const DEFAULT_INTENT_TTL = 3_000;

/**
 * Start of a waiting reader's intent id (`READER_INTENT` in `tree-prelude.lua`): the scripts tell
 * a queued reader from a queued writer by it. A writer's intent id is a bare UUID.
 */
export const READER_INTENT = 'r.';

/** A fresh intent id for a blocking acquire: a place in the tree's hand-off queue while it waits. */
export function newIntentId(mode: 'read' | 'write'): string {
  return mode === 'read' ? READER_INTENT + randomUUID() : randomUUID();
}

/** The ARGV of one `hilok/acquire.lua` call (see the script's header). */
export interface TreeAcquire {
  mode: 'read' | 'write';
  /** Hold id (the owner token). */
  id: string;
  ttl: number;
  path: string;
  separator: string;
  /** Intent id of a writer that will wait: queues it among the waiting writers. Default: none. */
  intent?: string;
  /** Ttl of that intent (default {@link DEFAULT_INTENT_TTL}; unused without an intent). */
  intentTtl?: number;
  /** A reader that will wait for a wake-up: mark the node it listens on. Default: false. */
  listens?: boolean;
}

/** ARGV of `hilok/acquire.lua`. */
export function treeAcquireArgs(a: TreeAcquire): ScriptArg[] {
  return [a.mode === 'write' ? 'w' : 'r', a.id, a.ttl, a.path, a.separator, a.intent ?? '', a.intentTtl ?? DEFAULT_INTENT_TTL, a.listens ? '1' : '0'];
}

/** ARGV of `hilok/extend.lua`: hold id, path, new ttl. */
export function treeExtendArgs(id: string, path: string, ttl: number): ScriptArg[] {
  return [id, path, ttl];
}

/** ARGV of `hilok/release.lua` (hold id, path) and of `hilok/withdraw.lua` (intent id, path). */
export function treeReleaseArgs(id: string, path: string): ScriptArg[] {
  return [id, path];
}

/** The reply of `hilok/extend.lua` and `hilok/release.lua`: 1 when the hold was live (and is extended / gone now). */
export function readTreeDone(reply: unknown): boolean {
  return asNumber(reply) === 1;
}

/** A hold or a waiting writer's intent, as stored in a tree's state hash. */
export interface TreeItem {
  /** `h` for a hold, `i` for an intent (the field's kind). */
  field: 'h' | 'i';
  /** The hold id or intent id. */
  id: string;
  /** `r` or `w` for holds, `i` for intents. */
  mode: 'r' | 'w' | 'i';
  /** A hold's fencing token; an intent's arrival (server clock, µs). */
  fence: number;
  /** Expiry on the server clock, ms. */
  expiry: number;
  path: string;
}

/**
 * Decode one field of a tree's state hash — the reader's side of `encodeItem` / `decodeItem` in
 * `tree-prelude.lua`: `h:<id>` / `i:<id>` with value `<mode>|<fence>|<expiry>|<separator
 * length>|<separator><path>`; `null` for node counters (`n:<node>`), `marks`, `queue` and
 * anything malformed. For tools that read keys directly (the CLI); lock code goes through the scripts.
 */
export function decodeTreeItem(field: string, value: string): TreeItem | null {
  const kind = field.slice(0, 2);
  if (kind !== 'h:' && kind !== 'i:') return null;
  const m = /^([rwi])\|(\d+)\|(\d+)\|(\d+)\|(.*)$/s.exec(value);
  if (!m) return null;
  // The separator's length is in bytes (Lua's #), so cut the UTF-8 bytes, not the characters.
  const path = Buffer.from(m[5] as string).subarray(Number(m[4])).toString();
  return { field: kind === 'h:' ? 'h' : 'i', id: field.slice(2), mode: m[1] as TreeItem['mode'], fence: Number(m[2]), expiry: Number(m[3]), path };
}

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

/**
 * Most parts one multi-path acquire may name (after merging duplicates and covered descendants):
 * every part of a tree is checked in one script, so the bound keeps a script short.
 */
export const MAX_TREE_PARTS = 64;

/**
 * The hold id of one part of a multi-path hold with owner token `owner`: `<owner>#<path>`. Each
 * part is a hold of its own in its tree (its own field, counters and expiry); the same owner
 * token and path always give the same id, so a re-take with `{ id }` finds its parts again.
 */
export function treePartId(owner: string, path: string): string {
  return `${owner}#${path}`;
}

/** One part of a `hilok/acquire-all.lua` call. */
export interface TreePart {
  mode: 'read' | 'write';
  /** The part's hold id ({@link treePartId}). */
  id: string;
  path: string;
  /** Intent id of a blocking caller's write part (queues it among waiting writers), else "". */
  intent: string;
}

/** The ARGV of one `hilok/acquire-all.lua` call (one tree; see the script's header). */
export interface TreeAcquireAll {
  ttl: number;
  separator: string;
  /** Ttl of the write parts' intents (default {@link DEFAULT_INTENT_TTL}). */
  intentTtl?: number;
  /** The caller will wait for a wake-up if busy: mark the node it listens on. Default: false. */
  listens?: boolean;
  /** The tree's parts: distinct, none an ancestor of another (see `treeParts`). */
  parts: readonly TreePart[];
}

/** ARGV of `hilok/acquire-all.lua`. */
export function treeAcquireAllArgs(a: TreeAcquireAll): ScriptArg[] {
  const args: ScriptArg[] = [a.ttl, a.separator, a.intentTtl ?? DEFAULT_INTENT_TTL, a.listens ? '1' : '0'];
  for (const p of a.parts) args.push(p.mode === 'write' ? 'w' : 'r', p.id, p.path, p.intent);
  return args;
}

/** The reply of `hilok/acquire-all.lua` (`part`: 0-based index into the call's parts). */
export type TreeAcquireAllReply =
  /** Every part held: each part's fencing token, in the call's order. */
  | { status: 'granted'; fences: number[] }
  /** Nothing taken: the first busy part, and its blocker as in {@link TreeAcquireReply}. */
  | { status: 'busy'; part: number; retryAfter: number; level: number; blocker: LockBlocker | undefined }
  /** A part's hold id already holds another path or mode: the live hold's stored value. */
  | { status: 'conflict'; part: number; hold: string };

/**
 * Parse a `hilok/acquire-all.lua` reply: `{1, fence…}`, `{-1, k, hold}` or
 * `{0, retryAfter, level, blocker path, blocker kind, write hold id or "", k}` (k 1-based).
 */
export function readTreeAcquireAll(reply: unknown): TreeAcquireAllReply {
  const r = asArray(reply);
  const status = asNumber(r[0]);
  if (status === 1) return { status: 'granted', fences: r.slice(1).map(asNumber) };
  if (status === -1) return { status: 'conflict', part: asNumber(r[1]) - 1, hold: asString(r[2]) };
  return { status: 'busy', part: asNumber(r[6]) - 1, retryAfter: asNumber(r[1]), level: asNumber(r[2]), blocker: readBlocker(r[3], r[4], r[5]) };
}
