/**
 * Property-based check of the Semaphore's invariant against an in-memory model, on a real
 * redis-server through ioredis. Three clients (separate Semaphores, separate connections) run
 * random non-blocking acquires — 1 to 4 permits, each call with its own limit from 2 to 5 —,
 * releases and crashes (a hold whose ttl is cut to 1 ms and never released). Every outcome must
 * be the model's: granted exactly when the permits of the live holds plus the call's own fit in
 * the call's limit (so live permits never exceed a limit that admitted them), every grant's fence
 * larger than all before, `status` equal to the model's live holds, a crashed hold's permits free
 * once its ttl passed, and no key left at the end. On failure fast-check prints the seed and path.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Semaphore, createIoredisAdapter, type Lease } from '@hilok/ioredis';
import { ScriptRunner, scripts, semaphoreKeys } from '@hilok/core/internal';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';

const CLIENTS = 3;
/** Long enough that no hold expires by itself during a run: only `crash` ends one early. */
const TTL = 10_000;

type Command =
  | { kind: 'acquire'; client: number; permits: number; limit: number }
  | { kind: 'release'; pick: number }
  | { kind: 'crash'; pick: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({ kind: fc.constant('acquire' as const), client: fc.integer({ min: 0, max: CLIENTS - 1 }), permits: fc.integer({ min: 1, max: 4 }), limit: fc.integer({ min: 2, max: 5 }) })
      .filter((c) => c.permits <= c.limit),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat({ max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('crash' as const), pick: fc.nat({ max: 7 }) }) },
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('semaphore: random histories match the model', () => {
  let server: RedisServer;
  let runner: ScriptRunner;
  let close: () => Promise<void>;
  let run = 0;

  beforeAll(async () => {
    server = await startRedis();
    const adapter = createIoredisAdapter(server.url);
    runner = new ScriptRunner(adapter);
    close = () => adapter.close();
  });
  afterAll(async () => {
    await close?.();
    await server?.stop();
  });

  it('acquire outcomes, fences, status, crashes and cleanup (3 clients, limits 2–5 per call)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 20 }), async (commands) => {
        const prefix = `hilok:s${++run}:`;
        const keys = semaphoreKeys(prefix, 'pool');
        const clients = Array.from({ length: CLIENTS }, () => new Semaphore(server.url, { ttl: TTL, prefix }));
        const live: { lease: Lease; permits: number }[] = [];
        let lastFence = 0;
        try {
          for (const cmd of commands) {
            if (cmd.kind === 'acquire') {
              const used = live.reduce((sum, h) => sum + h.permits, 0);
              const want = used + cmd.permits <= cmd.limit;
              const lease = await (clients[cmd.client] as Semaphore).tryAcquire('pool', { permits: cmd.permits, limit: cmd.limit });
              expect({ ...cmd, used, granted: lease !== null }).toEqual({ ...cmd, used, granted: want });
              if (lease) {
                expect(lease.fence).toBeGreaterThan(lastFence);
                lastFence = lease.fence;
                live.push({ lease, permits: cmd.permits });
              }
            } else if (live.length > 0) {
              const [hold] = live.splice(cmd.pick % live.length, 1) as [(typeof live)[number]];
              if (cmd.kind === 'release') {
                expect(await hold.lease.release()).toBe(true);
              } else {
                // The holder "crashes": its hold lapses on the server 1 ms from now, unreleased.
                hold.lease.detach();
                expect(Number(await runner.run(scripts.semaphoreExtend, keys, [hold.lease.token, 1], { timeoutMs: 1_000 }))).toBe(1);
                await sleep(5);
              }
            }
            const status = await (clients[0] as Semaphore).status('pool', { limit: 5 });
            expect(status.used).toBe(live.reduce((sum, h) => sum + h.permits, 0));
            expect(status.holders.map((h) => h.id).sort()).toEqual(live.map((h) => h.lease.token).sort());
          }
          for (const hold of live.splice(0)) expect(await hold.lease.release()).toBe(true);
          expect(await server.command('KEYS', `${prefix}*`)).toEqual([]);
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      }),
      { numRuns: 40 },
    );
  });
});
