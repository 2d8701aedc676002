import { InvalidArgumentError } from '../errors.js';
import { hashTag } from '../engine/keys.js';
import { checkName } from '../validate.js';

/** Deepest path a tree accepts (each level adds four keys to a script call). */
export const MAX_DEPTH = 64;

/** The Redis keys of one path of a lock tree, in the layout the hilok scripts expect. */
export interface PathKeys {
  /** The path's segments. */
  segments: string[];
  /** KEYS for the acquire/release/extend/withdraw scripts: meta, meta expiry, then E, EW, S, SW per level. */
  all: string[];
  /** KEYS for the status script: meta, meta expiry, then the requested node's E, EW, S, SW. */
  node: string[];
  /** Wake-up channel of each level (index 0 = root). */
  channels: string[];
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
 * Keys of a path. All keys of a tree share the root segment as hash tag (one slot on a cluster);
 * each node's keys are `<prefix><kind>:{<root>}:<set>:<node path>` (kind `tree`, or `rw` for the
 * flat read-write lock, so the two never share a lock), so a node named like a set
 * (the `readers` collision of redishilok) cannot clash with anything.
 */
export function pathKeys(prefix: string, separator: string, segments: string[], kind = 'tree'): PathKeys {
  const base = `${prefix}${kind}:${hashTag(segments[0] as string)}:`;
  const meta = [`${base}meta`, `${base}meta-exp`];
  const all = [...meta];
  const channels: string[] = [];
  for (let depth = 1; depth <= segments.length; depth++) {
    const node = segments.slice(0, depth).join(separator);
    all.push(`${base}E:${node}`, `${base}EW:${node}`, `${base}S:${node}`, `${base}SW:${node}`);
    channels.push(`${base}E:${node}`);
  }
  return { segments, all, node: [...meta, ...all.slice(-4)], channels };
}
