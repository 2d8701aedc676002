import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';
import { keySlot, lockKey } from '../src/engine/keys.js';

// keySlot is cluster-key-slot plus Redis's "{}" rule; the cluster's own CLUSTER KEYSLOT is the oracle.
describe('keySlot agrees with CLUSTER KEYSLOT', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ args: ['--cluster-enabled', 'yes'] });
  });
  afterAll(() => server?.stop());

  const keys = [
    'foo', '{user1}.a', 'a{b', '{', '}', '{a}{b}', '{{}}', 'héllo{wörld}', '日本{語}', '😀{x}',
    // An empty first tag hashes the whole key, even with a "}" later (cluster-key-slot alone would not).
    'a{}b', '{}', '{}}', 'e{}}{}}rke', '{}x}y{z}', '{}{a}',
    lockKey('hilok:', 'mutex', 'job-1'), lockKey('hilok:', 'tree', 'a{b}%', ':n'), lockKey('', 'fair', 'ünï€ödé', ':q'),
  ];
  it.each(keys)('%j', async (key) => {
    expect(await server.command('CLUSTER', 'KEYSLOT', key)).toBe(keySlot(key));
  });

  it('a lone surrogate is hashed as the drivers send it (UTF-8 with U+FFFD)', async () => {
    expect(await server.command('CLUSTER', 'KEYSLOT', Buffer.from('a\ud800{}}', 'utf8'))).toBe(keySlot('a\ud800{}}'));
    expect(await server.command('CLUSTER', 'KEYSLOT', Buffer.from('{\udc00}', 'utf8'))).toBe(keySlot('{\udc00}'));
  });
});
