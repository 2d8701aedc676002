import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { createIoredisAdapter } from '@hilok/ioredis';
import { LockBusyError, QuorumError, Redlock, RedisUnavailableError, type RedlockLease } from '@hilok/redlock';
import { startProxy, startRedisInstances, type RedisServer, type TcpProxy } from '@hilok/testing';
import { checkHistory, type CheckResult } from './checker.js';
import { errorName, RecordingClient, type LockDriver } from './client.js';
import type { LockTarget } from './conflict.js';
import { spawnScript } from './process.js';
import { now, Recorder } from './recorder.js';

/** Key prefix of every Redlock lock of the suite (Redlock's own default namespace). */
export const REDLOCK_PREFIX = 'hilok:redlock:';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** N independent redis-servers, each behind its own fault proxy; clients use `urls` (the proxies). */
export interface Quorum {
  servers: RedisServer[];
  proxies: TcpProxy[];
  /** The proxies' URLs, in instance order. */
  urls: string[];
  stop(): Promise<void>;
}

/** Start `n` instances and one proxy in front of each. */
export async function startQuorum(n = 5): Promise<Quorum> {
  const inst = await startRedisInstances(n);
  const proxies = await Promise.all(inst.servers.map((s) => startProxy({ targetPort: s.port })));
  return {
    servers: inst.servers,
    proxies,
    urls: proxies.map((p) => p.url),
    async stop() {
      await Promise.allSettled(proxies.map((p) => p.stop()));
      await Promise.allSettled(inst.servers.map((s) => (s.running ? s.resume() : undefined)));
      await inst.stopAll();
    },
  };
}

/** A fault on one Redlock instance. */
export type QuorumFault = 'kill' | 'stop' | 'blackhole';

/** Inject `fault` on instance `i`: SIGKILL the server, SIGSTOP it, or blackhole its proxy. */
export async function injectFault(q: Quorum, i: number, fault: QuorumFault): Promise<void> {
  const s = q.servers[i] as RedisServer;
  const p = q.proxies[i] as TcpProxy;
  if (fault === 'kill') await s.kill('SIGKILL');
  else if (fault === 'stop') await s.pause();
  else p.blackhole(true);
}

/**
 * Undo `fault` on instance `i`. A killed server restarts empty (no persistence): callers must
 * wait at least the longest ttl after the kill first — the Redlock spec's delayed restart —
 * or they are outside the model (see the out-of-model demonstration). A blackhole is healed
 * with a reset of the proxied connections: the proxy dropped bytes for good, which real TCP
 * would not, so the connections are replaced as a real partition's timeouts would.
 */
export async function healFault(q: Quorum, i: number, fault: QuorumFault): Promise<void> {
  const s = q.servers[i] as RedisServer;
  const p = q.proxies[i] as TcpProxy;
  if (fault === 'kill') await s.restart();
  else if (fault === 'stop') await s.resume();
  else {
    p.blackhole(false);
    p.reset();
  }
}

/** Redlock keys on the given (running, not paused) servers. */
export async function redlockKeys(servers: readonly RedisServer[]): Promise<number> {
  const counts = await Promise.all(servers.map((s) => s.keys(`${REDLOCK_PREFIX}*`).then((k) => k.length)));
  return counts.reduce((a, b) => a + b, 0);
}

/** Options of one Redlock client of the suite. */
export interface RedlockClientOptions {
  ttl: number;
  instanceTimeout: number;
  /** Slack added to every bound (default 1 000 ms). */
  slack?: number;
}

/** A recorded Redlock client (its own ioredis connection per instance, one attempt per acquire). */
export interface RedlockClient {
  client: RecordingClient<RedlockLease>;
  redlock: Redlock;
  close(): Promise<void>;
}

/** One Redlock over `urls` (own connections), wrapped in a {@link RecordingClient}. */
export function redlockClient(name: string, rec: Recorder, urls: readonly string[], o: RedlockClientOptions): RedlockClient {
  const slack = o.slack ?? 1_000;
  const adapters = urls.map((url) => {
    const r = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    r.on('error', () => undefined);
    return createIoredisAdapter(r, { ownsClient: true });
  });
  const redlock = new Redlock(adapters, { closeAdapters: true, ttl: o.ttl, instanceTimeout: o.instanceTimeout, retryCount: 0 });
  const driver: LockDriver<RedlockLease> = {
    acquire: (t: LockTarget) => (t.kind === 'mutex' ? redlock.lock(t.resource) : t.mode === 'read' ? redlock.read(t.resource) : redlock.write(t.resource)),
    validUntil: (l) => l.validUntil,
    valid: (l) => l.valid,
    indeterminate: (err) => err instanceof RedisUnavailableError,
    // One attempt: the grants (≤ instanceTimeout) and, on failure, the clean-up release (≤ instanceTimeout).
    acquireBound: redlock.maxAcquireTime({ retryCount: 0 }) + slack,
    releaseBound: o.instanceTimeout + slack,
  };
  return { client: new RecordingClient(name, rec, driver), redlock, close: () => redlock.close() };
}

