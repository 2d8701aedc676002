import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { Redlock } from '@hilok/redlock';
import { leftoverKeys, mixedAdapters } from './helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../..', import.meta.url));
const worker = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));

let instances: RedisInstances;
beforeAll(async () => {
  instances = await startRedisInstances(5);
});
afterAll(async () => {
  await instances?.stopAll();
});

describe('contention', () => {
  it('several tasks on separate Redlocks: never two holders, no lost update', async () => {
    const locks = Array.from({ length: 4 }, () => new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 1_000, retryDelayMin: 2, retryDelayMax: 15 }));
    let inside = 0;
    let maxInside = 0;
    let shared = 0;
    await Promise.all(
      locks.map(async (redlock) => {
        for (let i = 0; i < 8; i++) {
          await redlock.using('tasks', async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            const read = shared;
            await new Promise((r) => setTimeout(r, 3));
            shared = read + 1;
            inside--;
          });
        }
      }),
    );
    expect(maxInside).toBe(1);
    expect(shared).toBe(32);
    await Promise.all(locks.map((l) => l.close()));
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('writers and readers on paths across Redlocks: a write never overlaps anything on its subtree', async () => {
    const locks = Array.from({ length: 3 }, () => new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 1_000, retryDelayMin: 2, retryDelayMax: 15 }));
    let writers = 0;
    let readers = 0;
    let violations = 0;
    await Promise.all(
      locks.flatMap((redlock, n) => [
        (async () => {
          for (let i = 0; i < 5; i++) {
            await redlock.withWrite(n === 0 ? 'tree' : 'tree/a', async () => {
              writers++;
              if (writers > 1 || readers > 0) violations++;
              await new Promise((r) => setTimeout(r, 3));
              writers--;
            });
          }
        })(),
        (async () => {
          for (let i = 0; i < 5; i++) {
            await redlock.withRead('tree/a/b', async () => {
              readers++;
              if (writers > 0) violations++;
              await new Promise((r) => setTimeout(r, 3));
              readers--;
            });
          }
        })(),
      ]),
    );
    expect(violations).toBe(0);
    await Promise.all(locks.map((l) => l.close()));
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('several processes: no lost update', async () => {
    const processes = 3;
    const iterations = 10;
    await Promise.all(
      Array.from({ length: processes }, () =>
        run(process.execPath, ['--import', 'tsx', worker, instances.urls.join(','), String(iterations)], { cwd: root, timeout: 45_000 }),
      ),
    );
    const counter = new Redis(instances.urls[0] as string);
    expect(Number(await counter.get('counter'))).toBe(processes * iterations);
    await counter.quit();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  }, 50_000);
});
