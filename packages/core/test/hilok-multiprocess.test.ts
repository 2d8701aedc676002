/**
 * HiLok across real processes: worker processes (fixtures/hilok-worker.ts) contend on one tree
 * through one redis-server, and the merged event logs are checked like a Jepsen lock workload —
 * no two conflicting holds overlap in time, fencing tokens grow across conflicting holds, and a
 * read-modify-write done only under write holds loses no update. Then a holder is SIGKILLed:
 * its lease must run out (not earlier), a waiting writer gets the path, and others go on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';
import type { WorkerConfig, WorkerEvent } from './fixtures/hilok-worker.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const ROOT = here('../../../');
const WORKER = here('./fixtures/hilok-worker.ts');
// CLOCK_MONOTONIC, shared by every process of the machine (a process's timeOrigin is not: it is
// sampled from the wall clock at start-up and can be off by milliseconds under load).
const now = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/**
 * Clock slack between processes: each logs the system's monotonic clock (`process.hrtime`), the
 * same clock in every process. Logged intervals lie inside the real ones (grant logged
 * after the acquire resolved, release before the release call), so overlap beyond this is real.
 */
const EPSILON_MS = 1;

type Grant = Extract<WorkerEvent, { ev: 'grant' }>;
type Release = Extract<WorkerEvent, { ev: 'release' }>;
type Done = Extract<WorkerEvent, { ev: 'done' }>;

/** A running worker: its parsed events so far, and a promise of its exit code. */
interface Worker {
  child: ChildProcess;
  events: WorkerEvent[];
  stderr: string[];
  exited: Promise<number | null>;
  /** Resolves with the first event matching `pred` (rejects if the process exits first). */
  next(pred: (e: WorkerEvent) => boolean): Promise<WorkerEvent>;
}

