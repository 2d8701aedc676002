/**
 * Reading hilok's key layout back: `<prefix><kind>:{<tag>}<suffix>` (see `lockKey` and
 * `pathKeys` in `@hilok/core`). Core only builds keys; the CLI needs the inverse, so it lives
 * here. Kinds: `mutex` (Mutex, SpinLock, ReentrantMutex), `fair` (FairLock), `tree` (HiLok) and
 * `rw` (ReadWriteLock, a tree of one-segment names).
 */

/** The lock kinds as they appear in keys. */
export type KeyKind = 'mutex' | 'fair' | 'tree' | 'rw';

/** Every {@link KeyKind}. */
export const KEY_KINDS: readonly KeyKind[] = ['mutex', 'fair', 'tree', 'rw'];

/** What one hilok key is. `name` is the lock name, or for trees the root segment. */
export type ParsedKey =
  | { kind: 'mutex'; name: string; part: 'hash' }
  | { kind: 'fair'; name: string; part: 'hash' | 'queue' | 'heartbeat' }
  | { kind: 'tree' | 'rw'; name: string; part: 'meta' | 'meta-exp' }
  | { kind: 'tree' | 'rw'; name: string; part: 'E' | 'EW' | 'S' | 'SW'; node: string };

/** Inverse of core's `hashTag` body: `%XX` back to the character (only `%`, `{`, `}` are encoded). */
export function decodeTag(tag: string): string {
  return tag.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Core's hash-tag encoding of a name (without the braces): `%`, `{`, `}` percent-encoded. */
export function encodeTag(name: string): string {
  return name.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const KEY = /^(mutex|fair|tree|rw):\{([^{}]*)\}(.*)$/s;
const NODE = /^:(E|EW|S|SW):(.*)$/s;

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
  if (suffix === ':meta') return { kind, name, part: 'meta' };
  if (suffix === ':meta-exp') return { kind, name, part: 'meta-exp' };
  const node = NODE.exec(suffix);
  if (!node) return null;
  return { kind, name, part: node[1] as 'E' | 'EW' | 'S' | 'SW', node: node[2] as string };
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

/** `pattern` with Redis glob metacharacters escaped, for `SCAN MATCH`. */
export function globEscape(pattern: string): string {
  return pattern.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
