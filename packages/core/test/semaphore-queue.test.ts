/**
 * The Semaphore's waiting queue, checked on a real redis-server through ioredis: a release
 * grants a waiter of its own process in its reply, and wakes another process's waiter with one
 * addressed message however many wait (herd-free); a starving waiter keeps younger
 * ones out of the room it needs, and a waiter that gives up hands that room on at once; a waiter
 * woken but never coming (crashed) loses its place after 250 ms; the key layout and lifetimes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Semaphore, createIoredisAdapter } from '@hilok/ioredis';
import { ScriptRunner, readSemaphoreRelease, scripts, semaphoreKeys, waiterMember } from '@hilok/core/internal';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('semaphore: the waiting queue', () => {
  let server: RedisServer;
  let sem: Semaphore;
  let n = 0;
  const fresh = () => `q${++n}`;

  beforeAll(async () => {
    server = await startRedis();
    sem = new Semaphore(server.url, { ttl: 10_000 });
  });
  afterAll(async () => {
    await sem?.close();
    await server?.stop();
  });

  it('a release grants the next waiter of its own process in its reply (no message, no call of the waiter\'s own), and the key layout', async () => {
    const name = fresh();
    const others = [new Semaphore(server.url, { ttl: 10_000 }), new Semaphore(server.url, { ttl: 10_000 })];
    const held = await Promise.all([sem.acquire(name, { limit: 2 }), sem.acquire(name, { limit: 2 })]);
    const waiting = Array.from({ length: 6 }, (_, i) => others[i % 2]!.acquire(name, { limit: 2, timeout: 10_000 }));
    await sleep(150);
    const [holders, permits, queue, alive] = semaphoreKeys('hilok:', name);
    expect((await server.command('KEYS', '*')) as string[]).toEqual(expect.arrayContaining([holders, permits, queue, alive]));
    expect(Number(await server.command('PTTL', holders))).toBeGreaterThan(9_000); // the lease's ttl
    expect(Number(await server.command('PTTL', queue))).toBeLessThanOrEqual(3_000); // the waiters' lapse
    expect(await server.command('ZCARD', queue)).toBe(6);
    await server.command('CONFIG', 'RESETSTAT');
    await held[0]!.release();
    const first = await Promise.race(waiting);
    // The waiters wait in this process (through other clients): the release's script granted the
    // oldest and its reply handed the grant over — one script call for release and grant, no PUBLISH.
    const stats = String(await server.command('INFO', 'commandstats'));
    const scriptCalls = [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+),/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(scriptCalls).toBe(1);
    expect(stats).not.toMatch(/^cmdstat_publish:/m);
    expect(first.fence).toBeGreaterThan(held[1]!.fence);
    await first.release();
    await held[1]!.release();
    // The rest drain one release at a time.
    const all = await Promise.all(waiting.map((w) => w.then((l) => l.release())));
    expect(all.filter(Boolean)).toHaveLength(5);
    await Promise.all(others.map((o) => o.close()));
    expect(await server.command('KEYS', '*')).toEqual([]);
  });

  it('a starving waiter keeps younger ones out of the room it needs; when it gives up, the next is woken at once', async () => {
    const name = fresh();
    const holder = await sem.acquire(name, { limit: 2 });
    const started = performance.now();
    const big = sem.acquire(name, { limit: 2, permits: 2, timeout: 400 }).catch((e: unknown) => e);
    await sleep(50);
    let smallAt = 0;
    const small = sem.acquire(name, { limit: 2, timeout: 5_000 }).then((l) => ((smallAt = performance.now() - started), l));
    await sleep(100);
    // 1 + 1 ≤ 2, but the 2-permit waiter ahead has starved and would not fit: the single waits.
    expect(smallAt).toBe(0);
    expect(await sem.tryAcquire(name, { limit: 2 })).toBeNull();
    expect(await big).toMatchObject({ reason: 'timeout' });
    const lease = await small;
    // Woken by the give-up's hand-off, not by its 1 s fallback.
    expect(smallAt).toBeGreaterThanOrEqual(400);
    expect(smallAt).toBeLessThan(400 + 300);
    await Promise.all([lease.release(), holder.release()]);
    expect(await server.command('KEYS', '*')).toEqual([]);
  });

  it('a release grants the waiters it names directly; one that gave up meanwhile gives the grant back by its withdraw', async () => {
    const name = fresh();
    const keys = semaphoreKeys('hilok:', name);
    const adapter = createIoredisAdapter(server.url);
    const runner = new ScriptRunner(adapter);
    const run = async (script: typeof scripts.semaphoreAcquire, args: (string | number)[]) => runner.run(script, keys, args, { timeoutMs: 1_000 });
    expect(Number(await run(scripts.semaphoreAcquire, ['h', 1, 1, 10_000, '']))).toBeGreaterThan(0);
    // Two waiters queue; the release names only 'mine' (a waiter of the releasing process).
    expect(Number(await run(scripts.semaphoreAcquire, ['mine', 1, 1, 7_000, 'w']))).toBeLessThan(0);
    expect(Number(await run(scripts.semaphoreAcquire, ['theirs', 1, 1, 10_000, 'w']))).toBeLessThan(0);
    await server.command('CONFIG', 'RESETSTAT');
    const reply = readSemaphoreRelease(await run(scripts.semaphoreRelease, ['h', 'mine', 'not-queued']));
    expect(reply.released).toBe(true);
    expect(reply.handedTo).toEqual([]);
    expect(reply.granted).toEqual([{ token: 'mine', fence: expect.any(Number) }]);
    expect(String(await server.command('INFO', 'commandstats'))).not.toMatch(/^cmdstat_publish:/m);
    const status = await sem.status(name, { limit: 1 });
    // Held with the waiter's own ttl, out of the queue; 'theirs' still waits.
    expect(status.holders).toMatchObject([{ id: 'mine', permits: 1, fence: reply.granted[0]!.fence }]);
    expect(status.holders[0]!.ttl).toBeGreaterThan(6_000);
    expect(status.holders[0]!.ttl).toBeLessThanOrEqual(7_000);
    expect(status.waiters.map((w) => w.id)).toEqual(['theirs']);
    // A retry of 'mine' (flag q: its reply lost, or another process's waiter woken) finds it granted: same fence.
    expect(Number(await run(scripts.semaphoreAcquire, ['mine', 1, 1, 7_000, 'wq']))).toBe(reply.granted[0]!.fence);
    // 'mine' gave up before it saw the grant: its withdraw gives the permit back, and it goes to 'theirs' (woken: not named).
    await server.command('CONFIG', 'RESETSTAT');
    expect(Number(await run(scripts.semaphoreWithdraw, [waiterMember(1, 1, 7_000, 'mine')]))).toBe(1);
    expect(String(await server.command('INFO', 'commandstats'))).toMatch(/^cmdstat_publish:calls=1,/m);
    expect((await sem.status(name, { limit: 1 })).holders).toEqual([]);
    expect(Number(await run(scripts.semaphoreAcquire, ['theirs', 1, 1, 10_000, 'wq']))).toBeGreaterThan(0);
    expect(Number(await run(scripts.semaphoreRelease, ['theirs']))).toBeDefined();
    await adapter.close();
    expect(await server.command('KEYS', '*')).toEqual([]);
  });

  it('16 tasks on 2 clients, limit 4, think 0: never over the limit, grants handed over in-process, no waiter left registered', async () => {
    const name = fresh();
    const releaseArgs: unknown[][] = [];
    const wrap = (adapter: ReturnType<typeof createIoredisAdapter>) => {
      const evalsha = adapter.evalsha.bind(adapter);
      adapter.evalsha = (sha, keys, args) => {
        if (sha === scripts.semaphoreRelease.sha) releaseArgs.push([...args]);
        return evalsha(sha, keys, args);
      };
      return adapter;
    };
    const adapters = [wrap(createIoredisAdapter(server.url)), wrap(createIoredisAdapter(server.url))];
    const sems = adapters.map((a) => new Semaphore(a, { ttl: 10_000, limit: 4 }));
    let holders = 0;
    let most = 0;
    let sections = 0;
    const until = performance.now() + 400;
    await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        while (performance.now() < until) {
          const lease = await sems[i % 2]!.acquire(name, { timeout: 5_000 });
          most = Math.max(most, ++holders);
          await sleep(1);
          holders--;
          await lease.release();
          sections++;
        }
      }),
    );
    expect(most).toBeLessThanOrEqual(4);
    expect(sections).toBeGreaterThan(16);
    // Releases named waiters of this process (the tokens after their own).
    expect(releaseArgs.some((a) => a.length > 1)).toBe(true);
    // Every waiter left the process-wide registry: a release now names nobody.
    releaseArgs.length = 0;
    await (await sems[0]!.acquire(name)).release();
    expect(releaseArgs).toEqual([[expect.any(String)]]);
    await Promise.all(sems.map((s) => s.close()));
    await Promise.all(adapters.map((a) => a.close()));
    expect(await server.command('KEYS', '*')).toEqual([]);
  });

  it('a waiter woken but never coming (crashed) loses its place 250 ms after the hand-off', async () => {
    const name = fresh();
    const keys = semaphoreKeys('hilok:', name);
    const adapter = createIoredisAdapter(server.url);
    const runner = new ScriptRunner(adapter);
    const holder = await sem.acquire(name, { limit: 2 });
    // A waiter for 2 permits that queues once and then "dies".
    const ghost = Number(await runner.run(scripts.semaphoreAcquire, keys, ['ghost', 2, 2, 10_000, 'w'], { timeoutMs: 1_000 }));
    expect(ghost).toBeLessThan(0);
    await sleep(20); // it has starved: nobody may take the room it needs
    expect(await sem.tryAcquire(name, { limit: 2 })).toBeNull();
    await server.command('CONFIG', 'RESETSTAT');
    await holder.release(); // hands the room to the ghost: reserved for 250 ms
    const handedAt = performance.now();
    // A waiter this process does not know (another process's) is woken by one addressed message (herd-free).
    expect(String(await server.command('INFO', 'commandstats'))).toMatch(/^cmdstat_publish:calls=1,/m);
    expect(await sem.tryAcquire(name, { limit: 2 })).toBeNull();
    expect((await sem.status(name, { limit: 2 })).waiters).toEqual([{ id: 'ghost', permits: 2, limit: 2 }]);
    const next = await sem.acquire(name, { limit: 2, permits: 2, timeout: 5_000 });
    expect(performance.now() - handedAt).toBeGreaterThanOrEqual(240);
    expect((await sem.status(name, { limit: 2 })).waiters).toEqual([]);
    await next.release();
    await adapter.close();
    expect(await server.command('KEYS', '*')).toEqual([]);
  });
});
