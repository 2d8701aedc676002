/** Shared test plumbing: real redis-servers, adapters on both drivers. */
import { createIoredisAdapter } from '@hilok/ioredis';
import { createNodeRedisAdapter } from '@hilok/node-redis';
import type { RedisAdapter } from '@hilok/core';
import type { RedisServer } from '@hilok/testing';

/** One adapter per URL, alternating ioredis and node-redis so every test also mixes drivers. */
export function mixedAdapters(urls: readonly string[]): RedisAdapter[] {
  return urls.map((url, i) => (i % 2 === 0 ? createIoredisAdapter(url) : createNodeRedisAdapter(url)));
}

/** Every redlock key left on the live servers. */
export async function leftoverKeys(servers: readonly RedisServer[]): Promise<string[]> {
  const live = servers.filter((s) => s.running);
  return (await Promise.all(live.map((s) => s.keys('hilok:redlock:*')))).flat();
}

/** Close adapters, ignoring errors from instances a test killed. */
export async function closeAll(adapters: readonly RedisAdapter[]): Promise<void> {
  await Promise.allSettled(adapters.map((a) => a.close()));
}
