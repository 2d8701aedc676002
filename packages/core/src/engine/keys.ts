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

/** Number of hash slots of a Redis Cluster. */
export const SLOT_COUNT = 16_384;

// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), the checksum Redis Cluster maps keys with.
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ b) & 0xff] as number);
  return crc;
}

/**
 * The Redis Cluster slot of `key`, by the cluster's own rule: only the part between the first
 * `{` and the next `}` is hashed when it is non-empty. Used to batch only keys of one slot into a
 * single script call.
 */
export function keySlot(key: string): number {
  let hashed = key;
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) hashed = key.slice(open + 1, close);
  }
  return crc16(Buffer.from(hashed, 'utf8')) % SLOT_COUNT;
}
