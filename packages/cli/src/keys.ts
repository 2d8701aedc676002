/**
 * Reading hilok's key layout back: `<prefix><kind>:{<tag>}<suffix>` (see `lockKey` and
 * `pathKeys` in `@hilok/core`; a tree is a `:state` hash, an `:expiry` set and an `:index`
 * set). Core only builds keys; the CLI needs the inverse, so it lives here. Kinds: `mutex`
 * (Mutex, SpinLock, ReentrantMutex), `fair` (FairLock), `tree` (HiLok) and `rw`
 * (ReadWriteLock, a tree of one-segment names).
 */

/** The lock kinds as they appear in keys. */
export type KeyKind = 'mutex' | 'fair' | 'tree' | 'rw';

/** Every {@link KeyKind}. */
export const KEY_KINDS: readonly KeyKind[] = ['mutex', 'fair', 'tree', 'rw'];

/** What one hilok key is. `name` is the lock name, or for trees the root segment. */
export type ParsedKey =
  | { kind: 'mutex'; name: string; part: 'hash' }
  | { kind: 'fair'; name: string; part: 'hash' | 'queue' | 'heartbeat' }
  | { kind: 'tree' | 'rw'; name: string; part: 'state' | 'expiry' | 'index' };

/** Inverse of core's `hashTag` body: `%XX` back to the character (only `%`, `{`, `}` are encoded). */
export function decodeTag(tag: string): string {
  return tag.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Core's hash-tag encoding of a name (without the braces): `%`, `{`, `}` percent-encoded. */
export function encodeTag(name: string): string {
  return name.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const KEY = /^(mutex|fair|tree|rw):\{([^{}]*)\}(.*)$/s;

/** Parse `key` as a hilok key under `prefix`, or `null` if it is not one (another kind, a foreign key). */
export function parseKey(key: string, prefix: string): ParsedKey | null {
  if (!key.startsWith(prefix)) return null;
  const m = KEY.exec(key.slice(prefix.length));
  if (!m) return null;
  const kind = m[1] as KeyKind;
  const name = decodeTag(m[2] as string);
  const suffix = m[3] as string;
  if (kind === 'mutex') return suffix === '' ? { kind, name, part: 'hash' } : null;
  if (kind === 'fair') {
    if (suffix === '') return { kind, name, part: 'hash' };
    if (suffix === ':q') return { kind, name, part: 'queue' };
    if (suffix === ':hb') return { kind, name, part: 'heartbeat' };
    return null;
  }
  if (suffix === ':state') return { kind, name, part: 'state' };
  if (suffix === ':expiry') return { kind, name, part: 'expiry' };
  if (suffix === ':index') return { kind, name, part: 'index' };
  return null;
}

/** The hash key of a mutex (every mutex flavour). */
export function mutexKey(prefix: string, name: string): string {
  return `${prefix}mutex:{${encodeTag(name)}}`;
}

/** Hash, queue and heartbeat keys of a fair lock. */
export function fairKeys(prefix: string, name: string): [hash: string, queue: string, heartbeat: string] {
  const hash = `${prefix}fair:{${encodeTag(name)}}`;
  return [hash, `${hash}:q`, `${hash}:hb`];
}

/** Common start of every key of a tree (`tree`) or read-write lock (`rw`) with this root segment / name. */
export function treeBase(prefix: string, kind: 'tree' | 'rw', root: string): string {
  return `${prefix}${kind}:{${encodeTag(root)}}:`;
}

/** The state hash, expiry set and path index of a tree (`tree`) or read-write lock (`rw`) with this root segment / name. */
export function treeKeys(prefix: string, kind: 'tree' | 'rw', root: string): [state: string, expiry: string, index: string] {
  const base = treeBase(prefix, kind, root);
  return [`${base}state`, `${base}expiry`, `${base}index`];
}

/** Wake-up channel of a node (its full path) of a tree or read-write lock. */
export function treeChannel(prefix: string, kind: 'tree' | 'rw', root: string, node: string): string {
  return `${treeBase(prefix, kind, root)}wake:${node}`;
}

/** A hold or a waiting writer's intent, as stored in a tree's state hash. */
export interface TreeItem {
  /** `h` for a hold, `i` for an intent (the field's kind). */
  field: 'h' | 'i';
  /** The hold id or intent id. */
  id: string;
  /** `r` or `w` for holds, `i` for intents. */
  mode: 'r' | 'w' | 'i';
  fence: number;
  /** Expiry on the server clock, ms. */
  expiry: number;
  path: string;
}

/**
 * Decode one field of a tree's state hash (core's `tree-prelude.lua`): `h:<id>` / `i:<id>` with
 * value `<mode>|<fence>|<expiry>|<separator length>|<separator><path>`; `null` for node
 * counters (`n:<node>`) and anything malformed.
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

/** `pattern` with Redis glob metacharacters escaped, for `SCAN MATCH`. */
export function globEscape(pattern: string): string {
  return pattern.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
