import { InvalidArgumentError } from '../errors.js';
import { checkName } from '../validate.js';
import { treeBase, treeChannelAt, treeKeysAt } from './protocol.js';

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
