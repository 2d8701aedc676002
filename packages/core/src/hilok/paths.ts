import { InvalidArgumentError } from '../errors.js';
import { checkName } from '../validate.js';
import { MAX_TREE_PARTS, treeBase, treeChannelAt, treeKeysAt } from './protocol.js';

/**
 * Deepest path a tree accepts. A script call costs the same number of Redis commands at any
 * depth, but its Lua string work and the node fields it reads and writes grow with it.
 */
export const MAX_DEPTH = 64;

/** The Redis keys and wake-up channels of one path of a lock tree, in the layout the hilok scripts expect. */
export interface PathKeys {
  /** The path's segments. */
  segments: string[];
  /**
   * KEYS of every tree script: the tree's state hash (holds, intents, per-node counters), its
   * expiry set and its path index. Three keys at any depth, shared by every path under the root.
   */
  keys: [state: string, expiry: string, index: string];
  /** Wake-up channel of the node at `level` (1 = root, `segments.length` = the path itself). */
  channel(level: number): string;
}

/**
 * Split and validate a path: a non-empty string whose segments, split on `separator`, are all
 * non-empty. `a//b`, a leading or trailing separator, or an empty path are errors — never
 * silently normalised, because `a//b` and `a/b` would then be the same lock.
 */
export function splitPath(path: unknown, separator: string): string[] {
  const value = checkName(path, 'path');
  const segments = value.split(separator);
  if (segments.some((s) => s.length === 0)) {
    throw new InvalidArgumentError('path', `"${value}" has an empty segment (separator "${separator}")`);
  }
  if (segments.length > MAX_DEPTH) throw new InvalidArgumentError('path', `is ${segments.length} levels deep; the limit is ${MAX_DEPTH}`);
  return segments;
}

/**
 * Keys of a path. A tree is three keys, `<prefix><kind>:{<root>}:state`, `…:expiry` and `…:index` (kind
 * `tree`, or `rw` for the flat read-write lock, so the two never share a lock), hash-tagged by the
 * root segment (one slot on a cluster). Nodes are fields of the state hash, prefixed by their
 * field kind (see `scripts/includes/tree-prelude.lua`), so a node named like a field (the
 * `readers` collision of redishilok) cannot clash with anything. Node `n`'s channel is
 * `<prefix><kind>:{<root>}:wake:<n>` ({@link treeChannel}); the scripts derive it from the state key the same way.
 */
export function pathKeys(prefix: string, separator: string, segments: string[], kind = 'tree'): PathKeys {
  const base = treeBase(prefix, kind, segments[0] as string);
  return {
    segments,
    keys: treeKeysAt(base),
    channel: (level) => treeChannelAt(base, segments.slice(0, level).join(separator)),
  };
}

/** One part of a multi-path hold, as checked and normalised by {@link treeParts}. */
export interface PathPart {
  path: string;
  mode: 'read' | 'write';
  segments: string[];
}

/**
 * Check and normalise the parts of a multi-path acquire (`HiLok.acquire`, Redlock's multi-path
 * hold): a non-empty array of `{ path, mode }` objects (no other keys), each path as for
 * {@link splitPath}, mode `'read'` or `'write'`. The same path twice is one part, write if either
 * is; a part below another part of the request is merged into it when the ancestor covers it (the
 * ancestor is a write, or both are reads) and rejected otherwise (a read ancestor with a write
 * below: take the ancestor as a write, or split the request). At most {@link MAX_TREE_PARTS} parts
 * remain, sorted by path. Errors are `InvalidArgumentError`s naming the offending entry.
 */
export function treeParts(list: unknown, separator: string, argument = 'parts'): PathPart[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError(argument, 'expected an array of { path, mode }');
  if (list.length === 0) throw new InvalidArgumentError(argument, 'expected at least one { path, mode }, got an empty list');
  const byPath = new Map<string, PathPart>();
  list.forEach((entry: unknown, i) => {
    const at = `${argument}[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new InvalidArgumentError(at, 'expected { path, mode }');
    for (const key of Object.keys(entry)) {
      if (key !== 'path' && key !== 'mode') throw new InvalidArgumentError(at, `unknown key "${key}" (expected path and mode)`);
    }
    const { path, mode } = entry as { path: unknown; mode: unknown };
    if (mode !== 'read' && mode !== 'write') throw new InvalidArgumentError(`${at}.mode`, `expected 'read' or 'write', got ${JSON.stringify(mode)}`);
    let segments: string[];
    try {
      segments = splitPath(path, separator);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new InvalidArgumentError(`${at}.path`, err.message.replace(/^[^:]*:\s*/, ''));
      throw err;
    }
    const key = path as string;
    const seen = byPath.get(key);
    if (!seen) byPath.set(key, { path: key, mode, segments });
    else if (mode === 'write') seen.mode = 'write';
  });
  const all = [...byPath.values()];
  const kept = all.filter((p) => {
    // The strict ancestors of p among the parts (their segments are a prefix of p's). A write
    // ancestor covers p whatever else lies between (checked first: the answer must not depend on
    // the order of the list); a read ancestor covers a read, and a write below it is an error.
    const above = all.filter((q) => q.segments.length < p.segments.length && q.segments.every((s, j) => s === p.segments[j]));
    if (above.length === 0) return true;
    if (p.mode === 'read' || above.some((q) => q.mode === 'write')) return false;
    const q = above[0] as PathPart;
    throw new InvalidArgumentError(argument, `"${p.path}" (write) is below "${q.path}" (read) in one request: take "${q.path}" as a write, or the two in separate holds`);
  });
  if (kept.length > MAX_TREE_PARTS) throw new InvalidArgumentError(argument, `${kept.length} parts; the limit is ${MAX_TREE_PARTS}`);
  return kept.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
