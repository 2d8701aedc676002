// One child process of the multi-process hot-lock scenario (processes.ts): one client, one lock
// object, one waiter loop. Plain JavaScript on the built packages (`pnpm bench` builds them
// first), so 64 of these start in a fraction of the time and memory a TypeScript loader takes.
// Driven over IPC: open → run (any number of times) → close; the parent kills it at the end.
import { hrtime } from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { FairLock, Mutex } from '@hilok/ioredis';
import { Redis } from 'ioredis';
import { Mutex as SemaphoreMutex } from 'redis-semaphore';

/** @type {Redis | undefined} */
let client;
/** @type {{ take(key: string): Promise<() => Promise<unknown>>, close(): Promise<void> } | undefined} */
let lock;

/** The lock object of `kind` on `c` (the same options as the in-process contenders). */
function makeLock(kind, c, o) {
  switch (kind) {
    case 'mutex':
    case 'fair': {
      const m = kind === 'mutex' ? new Mutex(c, { ttl: o.ttl }) : new FairLock(c, { ttl: o.ttl });
      const options = o.timeoutMs === undefined ? undefined : { timeout: o.timeoutMs };
      return {
        take: async (key) => {
          const lease = await m.acquire(key, options);
          return () => lease.release();
        },
        close: () => m.close(),
      };
    }
    case 'semaphore': {
      const options = { lockTimeout: o.ttl, acquireTimeout: o.timeoutMs ?? 3_600_000, retryInterval: o.retryIntervalMs };
      return {
        take: async (key) => {
          const m = new SemaphoreMutex(c, key, options);
          await m.acquire();
          return () => m.release();
        },
        close: async () => undefined,
      };
    }
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

async function open(m) {
  client = new Redis(m.url, m.ioredisOptions);
  client.on('error', () => undefined);
  await new Promise((resolve, reject) => {
    if (client.status === 'ready') resolve();
    client.once('ready', resolve);
    client.once('end', () => reject(new Error('could not connect')));
  });
  lock = makeLock(m.kind, client, m);
  // Warm-up on a key of its own: loads the scripts, settles the connection.
  for (let i = 0; i < 2; i++) await (await lock.take(`${m.key}:warm:${process.pid}`))();
}

async function run(m) {
  const waits = [];
  // [got, releasing] per section, flattened: ns since the parent's `baseNs` on the monotonic
  // clock every process shares (CLOCK_MONOTONIC), so holds of different processes compare exactly.
  const holds = [];
  let timeouts = 0;
  const base = BigInt(m.baseNs);
  const startNs = hrtime.bigint() - base;
  for (let s = 0; s < m.sections; s++) {
    const asked = performance.now();
    let release;
    while (!release) {
      try {
        release = await lock.take(m.key);
      } catch (error) {
        timeouts++; // an acquire timeout: ask again, the wait runs on
        if (timeouts > 10_000) throw error;
      }
    }
    const got = hrtime.bigint();
    waits.push(performance.now() - asked);
    await sleep(m.holdMs);
    holds.push(Number(got - base), Number(hrtime.bigint() - base));
    await release();
    if (m.thinkMs > 0) await sleep(m.thinkMs);
  }
  return { waits, holds, timeouts, startNs: Number(startNs), endNs: Number(hrtime.bigint() - base) };
}

async function close() {
  await lock?.close().catch(() => undefined);
  await client?.quit().catch(() => client?.disconnect());
  lock = undefined;
  client = undefined;
}

process.on('message', (m) => {
  const reply = (what) => process.send?.(what);
  const fail = (error) => reply({ type: 'error', message: String(error?.stack ?? error) });
  if (m.type === 'open') open(m).then(() => reply({ type: 'opened' }), fail);
  else if (m.type === 'run') run(m).then((r) => reply({ type: 'ran', ...r }), fail);
  else if (m.type === 'close') close().then(() => reply({ type: 'closed' }), fail);
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'started' });