/** The shared lock-guarded counter: a key on a separate redis-server (not one of the quorum). */
export function redisCounter(url: string, key: string): { read(): Promise<number>; write(v: number): Promise<void>; redis: Redis } {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return {
    redis,
    read: async () => Number((await redis.get(key)) ?? 0),
    write: async (v) => {
      await redis.set(key, String(v));
    },
  };
}

/** Targets of a Redlock contention run: mutex one name; HiLok a write on `rl/x`, a write on `rl`, a read on `rl`. */
export function redlockTargets(kind: 'mutex' | 'hilok'): LockTarget[] {
  return kind === 'mutex'
    ? [{ kind: 'mutex', resource: 'rl', mode: 'write' }]
    : [
        { kind: 'hilok', resource: 'rl/x', mode: 'write' },
        { kind: 'hilok', resource: 'rl', mode: 'write' },
        { kind: 'hilok', resource: 'rl', mode: 'read' },
      ];
}

/**
 * One client's contention loop: acquire a random target (one attempt), increment the counter
 * under write holds, release; until `perClient` acquisitions or the deadline. Used in-process
 * and by `redlock-worker.ts`.
 */
export async function contend(
  client: RecordingClient<RedlockLease>,
  targets: readonly LockTarget[],
  perClient: number,
  deadline: number,
  counter: { read(): Promise<number>; write(v: number): Promise<void> },
): Promise<number> {
  let got = 0;
  while (got < perClient && now() < deadline) {
    const target = targets[Math.floor(Math.random() * targets.length)] as LockTarget;
    const h = await client.acquire(target);
    if (!h) {
      await sleep(2 + Math.random() * 15);
      continue;
    }
    got++;
    if (target.mode === 'write') await client.increment(h, counter.read, counter.write);
    else await sleep(Math.random() * 2);
    await client.release(h);
  }
  return got;
}

/** What a Redlock scenario reports. */
export interface RedlockReport {
  scenario: string;
  kind: 'mutex' | 'hilok';
  check: CheckResult;
  failures: string[];
  notes: Record<string, number | string>;
  keysLeft: number;
}

/** Options of {@link redlockFaults}. */
export interface RedlockFaultOptions {
  quorum: Quorum;
  /** Holds the lock-guarded counter (not part of the quorum). */
  resource: RedisServer;
  kind: 'mutex' | 'hilok';
  fault: QuorumFault;
  /** How many of the 5 instances get the fault (2: minority, 3: majority). */
  down: number;
  /** Minority: acquisitions per client (3 clients). Majority: failing lock() calls. */
  iterations: number;
  ttl?: number;
  instanceTimeout?: number;
}

/**
 * (R1/R2) `down` of the instances are killed, SIGSTOPped or blackholed (through their proxy).
 *
 * Minority (2 of 5): three clients contend (one attempt per acquire, counter incremented under
 * the lock). Expected: acquires still succeed; a successful one takes at most instanceTimeout
 * (+ slack), any one at most `maxAcquireTime({ retryCount: 0 })` (+ slack); the checker finds
 * no overlap, fence inversion or lost update.
 *
 * Majority (3 of 5): `lock()` with retries must fail with a `QuorumError` (never
 * `LockBusyError`) within `maxAcquireTime()` (+ slack), and leave no key on the live instances.
 *
 * Both: after the fault is healed, a lock is acquirable again (recovery time reported), and no
 * key is left anywhere at the end.
 */
