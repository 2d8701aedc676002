import { fileURLToPath } from 'node:url';
import { Actor, SEMAPHORE_LIMIT } from './actor.js';
import { multiTarget, pathsTarget, semaphoreTarget, type LockTarget } from './conflict.js';
import { spawnScript, type WorkerHandle } from './process.js';
import { now, type HistoryEvent, type Recorder } from './recorder.js';
import { redlockClient, type RedlockClient } from './redlock-client.js';
import { CounterStore, type SharedCounter } from './resource.js';

/**
 * The checked background contention load that runs during every scenario's repeated fault
 * injection: clients in this process and in worker processes hammer a handful of lock names
 * (or HiLok trees) with short holds and increment a shared lock-guarded counter per name under
 * every exclusive hold. Every call is recorded in the scenario's history, so the same checker
 * verifies the load (overlap, fences, bounds, lost updates) together with the scenario.
 */

/** Key prefix of the load's single-instance locks (the scenarios' own locks use `faults:`). */
export const LOAD_PREFIX = 'faults-load:';
/** Key prefix of the load's Redlock locks (the Redlock scenarios' own use `hilok:redlock:`). */
export const REDLOCK_LOAD_PREFIX = 'hilok:redlock-load:';

/**
 * Which lock the load takes: `fair` is the FairLock (a mutex for the checker); `multi` takes
 * two names at once with the Mutex (`mutex.acquire([a, b])`; Redlock: `redlock.lock([a, b])`);
 * `semaphore` the Semaphore (Redlock: `redlock.semaphore`); `paths` HiLok multi-path holds
 * (`hilok.acquire([...])`; Redlock: `redlock.lockPaths([...])`).
 */
export type LoadKind = 'mutex' | 'hilok' | 'fair' | 'semaphore' | 'multi' | 'paths';

/** What the load's clients lock, where, and how. Plain data: it is sent to the worker processes. */
export interface LoadSpec {
  /** `single`: one redis-server (hilok's Mutex / HiLok / FairLock); `redlock`: the quorum. */
  impl: 'single' | 'redlock';
  /** `single`: one URL (possibly a fault proxy's); `redlock`: one per instance (the proxies). */
  urls: string[];
  /** The redis-server holding the shared counters (no fault touches it). */
  counterUrl: string;
  kind: LoadKind;
  /** Lock names (mutex) or trees (HiLok) the clients spread over. */
  groups: number;
  /** Clients per process. */
  clients: number;
  ttl: number;
  /** `single`: the blocking acquire's timeout (0: one attempt); Redlock always makes one attempt. */
  timeout: number;
  /** `single`: the managers' command timeout (default 1 000 ms). */
  commandTimeout?: number;
  /** `redlock`: the per-instance timeout. */
  instanceTimeout?: number;
  /** Names this run's locks and counters (unique per run). */
  tag: string;
}

/** One lock group of the load: the targets that all conflict with its counter's writes, and the counter key. */
export interface LoadGroup {
  targets: LockTarget[];
  counterKey: string;
}

/**
 * The targets of one group. Mutex (and FairLock): the name. HiLok: reads and writes along the
 * chain `n`, `n/a`, `n/a/b` (every two writes conflict, so one counter per tree is exact), plus
 * reads on the sibling `n/c`. Semaphore (limit {@link SEMAPHORE_LIMIT}): 1, 2 or every permit of
 * `n` — only a hold of every permit excludes all others, so only those are writes (counter).
 * Multi: the three pairs of the names `n.x`, `n.y`, `n.z`, in mixed orders (any two pairs share
 * a name, so every two holds conflict and one counter per group is exact; the orders check that
 * overlapping requests in different orders never deadlock). Paths: multi-path holds mixing reads
 * and writes over the trees `n` and `n.u` (see {@link pathsGroupTargets}).
 */
export function groupTargets(kind: 'mutex' | 'hilok' | 'semaphore' | 'multi' | 'paths', name: string): LockTarget[] {
  if (kind === 'paths') return pathsGroupTargets(name);
  if (kind === 'semaphore') return Array.from({ length: SEMAPHORE_LIMIT }, (_, k) => semaphoreTarget(name, k + 1, SEMAPHORE_LIMIT));
  if (kind === 'multi') return [multiTarget([`${name}.x`, `${name}.y`]), multiTarget([`${name}.z`, `${name}.y`]), multiTarget([`${name}.z`, `${name}.x`])];
  if (kind === 'mutex') return [{ kind, resource: name, mode: 'write' }];
  const chain = [name, `${name}/a`, `${name}/a/b`];
  return [...chain.flatMap((resource) => [{ kind, resource, mode: 'write' as const }, { kind, resource, mode: 'read' as const }]), { kind, resource: `${name}/c`, mode: 'read' }];
}

/**
 * The multi-path targets of one group, over the trees `n` and `n.u`, parts listed in mixed
 * orders: `[n/x write, n/y read, n/x/k read]` (the last merged into the first), `[n write]`,
 * `[n/y write, n.u/z read]`, `[n.u write, n/x read]` — every two of these four conflict (so
 * they are the writes, guarding one counter per group), the first only through a read part
 * against a write; and the read-only `[n.u/z read, n/y read]`, which coexists with the first and
 * with itself and conflicts with the others. Two trees: taken tree by tree in key order, the
 * first kept while the second waits.
 */
