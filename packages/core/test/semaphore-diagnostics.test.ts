/**
 * The Semaphore publishes the same diagnostics_channel events as the Mutex (docs/observability.md,
 * engine/diagnostics.ts): the same scenario — a grant, a waiter handed the permits by a release,
 * an extend, a busy try, a lost lease — yields the same sequence of channels for both, with
 * `kind: 'Semaphore'` and `detail: { permits, limit }` on the semaphore's acquire events. Checked
 * on a real redis-server through ioredis.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LockBusyError, Mutex, Semaphore } from '@hilok/ioredis';
import { mutexKeys, semaphoreKeys } from '@hilok/core/internal';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';

const CHANNELS = ['hilok:wait', 'hilok:acquire', 'hilok:handoff', 'hilok:acquire-failed', 'hilok:extend', 'hilok:release', 'hilok:lost'];

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

interface Seen {
  name: string;
  message: Record<string, unknown>;
}

/** Run the scenario with `take` / `keys` of one lock kind and return the events it published, in order. */
async function scenario(take: (options?: { timeout?: number; block?: boolean }) => Promise<{ extend(): Promise<unknown>; release(): Promise<boolean> }>, keys: string[]): Promise<Seen[]> {
  const seen: Seen[] = [];
  const handlers = CHANNELS.map((name) => [name, (message: unknown) => seen.push({ name, message: message as Record<string, unknown> })] as const);
  for (const [name, h] of handlers) subscribe(name, h);
  try {
    const a = await take();
    const waiting = take({ timeout: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    await a.extend();
    await a.release();
    const b = await waiting; // handed over by the release
    await expect(take({ block: false })).rejects.toBeInstanceOf(LockBusyError);
    await server.command('DEL', ...keys);
    await expect(b.extend()).rejects.toThrow(); // lost: extend says so, then the lost event
  } finally {
    for (const [name, h] of handlers) unsubscribe(name, h);
  }
  return seen;
}

it('the Semaphore publishes the Mutex\'s events, in the same order, with its kind and permits', async () => {
  const mutex = new Mutex(server.url, { ttl: 5_000 });
  const sem = new Semaphore(server.url, { ttl: 5_000, limit: 2 });
  try {
    const ofMutex = await scenario((o) => mutex.acquire('diag', o), mutexKeys('hilok:', 'diag'));
    const ofSemaphore = await scenario((o) => sem.acquire('diag', { ...o, permits: 2 }), semaphoreKeys('hilok:', 'diag'));
    const names = (events: Seen[]) => events.map((e) => e.name);
    expect(names(ofSemaphore)).toEqual(names(ofMutex));
    // Every channel the docs list appears (what the OpenTelemetry recipe needs).
    expect(new Set(names(ofSemaphore))).toEqual(new Set(CHANNELS));

    const by = (n: string) => ofSemaphore.filter((e) => e.name === n).map((e) => e.message);
    for (const e of ofSemaphore) expect(e.message).toMatchObject({ kind: 'Semaphore', resource: 'diag' });
    expect(by('hilok:acquire')).toHaveLength(2);
    expect(by('hilok:acquire')[0]).toMatchObject({ waited: false, detail: { permits: 2, limit: 2 } });
    expect(by('hilok:acquire')[1]).toMatchObject({ waited: true, detail: { permits: 2, limit: 2 } });
    expect(by('hilok:wait')[0]!.retryAfter).toBeGreaterThan(0);
    expect(by('hilok:handoff')).toHaveLength(1);
    expect(by('hilok:handoff')[0]!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(by('hilok:extend').map((e) => e.ok)).toEqual([true, false]);
    expect(by('hilok:release')).toEqual([expect.objectContaining({ released: true, token: expect.any(String) })]);
    expect(by('hilok:lost')).toHaveLength(1);
    expect(by('hilok:acquire-failed')[0]!.error).toBeInstanceOf(LockBusyError);
  } finally {
    await Promise.all([mutex.close(), sem.close()]);
  }
});