export async function redlockFaults(o: RedlockFaultOptions): Promise<RedlockReport> {
  const q = o.quorum;
  const ttl = o.ttl ?? 2_000;
  const instanceTimeout = o.instanceTimeout ?? 100;
  const rec = new Recorder('parent');
  const failures: string[] = [];
  const notes: Record<string, number | string> = {};
  const majority = o.down >= 3;
  const counterKey = `rl-counter:${o.kind}:${o.fault}:${o.down}`;
  const counter = redisCounter(o.resource.url, counterKey);
  const clients = Array.from({ length: majority ? 1 : 3 }, (_, k) => redlockClient(`r${k}`, rec, q.urls, { ttl, instanceTimeout }));
  const downIdx = shuffle([0, 1, 2, 3, 4]).slice(0, o.down).sort();
  const live = q.servers.filter((_, i) => !downIdx.includes(i));
  notes.down = downIdx.join(',');
  let finalCounter: number | undefined;
  try {
    // Warm-up opens the connections and loads the scripts; on a loaded machine the very first
    // call through a fresh proxy can miss the 100 ms instance timeout, so retry it a few times.
    await Promise.all(clients.map((c, k) => warmUp(() => c.redlock.lock(`warmup${k}`).then((l) => l.release()))));
    for (const i of downIdx) await injectFault(q, i, o.fault);
    rec.record({ type: 'fault', detail: `${o.fault} ${downIdx.join(',')}` });
    const targets = redlockTargets(o.kind);
    if (!majority) {
      const deadline = now() + 60_000 + o.iterations * 200;
      const got = await Promise.all(clients.map((c) => contend(c.client, targets, o.iterations, deadline, counter)));
      if (got.some((g) => g < o.iterations)) failures.push(`a client got only ${Math.min(...got)} of ${o.iterations} acquisitions`);
      const oks = clients.flatMap((c) => c.client.acquireDurations.filter((d) => d.ok).map((d) => d.ms));
      const all = clients.flatMap((c) => c.client.acquireDurations.map((d) => d.ms));
      notes.maxOkAttemptMs = Math.round(Math.max(...oks));
      notes.maxAttemptMs = Math.round(Math.max(...all));
      notes.attempts = all.length;
      if (Math.max(...oks) > instanceTimeout + 1_000) failures.push(`a successful attempt took ${Math.round(Math.max(...oks))} ms > instanceTimeout + 1 s`);
      const quorumErrors = clients.flatMap((c) => c.client.acquireDurations.filter((d) => d.code === 'QuorumError')).length;
      notes.quorumErrors = quorumErrors;
      if (quorumErrors > 0) failures.push(`${quorumErrors} attempts failed with QuorumError with only a minority down`);
    } else {
      const c = clients[0] as RedlockClient;
      const retries = { retryCount: 1, retryDelayMin: 20, retryDelayMax: 60 };
      const bound = c.redlock.maxAcquireTime(retries);
      let worst = 0;
      for (let i = 0; i < o.iterations; i++) {
        const t = now();
        const target = targets[i % targets.length] as LockTarget;
        const err = await (target.kind === 'mutex' ? c.redlock.lock(target.resource, retries) : target.mode === 'read' ? c.redlock.read(target.resource, retries) : c.redlock.write(target.resource, retries)).then(
          (l) => {
            void l.release();
            return null;
          },
          (e: unknown) => e,
        );
        const took = now() - t;
        worst = Math.max(worst, took);
        if (!(err instanceof QuorumError)) failures.push(`iteration ${i}: expected a QuorumError, got ${err === null ? 'a lease' : errorName(err)}`);
        if (err instanceof LockBusyError) failures.push(`iteration ${i}: an outage reported as busy`);
        if (took > bound + 1_000) failures.push(`iteration ${i}: failed after ${Math.round(took)} ms > maxAcquireTime ${bound} + 1 s`);
        const left = await redlockKeys(live);
        if (left > 0) failures.push(`iteration ${i}: ${left} key(s) left on the live instances`);
      }
      notes.maxAcquireTime = bound;
      notes.worstFailMs = Math.round(worst);
    }
    // Recovery.
    for (const i of downIdx) await healFault(q, i, o.fault);
    rec.record({ type: 'fault', detail: `healed ${downIdx.join(',')}` });
    const healedAt = now();
    let recovered = false;
    const c = clients[0] as RedlockClient;
    while (now() < healedAt + 15_000) {
      const h = await c.client.acquire(targets[0] as LockTarget);
      if (h) {
        recovered = true;
        await c.client.release(h);
        break;
      }
      await sleep(50);
    }
    notes.recoveryMs = Math.round(now() - healedAt);
    if (!recovered) failures.push('not acquirable within 15 s after the fault was healed');
    finalCounter = await counter.read();
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    counter.redis.disconnect();
  }
  // Ghost grants of frozen instances are undone on their late replies; anything else expires.
  const keysLeft = await waitKeys(q.servers, ttl + 1_000);
  if (keysLeft > 0) failures.push(`${keysLeft} key(s) left after quiescence`);
  const check = checkHistory(rec.events, majority ? {} : { counter: { final: finalCounter ?? -1 } });
  if (!majority) notes.counter = finalCounter ?? -1;
  return { scenario: `redlock ${majority ? 'majority' : 'minority'} (${o.down}/5) ${o.fault}`, kind: o.kind, check, failures, notes, keysLeft };
}

/** Keys under the Redlock prefix on every server, after waiting up to `withinMs` for them to go. */
export async function waitKeys(servers: readonly RedisServer[], withinMs: number): Promise<number> {
  const until = now() + withinMs;
  for (;;) {
    const n = await redlockKeys(servers);
    if (n === 0 || now() > until) return n;
    await sleep(50);
  }
}