function startWorker(config: WorkerConfig): Worker {
  // `--import tsx` is resolved from the repo root's node_modules (cwd); TSX_TSCONFIG_PATH maps
  // @hilok/* to sources for the worker, as vitest's aliases do for this file.
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(config)], {
    cwd: ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: here('./fixtures/tsconfig.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: WorkerEvent[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const event = JSON.parse(line) as WorkerEvent;
    events.push(event);
    for (const w of waiters.filter((w) => w.pred(event))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(event);
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    events,
    stderr,
    exited,
    next: (pred) =>
      new Promise((resolve, reject) => {
        const seen = events.find(pred);
        if (seen) return resolve(seen);
        waiters.push({ pred, resolve });
        void exited.then((code) => reject(new Error(`worker ${config.worker} exited (${code}) first: ${stderr.join('')}`)));
      }),
  };
}

/** P = Q, or one is an ancestor of the other (segment-wise). */
const related = (p: string, q: string) => p === q || q.startsWith(`${p}/`) || p.startsWith(`${q}/`);

/** A granted-then-released hold, from the merged logs. */
interface Interval {
  worker: string;
  id: string;
  path: string;
  mode: 'read' | 'write';
  fence: number;
  grant: number;
  release: number;
}

function intervals(events: WorkerEvent[]): Interval[] {
  const releases = new Map(events.filter((e): e is Release => e.ev === 'release').map((e) => [e.id, e]));
  return events
    .filter((e): e is Grant => e.ev === 'grant')
    .map((g) => {
      const r = releases.get(g.id);
      expect(r, `hold ${g.id} of ${g.worker} was released`).toBeDefined();
      expect(r!.ok, `release of ${g.id} found the hold still ours`).toBe(true);
      return { worker: g.worker, id: g.id, path: g.path, mode: g.mode, fence: g.fence, grant: g.t, release: r!.t };
    })
    .sort((a, b) => a.grant - b.grant);
}

describe('hilok: several processes on one tree', () => {
  let server: RedisServer;
  const workers: Worker[] = [];

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    // Only our own children, by pid; a worker of a failed test may still run.
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await server?.stop();
  });

  it('conflicting holds never overlap, fences grow, and no update is lost', { timeout: 40_000 }, async () => {
    const paths = ['a', 'a/b', 'a/c', 'a/b/d'];
    // Start together once all have loaded (tsx start-up on a busy 2-core box takes a while).
    const startAt = now() + 3_000;
    const started = Array.from({ length: 4 }, (_, i) =>
      startWorker({ role: 'random', worker: `w${i}`, url: server.url, paths, startAt, until: startAt + 4_000 }),
    );
    workers.push(...started);
    const codes = await Promise.all(started.map((w) => w.exited));
    expect(codes, started.map((w) => w.stderr.join('')).join('\n')).toEqual([0, 0, 0, 0]);
    const events = started.flatMap((w) => w.events);
    const holds = intervals(events);

    // Enough history to mean something, from every worker, with both modes everywhere.
    expect(holds.length).toBeGreaterThan(100);
    for (const w of started) expect(holds.some((h) => h.worker === w.events[0]?.worker)).toBe(true);
    for (const p of paths) for (const m of ['read', 'write']) expect(holds.some((h) => h.path === p && h.mode === m)).toBe(true);

    const overlaps: string[] = [];
    const fenceOrder: string[] = [];
    for (let i = 0; i < holds.length; i++) {
      const a = holds[i]!;
      for (let j = i + 1; j < holds.length; j++) {
        const b = holds[j]!; // granted at or after a
        if (!related(a.path, b.path) || (a.mode === 'read' && b.mode === 'read')) continue;
        const overlap = Math.min(a.release, b.release) - b.grant;
        if (overlap > EPSILON_MS) overlaps.push(`${a.mode} ${a.path} (${a.worker}) and ${b.mode} ${b.path} (${b.worker}) overlap ${overlap.toFixed(2)} ms`);
        if (!(a.fence < b.fence)) fenceOrder.push(`${a.mode} ${a.path} fence ${a.fence} then ${b.mode} ${b.path} fence ${b.fence}`);
      }
    }
    // Lost updates: every increment a worker made is in the counter.
    const lost: string[] = [];
    for (const p of paths) {
      const made = events.filter((e): e is Done => e.ev === 'done').reduce((sum, e) => sum + (e.increments[p] ?? 0), 0);
      const writes = holds.filter((h) => h.path === p && h.mode === 'write').length;
      const counter = Number(await server.command('GET', `counter:${p}`));
      if (made !== writes || counter !== made) lost.push(`${p}: ${writes} writes, ${made} increments, counter ${counter}`);
    }
    // Checked together, so a failure shows all three: an overlap the logs show but Redis does not
    // (no fence inversion, no lost update) would point at the logging, not at the lock.
    expect({ overlaps, fenceOrder, lost }).toEqual({ overlaps: [], fenceOrder: [], lost: [] });
    // Readers really did share: some read holds of different workers on related paths overlap.
    const shared = holds.some((a, i) =>
      holds.slice(i + 1).some((b) => a.mode === 'read' && b.mode === 'read' && a.worker !== b.worker && related(a.path, b.path) && b.grant < a.release),
    );
    expect(shared).toBe(true);

    expect(await server.command('KEYS', 'hilok:*')).toEqual([]);
  });

  it('a SIGKILLed holder blocks its path until its lease ends, then a waiting writer gets it; others go on', { timeout: 40_000 }, async () => {
    const ttl = 1_500;
    const refreshInterval = 500;
    const holder = startWorker({ role: 'hold', worker: 'holder', url: server.url, paths: ['crash/p'], ttl, refreshInterval });
    workers.push(holder);
    const held = (await holder.next((e) => e.ev === 'grant')) as Grant;

    const taker = startWorker({ role: 'take', worker: 'taker', url: server.url, paths: ['crash/p'] });
    // A sibling path does not conflict with crash/p: this worker must keep going throughout.
    const bystander = startWorker({ role: 'random', worker: 'bystander', url: server.url, paths: ['crash/q'], until: now() + 6_000 });
    workers.push(taker, bystander);

    // Live and refreshing, the holder keeps the path well past one ttl.
    await bystander.next((e) => e.ev === 'grant');
    await new Promise((r) => setTimeout(r, 2 * ttl));
    expect(taker.events.filter((e) => e.ev === 'grant')).toEqual([]);

    holder.child.kill('SIGKILL');
    const killedAt = now();
    await holder.exited;
    const got = (await taker.next((e) => e.ev === 'grant')) as Grant;

    // The last refresh was about refreshInterval or less before the kill, so the lease ran about
    // ttl - refreshInterval past it at least (slack: a refresh timer may fire late on a busy box);
    // generous upper bound: the waiter wakes at the blocker's remaining ttl without a publish.
    const timerSlack = 250;
    expect(got.t - killedAt).toBeGreaterThanOrEqual(ttl - refreshInterval - timerSlack);
    expect(got.t - killedAt).toBeLessThan(ttl + 5_000);
    expect(got.fence).toBeGreaterThan(held.fence);

    expect(await taker.exited).toBe(0);
    expect(await bystander.exited, bystander.stderr.join('')).toBe(0);
    // Others proceed: the bystander got holds while the dead holder still blocked crash/p.
    const during = bystander.events.filter((e) => e.ev === 'grant' && e.t > killedAt && e.t < got.t);
    expect(during.length).toBeGreaterThan(0);
    expect(Number(await server.command('GET', 'counter:crash/q'))).toBe(
      bystander.events.filter((e): e is Done => e.ev === 'done').reduce((s, e) => s + (e.increments['crash/q'] ?? 0), 0),
    );
  });
});
