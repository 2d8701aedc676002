import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FairLock, HiLok, Mutex } from '@hilok/ioredis';
import { documentedAcl } from '../../contract-tests/src/managed-suite.js';
import { startRedis, type RedisServer } from '@hilok/testing';
import { runCli } from './helpers.js';

/** The CLI as a user with only the rules docs/managed-redis.md gives it ("CLI inspect, watch"). */
describe('hilok inspect as a least-privilege ACL user', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
    const rules = documentedAcl().get('CLI inspect, watch');
    if (!rules) throw new Error('docs/managed-redis.md has no "# CLI inspect, watch" acl line');
    await server.command('ACL', 'SETUSER', 'cli', 'reset', 'on', '>pw', ...rules.filter((r) => !r.startsWith('>') && r !== 'on'));
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(['ioredis', 'node-redis'])('reads every kind of hold with the read-only rules (%s)', async (driver) => {
    const o = { ttl: 20_000 };
    const [tree, mutex, fair] = [new HiLok(server.url, o), new Mutex(server.url, o), new FairLock(server.url, o)];
    try {
      await tree.acquireWrite('shop/catalog');
      const m = await mutex.acquire('invoice:42');
      await fair.acquire('printer');
      const url = server.url.replace('redis://', 'redis://cli:pw@');
      const run = await runCli(['inspect', '--url', url, '--driver', driver]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('3 holds');
      expect(run.stdout).toContain(m.token);
    } finally {
      await Promise.all([tree.close(), mutex.close(), fair.close()]);
      await server.flushall();
    }
  });
});
