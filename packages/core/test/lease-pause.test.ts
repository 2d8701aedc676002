/**
 * A paused process (GC, SIGSTOP, a laptop lid) must not act on a lease that ran out meanwhile:
 * a child (fixtures/pause-worker.ts) holds a mutex in `withLock` with ttl 800 ms; the test
 * SIGSTOPs it for 2 s, then SIGCONTs it. The body's first continuation after the pause must see
 * `lease.held === false` and `lease.throwIfLost()` throwing — even though the signal's timer
 * may not have run yet. Through ioredis and node-redis.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';
import type { PauseConfig, PauseEvent } from './fixtures/pause-worker.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ROOT = here('../../../');
const WORKER = here('./fixtures/pause-worker.ts');
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('a paused holder sees its lease gone at its first continuation', () => {
  for (const driver of ['ioredis', 'node-redis'] as const) {
    it(`${driver}: after SIGSTOP for 2 s with ttl 800, lease.held is false and throwIfLost throws`, async () => {
      const config: PauseConfig = { driver, url: server.url, name: `pause-${driver}`, ttl: 800 };
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], {
        cwd: ROOT,
        env: { ...process.env, TSX_TSCONFIG_PATH: here('./fixtures/tsconfig.json') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const events: PauseEvent[] = [];
      const stderr: string[] = [];
      const waiters: (() => void)[] = [];
      createInterface({ input: child.stdout }).on('line', (line) => {
        events.push(JSON.parse(line) as PauseEvent);
        for (const w of waiters.splice(0)) w();
      });
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const next = async <E extends PauseEvent['ev']>(ev: E): Promise<Extract<PauseEvent, { ev: E }>> => {
        for (;;) {
          const found = events.find((e) => e.ev === ev);
          if (found) return found as Extract<PauseEvent, { ev: E }>;
          const code = await Promise.race([exited, new Promise<'line'>((resolve) => waiters.push(() => resolve('line')))]);
          if (code !== 'line' && !events.some((e) => e.ev === ev)) throw new Error(`child exited (${code}) before "${ev}": ${stderr.join('')}`);
        }
      };
      try {
        expect((await next('held')).held).toBe(true);
        expect(child.kill('SIGSTOP')).toBe(true);
        await delay(2_000);
        child.kill('SIGCONT');
        const resumed = await next('resumed').catch((e: unknown) => { throw new Error(`${String(e)} events: ${JSON.stringify(events)}`); });
        expect(resumed.gapMs).toBeGreaterThan(800);
        expect(resumed.held).toBe(false);
        expect(resumed.threw).toBe('LockLostError');
        // Whether the signal had aborted by then depends on timer order; `held` must not.
        expect(typeof resumed.aborted).toBe('boolean');
        await next('end');
        expect(await exited).toBe(0);
      } finally {
        child.kill('SIGCONT');
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  }
});
