/**
 * Key naming. Every key and channel of one lock shares a Redis Cluster hash tag, so each
 * script's keys live in one slot (no CROSSSLOT), whatever characters the name contains.
 *
 * Layout: `<prefix><kind>:{<tag>}<suffix>`, where `<tag>` is the lock name (or a tree's root
 * segment) with `%`, `{` and `}` percent-encoded: braces in names can't break the hash tag, and
 * the encoding is injective, so two names never share a key.
 */
export function hashTag(name: string): string {
  return `{${name.replace(/[%{}]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}}`;
}

/** The key of lock kind `kind` for `name`, with an optional suffix after the hash tag. */
export function lockKey(prefix: string, kind: string, name: string, suffix = ''): string {
  return `${prefix}${kind}:${hashTag(name)}${suffix}`;
}
