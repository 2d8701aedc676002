import clusterKeySlot from 'cluster-key-slot';

/**
 * Key naming. Every key and channel of one lock shares a Redis Cluster hash tag, so each
 * script's keys live in one slot (no CROSSSLOT), whatever characters the name contains.
 *
 * Layout: `<prefix><kind>:{<tag>}<suffix>`, where `<tag>` is the lock name (or a tree's root
 * segment) with `%`, `{` and `}` percent-encoded: braces in names can't break the hash tag, and
 * the encoding is injective, so two names never share a key.
 */
export function hashTag(name: string): string {
  if (!NEEDS_ENCODING.test(name)) return `{${name}}`;
  return `{${name.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
}

const NEEDS_ENCODING = /[%{}]/;

/** The key of lock kind `kind` for `name`, with an optional suffix after the hash tag. */
export function lockKey(prefix: string, kind: string, name: string, suffix = ''): string {
  return `${prefix}${kind}:${hashTag(name)}${suffix}`;
}

/**
 * The inverse of {@link lockKey}: the kind, name and suffix of a key built by it under `prefix`,
 * or `null` for any other key. Only the canonical form counts (the name re-encodes to the same
 * tag), so a key core never builds is not mistaken for a lock. For tools that read keys (the CLI).
 */
export function readLockKey(key: string, prefix: string): { kind: string; name: string; suffix: string } | null {
  if (!key.startsWith(prefix)) return null;
  const m = LOCK_KEY.exec(key.slice(prefix.length));
  if (!m) return null;
  const name = unhashTag(m[2] as string);
  if (hashTag(name) !== `{${m[2] as string}}`) return null;
  return { kind: m[1] as string, name, suffix: m[3] as string };
}

/** The name inside a hash tag (without the braces): `%XX` back to the character, the inverse of {@link hashTag}'s encoding. */
export function unhashTag(tag: string): string {
  return tag.replace(/%([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

const LOCK_KEY = /^([^:{}]+):\{([^{}]*)\}(.*)$/s;

/**
 * The Redis Cluster slot of `key`, by the cluster's own rule (CRC16 of the part between the first
 * `{` and the next `}` when that part is non-empty, else of the whole key; 16384 slots), with the
 * `cluster-key-slot` package both drivers use. Used to batch only keys of one slot into a single
 * script call. A string with a lone surrogate is hashed as the bytes the drivers send for it
 * (UTF-8, U+FFFD for the surrogate); names and prefixes never have one (validate.ts refuses them).
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open === -1 || key[open + 1] !== '}' || !key.includes('}', open + 2)) {
    return clusterKeySlot(key.isWellFormed() ? key : Buffer.from(key, 'utf8'));
  }
  return wholeKeySlot(Buffer.from(key, 'utf8'));
}

/**
 * The slot of a key whose first `{` is directly followed by `}` and that has another `}` later
 * (never one of hilok's keys: their tag is non-empty and brace-free). Redis hashes the whole key;
 * `cluster-key-slot` would hash up to that later `}`. The CRC (no initial value, no final XOR) is
 * linear, so the whole key's CRC is that of the key with every `}` made 0x01 (no `}` left: hashed
 * whole) XOR that of the difference (0x7C where a `}` was, zeros elsewhere: no brace at all).
 */
function wholeKeySlot(bytes: Buffer): number {
  const withoutCloses = Buffer.from(bytes);
  const difference = Buffer.alloc(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === CLOSE) {
      withoutCloses[i] = 0x01;
      difference[i] = CLOSE ^ 0x01;
    }
  }
  return clusterKeySlot(withoutCloses) ^ clusterKeySlot(difference);
}

const CLOSE = 0x7d; // '}'