export function pathsGroupTargets(name: string): LockTarget[] {
  const t = name;
  const u = `${name}.u`;
  return [
    pathsTarget([{ path: `${t}/x`, mode: 'write' }, { path: `${t}/y`, mode: 'read' }, { path: `${t}/x/k`, mode: 'read' }]),
    pathsTarget([{ path: t, mode: 'write' }]),
    pathsTarget([{ path: `${t}/y`, mode: 'write' }, { path: `${u}/z`, mode: 'read' }]),
    pathsTarget([{ path: u, mode: 'write' }, { path: `${t}/x`, mode: 'read' }]),
    pathsTarget([{ path: `${u}/z`, mode: 'read' }, { path: `${t}/y`, mode: 'read' }]),
  ];
}

/** The groups of a spec. */
export function loadGroups(spec: LoadSpec): LoadGroup[] {
  return Array.from({ length: spec.groups }, (_, g) => ({
    targets: groupTargets(spec.kind === 'fair' ? 'mutex' : spec.kind, `${spec.tag}${g}`),
    counterKey: `faults-counter:${spec.tag}${g}`,
  }));
}

/** A client of the load: any recorded lock client (an {@link Actor} or a Redlock `RecordingClient`). */
export interface LoadClient {
  acquire(target: LockTarget): Promise<{ target: LockTarget } | null>;
  increment(h: unknown, counter: SharedCounter): Promise<boolean>;
  release(h: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/** The spec's clients of this process, named `<prefix>0…`. */
export function loadClients(spec: LoadSpec, rec: Recorder, prefix: string): LoadClient[] {
  return Array.from({ length: spec.clients }, (_, k): LoadClient => {
    const name = `${prefix}${k}`;
    if (spec.impl === 'redlock') return asLoadClient(redlockClient(name, rec, spec.urls, { ttl: spec.ttl, instanceTimeout: spec.instanceTimeout ?? 100, prefix: REDLOCK_LOAD_PREFIX }));
    const actor = new Actor(name, rec, { url: spec.urls[0] as string, prefix: LOAD_PREFIX, commandTimeout: spec.commandTimeout });
    const opts = { ttl: spec.ttl, timeout: spec.timeout, fair: spec.kind === 'fair' };
    return {
      acquire: (t) => actor.acquire(t, opts),
      increment: (h, c) => actor.increment(h as never, c, 1),
      release: (h) => actor.release(h as never),
      close: () => actor.close(),
    };
  });
}

/** A recorded Redlock client as a {@link LoadClient}. */
export function asLoadClient(rl: RedlockClient): LoadClient {
  return {
    acquire: (t) => rl.client.acquire(t),
    increment: (h, c) => rl.client.increment(h as never, c, 1),
    release: (h) => rl.client.release(h as never),
    close: () => rl.close(),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One client's loop until `stop(acquisitions so far)`: a random target of a random group;
 * under a write hold, increment the group's counter; a read hold lasts up to 2 ms; release. A
 * failed acquire backs off 2–17 ms. Resolves with its acquisitions.
 */
export async function contend(client: LoadClient, groups: readonly LoadGroup[], counters: CounterStore, stop: (got: number) => boolean): Promise<number> {
  let got = 0;
  while (!stop(got)) {
    const g = groups[Math.floor(Math.random() * groups.length)] as LoadGroup;
    const target = g.targets[Math.floor(Math.random() * g.targets.length)] as LockTarget;
    const h = await client.acquire(target);
    if (!h) {
      await sleep(2 + Math.random() * 15);
      continue;
    }
    got++;
    if (target.mode === 'write') await client.increment(h, counters.counter(g.counterKey));
    else await sleep(Math.random() * 2);
    await client.release(h);
  }
  return got;
}

/** The private lock a load client warms up on (see {@link warmUpClient}). */
const warmTarget = (spec: LoadSpec, k: number, prefix: string): LockTarget => {
  const resource = `${spec.tag}warm-${prefix}${k}`;
  if (spec.kind === 'semaphore') return semaphoreTarget(resource, 1, SEMAPHORE_LIMIT);
  if (spec.kind === 'multi') return multiTarget([`${resource}.x`, `${resource}.y`]);
  if (spec.kind === 'paths') return pathsTarget([{ path: `${resource}/x`, mode: 'write' }, { path: `${resource}.u/y`, mode: 'read' }]);
  return { kind: spec.kind === 'hilok' ? 'hilok' : 'mutex', resource, mode: 'write' };
};

/**
 * Take and release the client's private lock once (up to 20 tries, 100 ms apart): opens its
 * connections and loads the scripts, so the first attempts under a fault are not also the
 * first through a fresh connection (with a 100 ms instance timeout on a loaded machine, those
 * can miss it on every instance). The warm-up hold is recorded and checked like any other.
 */
async function warmUpClient(client: LoadClient, target: LockTarget): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const h = await client.acquire(target);
    if (h) return void (await client.release(h));
    await sleep(100);
  }
}

/** Runs the spec's clients of one process until `stop()`, then closes them. Used in-process and by `load-worker.ts`. */
export async function runLoad(spec: LoadSpec, rec: Recorder, prefix: string, stop: () => boolean): Promise<number> {
  const counters = new CounterStore(spec.counterUrl);
  const clients = loadClients(spec, rec, prefix);
  try {
    await Promise.all(clients.map((c, k) => warmUpClient(c, warmTarget(spec, k, prefix))));
    const got = await Promise.all(clients.map((c) => contend(c, loadGroups(spec), counters, stop)));
    return got.reduce((a, b) => a + b, 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    counters.close();
  }
}

const loadWorkerPath = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** Worker processes kept for the load of several scenarios (spawning one costs about a second). */
export class LoadPool {
  private constructor(readonly workers: WorkerHandle[]) {}

  /** Spawn `n` load workers (`L<k>`), their events going to `rec` until a run sets its own. */
  static async spawn(n: number, rec: Recorder): Promise<LoadPool> {
    return new LoadPool(await Promise.all(Array.from({ length: n }, (_, k) => spawnScript(loadWorkerPath, [`L${k}`], `L${k}`, rec))));
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}

/** What a finished load run reports. */
export interface LoadResult {
  acquisitions: number;
  /** Final value of every group's counter, by key (for `checkHistory({ counters })`). */
  counters: Record<string, number>;
}

/** A load run in progress (see {@link startLoad}). */
export interface RunningLoad {
  readonly spec: LoadSpec;
  /** Acquisitions recorded so far in the scenario's history (the scenario's own included). */
  acquisitions(): number;
  /** Stop every client, wait for their last events, and read the counters. */
  stop(): Promise<LoadResult>;
}

/**
 * Start the load: `inProcess` clients here (`<tag>p…`) and `spec.clients` in each pool worker,
 * all recording into `rec`. The counters start at 0.
 */
export async function startLoad(rec: Recorder, spec: LoadSpec, o: { inProcess: number; pool?: LoadPool }): Promise<RunningLoad> {
  const keys = loadGroups(spec).map((g) => g.counterKey);
  const store = new CounterStore(spec.counterUrl);
  await store.reset(keys);
  let stopped = false;
  const warmHolds = new Set<string>();
  const local = runLoad({ ...spec, clients: o.inProcess }, rec, `${spec.tag}p`, () => stopped);
  const workers = o.pool?.workers ?? [];
  const remote = workers.map((w) => {
    w.useRecorder(rec);
    return w.request<{ got: number }>({ cmd: 'run', spec: { ...spec, tag: spec.tag } }).then((r) => r.got);
  });
  // Faults start once every client has warmed up (or after 15 s).
  const expected = o.inProcess + workers.length * spec.clients;
  const warm = `${spec.tag}warm-`;
  let seen = 0;
  let warmed = 0;
  for (const until = now() + 15_000; warmed < expected && now() < until; await sleep(50)) {
    for (; seen < rec.events.length; seen++) {
      const e = rec.events[seen] as HistoryEvent;
      if (e.type === 'release:ok' && e.hold !== undefined && warmHolds.has(e.hold)) warmed++;
      if (e.type === 'acquire:ok' && e.resource?.startsWith(warm)) warmHolds.add(e.hold as string);
    }
  }
  return {
    spec,
    acquisitions: () => rec.counts['acquire:ok'] ?? 0,
    async stop() {
      stopped = true;
      await Promise.all(workers.map((w) => w.request({ cmd: 'stop' })));
      const got = await Promise.all([local, ...remote]);
      const counters = await store.values(keys);
      store.close();
      return { acquisitions: got.reduce((a, b) => a + b, 0), counters };
    },
  };
}

/** How much background load a scenario runs, and for how long it keeps repeating its fault. */
export interface LoadVolume {
  /** Worker processes of the load (`clients` each). */
  pool?: LoadPool;
  /** Load clients in this process, and per worker. */
  inProcess: number;
  clients: number;
  /** Lock names (mutex) or trees (HiLok) of the load. */
  groups: number;
  /** Repeat the fault until the history holds this many acquisitions (after the minimum iterations) … */
  acquisitions: number;
  /** … or this many ms have passed. */
  maxMs: number;
}

/** Options of {@link repeatFault}. */
export interface RepeatOptions {
  /** Fault iterations at least. */
  min: number;
  /** Then repeat until the history holds this many acquisitions … */
  acquisitions: number;
  /** … or this much time has passed since the first iteration started (ms). */
  maxMs: number;
  load: RunningLoad;
}

/** Run `iteration(i)` at least `min` times, then until the load reached its volume (or `maxMs`). Resolves with the iterations run. */
export async function repeatFault(o: RepeatOptions, iteration: (i: number) => Promise<void>): Promise<number> {
  const until = now() + o.maxMs;
  let i = 0;
  while (i < o.min || (o.load.acquisitions() < o.acquisitions && now() < until)) await iteration(i++);
  return i;
}
