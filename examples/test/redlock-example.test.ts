import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { main } from '../redlock.js';

const expected = [
  'not locked: true',
  'lock.valid: true',
  'isLocked: true',
  'extended, remaining > 15 s: true',
  'released, lock.valid: false',
  'isLocked after unlock: false',
  'in the block, lock.valid: true',
  'after the block, lock.valid: false',
];

let instances: RedisInstances;
beforeAll(async () => {
  instances = await startRedisInstances(5);
});
afterAll(async () => {
  await instances?.stopAll();
});

it('the seed 004 example, on its own throwaway servers', async () => {
  const saved = process.env.REDLOCK_URLS;
  delete process.env.REDLOCK_URLS;
  try {
    expect(await main()).toEqual(expected);
  } finally {
    if (saved !== undefined) process.env.REDLOCK_URLS = saved;
  }
});

it('the same example on 5 given instances leaves no key behind', async () => {
  expect(await main(instances.urls)).toEqual(expected);
  for (const s of instances.servers) expect(await s.keys('hilok:redlock:*')).toEqual([]);
});
