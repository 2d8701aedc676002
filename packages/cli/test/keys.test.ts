import { describe, expect, it } from 'vitest';
import { decodeTreeItem, treeChannel, treeKeys } from '@hilok/core/internal';
import { parseKey } from '../src/keys.js';

describe('tree key layout, read back', () => {
  it('parses the three keys of a tree and of a read-write lock', () => {
    const [state, expiry, index] = treeKeys('p:', 'tree', 'sh{op}');
    expect([state, expiry, index]).toEqual(['p:tree:{sh%7Bop%7D}:state', 'p:tree:{sh%7Bop%7D}:expiry', 'p:tree:{sh%7Bop%7D}:index']);
    expect(parseKey(state, 'p:')).toEqual({ kind: 'tree', name: 'sh{op}', part: 'state' });
    expect(parseKey(index, 'p:')).toEqual({ kind: 'tree', name: 'sh{op}', part: 'index' });
    expect(parseKey(treeKeys('p:', 'rw', 'x')[1], 'p:')).toEqual({ kind: 'rw', name: 'x', part: 'expiry' });
    expect(parseKey('p:tree:{x}:E:x', 'p:')).toBeNull();
    expect(treeChannel('p:', 'tree', 'shop', 'shop/a')).toBe('p:tree:{shop}:wake:shop/a');
  });

  it('decodes holds and intents, with the separator length in bytes, and skips node fields', () => {
    // "→" is 3 bytes in UTF-8: the stored length the scripts write.
    expect(decodeTreeItem('h:id|1', 'w|1718000000123456|1718000000123|3|→shop→catalog')).toEqual({
      field: 'h',
      id: 'id|1',
      mode: 'w',
      fence: 1718000000123456,
      expiry: 1718000000123,
      path: 'shop→catalog',
    });
    expect(decodeTreeItem('i:abc', 'i|0|5|1|/a/b')).toMatchObject({ field: 'i', id: 'abc', mode: 'i', path: 'a/b' });
    expect(decodeTreeItem('n:a/b', 'w|1|2|1|/a/b')).toBeNull();
    expect(decodeTreeItem('h:x', 'garbage')).toBeNull();
  });
});
