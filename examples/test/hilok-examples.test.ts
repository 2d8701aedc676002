/**
 * Every HiLok example (the TypeScript counterparts of redishilok's README examples) runs through
 * every driver package (the one import an example would change) against a real redis-server, and must print exactly what the seed's
 * example prints — and leave no key behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '@hilok/testing';
import type { Driver } from '../hilok-common.js';
import { main as basic } from '../hilok-basic.js';
import { main as handles } from '../hilok-handles.js';
import { main as refresh } from '../hilok-refresh.js';
import { main as separator } from '../hilok-separator.js';
import { main as usage } from '../hilok-usage.js';

/** Each example with the output of its redishilok original (seeds 000/002). */
const examples: { name: string; main: (url?: string, driver?: Driver) => Promise<string[]>; expected: string[] }[] = [
  { name: 'usage', main: usage, expected: ["Read lock acquired on 'a/b'", "Failed to acquire write lock on 'a'"] },
  {
    name: 'basic hierarchical locking',
    main: basic,
    expected: ['Both read locks succeed', "Failed to acquire read lock on 'a/b/c' due to write lock on 'a'"],
  },
  { name: 'custom separator', main: separator, expected: ["Write lock acquired on 'a:b:c'"] },
  { name: 'long-running with refresh', main: refresh, expected: ['Long operation starts'] },
  // The seed's handles example prints nothing; ours throws if a re-take by id misbehaves.
  { name: 'manually-managed handles', main: handles, expected: [] },
];

describe.each<Driver>(['ioredis', 'node-redis', 'valkey-glide'])('hilok examples on %s', (driver) => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it.each(examples)('$name prints what the seed prints', async ({ main, expected }) => {
    const lines = await main(server.url, driver);
    expect(lines).toEqual(expected);
    // Every example releases what it took; the scripts delete emptied keys right away.
    expect(await server.command('KEYS', 'hilok:*')).toEqual([]);
  });
});