/** Options of {@link redlockChaos}. */
export interface RedlockChaosOptions {
  quorum: Quorum;
  resource: RedisServer;
  kind: 'mutex' | 'hilok';
  /** Acquisitions per client. */
  perClient: number;
  /** In-process clients (default 2). */
  inProcess?: number;
  /** Worker-process clients (default 2). */
  workers?: number;
  ttl?: number;
  instanceTimeout?: number;
}

const redlockWorkerPath = fileURLToPath(new URL('./redlock-worker.ts', import.meta.url));

/**
 * (R3) Several Redlock clients — in this process and in worker processes — contend for one lock
 * and increment a shared counter under it, while a rotating minority (1 or 2 of 5 instances)
 * is killed, SIGSTOPped or blackholed, then healed. A killed instance restarts (empty) only
 * after ttl + 200 ms (the spec's delayed restart), so no instance ever forgets a live hold.
 * Expected: no overlap, fences increasing, no lost update, every call within its bound, no key
 * left.
 */
export async function redlockChaos(o: RedlockChaosOptions): Promise<RedlockReport> {
  const q = o.quorum;
  const ttl = o.ttl ?? 1_500;
  const instanceTimeout = o.instanceTimeout ?? 200;
  const rec = new Recorder('parent');
  const failures: string[] = [];
  const counterKey = `rl-chaos:${o.kind}`;
  const counter = redisCounter(o.resource.url, counterKey);
  await counter.redis.del(counterKey);
  const targets = redlockTargets(o.kind);
  const clients = Array.from({ length: o.inProcess ?? 2 }, (_, k) => redlockClient(`p${k}`, rec, q.urls, { ttl, instanceTimeout }));
  const config = { urls: q.urls, resourceUrl: o.resource.url, counterKey, ttl, instanceTimeout, targets, perClient: o.perClient };
  const workers = await Promise.all(
    Array.from({ length: o.workers ?? 2 }, (_, k) => spawnScript(redlockWorkerPath, [JSON.stringify(config), `w${k}`], `w${k}`, rec)),
  );
  const faultCounts: Record<string, number> = { kill: 0, stop: 0, blackhole: 0 };
  let done = false;
  const chaos = (async () => {
    while (!done) {
      const fault = (['kill', 'stop', 'blackhole'] as const)[Math.floor(Math.random() * 3)] as QuorumFault;
      const idx = shuffle([0, 1, 2, 3, 4]).slice(0, 1 + Math.floor(Math.random() * 2));
      for (const i of idx) await injectFault(q, i, fault);
      faultCounts[fault] = (faultCounts[fault] ?? 0) + 1;
      rec.record({ type: 'fault', detail: `${fault} ${idx.join(',')}` });
      // A killed instance stays down longer than any validity (delayed restart); the others 150–500 ms.
      await sleep(fault === 'kill' ? ttl + 200 : 150 + Math.random() * 350);
      for (const i of idx) await healFault(q, i, fault);
      rec.record({ type: 'fault', detail: `healed ${idx.join(',')}` });
      await sleep(50 + Math.random() * 150);
    }
  })();
  let finalCounter = -1;
  const deadline = now() + 120_000 + o.perClient * 300;
  try {
    const results = await Promise.all([
      ...clients.map((c) => contend(c.client, targets, o.perClient, deadline, counter)),
      ...workers.map((w) => w.request<{ got: number }>({ cmd: 'run', deadline }).then((r) => r.got)),
    ]);
    if (results.some((g) => g < o.perClient)) failures.push(`a client got only ${Math.min(...results)} of ${o.perClient} acquisitions before the deadline`);
  } finally {
    done = true;
    await chaos;
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(workers.map((w) => w.stop()));
    finalCounter = await counter.read();
    counter.redis.disconnect();
  }
  const keysLeft = await waitKeys(q.servers, ttl + 1_000);
  if (keysLeft > 0) failures.push(`${keysLeft} key(s) left after quiescence`);
  const check = checkHistory(rec.events, { counter: { final: finalCounter } });
  const busy = rec.events.filter((e) => e.type === 'acquire:fail' && e.detail?.startsWith('LockBusyError')).length;
  const quorumErrors = rec.events.filter((e) => e.type === 'acquire:fail' && e.detail?.startsWith('QuorumError')).length;
  return {
    scenario: 'redlock rotating minority faults, 2 in-process + 2 worker-process clients',
    kind: o.kind,
    check,
    failures,
    notes: { counter: finalCounter, increments: rec.events.filter((e) => e.type === 'write:ok').length, busyAttempts: busy, quorumErrorAttempts: quorumErrors, ...prefixKeys('faults:', faultCounts) },
    keysLeft,
  };
}

function prefixKeys(prefix: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}${k}`, v]));
}

/** A shuffled copy. */
export function shuffle<T>(xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** Run `fn` until it succeeds (at most 10 tries, 200 ms apart); the last error is rethrown. */
async function warmUp(fn: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await fn();
      return;
    } catch (err) {
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
