import { LockBusyError, QuorumError } from '@hilok/redlock';
import { startProxy, startRedisInstances, type RedisServer, type TcpProxy } from '@hilok/testing';
import { checkHistory, type CheckResult } from './checker.js';
import { errorName } from './client.js';
import type { LockTarget } from './conflict.js';
import { asLoadClient, contend, groupTargets, REDLOCK_LOAD_PREFIX, repeatFault, startLoad, type LoadSpec, type LoadVolume, type RunningLoad } from './load.js';
import { now, Recorder } from './recorder.js';
import { redlockAcquire, redlockClient, type RedlockClient } from './redlock-client.js';
import { kindTag, type ScenarioKind } from './actor.js';
import { CounterStore } from './resource.js';

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

/** Redlock keys under `prefix` (default: the scenarios' own) on the given (running, not paused) servers. */
export async function redlockKeys(servers: readonly RedisServer[], prefix = REDLOCK_PREFIX): Promise<number> {
  const counts = await Promise.all(servers.map((s) => s.keys(`${prefix}*`).then((k) => k.length)));
  return counts.reduce((a, b) => a + b, 0);
}

/** The background load of a Redlock scenario. */
export interface RedlockVolume extends LoadVolume {
  /** Fault iterations at least. */
  minIterations: number;
}

/** What a Redlock scenario reports. */
export interface RedlockReport {
  scenario: string;
  kind: ScenarioKind;
  check: CheckResult;
  failures: string[];
  notes: Record<string, number | string>;
  keysLeft: number;
}

/** Options of {@link redlockFaults}. */
export interface RedlockFaultOptions {
  quorum: Quorum;
  /** Holds the lock-guarded counters (not part of the quorum). */
  resource: RedisServer;
  kind: ScenarioKind;
  fault: QuorumFault;
  /** How many of the 5 instances get the fault (2: minority, 3: majority). */
  down: number;
  /** Per fault iteration — minority: acquisitions per scenario client (3 clients); majority: failing calls. */
  iterations: number;
  volume: RedlockVolume;
  /** Majority: ms the quorum stays healed after each recovery (the load can only acquire then; default 1 000). */
  healedMs?: number;
  ttl?: number;
  instanceTimeout?: number;
}

/** A Redlock load spec over the quorum's proxies. */
export function redlockLoadSpec(q: Quorum, resource: RedisServer, kind: ScenarioKind, v: RedlockVolume, ttl: number, instanceTimeout: number, tag: string): LoadSpec {
  return { impl: 'redlock', urls: q.urls, counterUrl: resource.url, kind, groups: v.groups, clients: v.clients, ttl, timeout: 0, instanceTimeout, tag };
}

/** Inject `fault` on `idx`, run `during`, heal — a killed instance only once `ttl + 200` ms have passed since the kill (the spec's delayed restart). */
async function withFault(q: Quorum, rec: Recorder, idx: readonly number[], fault: QuorumFault, ttl: number, during: () => Promise<void>): Promise<void> {
  for (const i of idx) await injectFault(q, i, fault);
  const at = now();
  rec.record({ type: 'fault', detail: `${fault} ${idx.join(',')}` });
  try {
    await during();
  } finally {
    if (fault === 'kill') await sleep(Math.max(0, at + ttl + 200 - now()));
    for (const i of idx) await healFault(q, i, fault);
    rec.record({ type: 'fault', detail: `healed ${idx.join(',')}` });
  }
}

/**
 * (R1/R2) `down` of the instances are killed, SIGSTOPped or blackholed (through their proxy),
 * then healed, over and over (a different random set each time), while the background load
 * contends on its own names.
 *
 * Minority (2 of 5): in each iteration three clients contend (one attempt per acquire, counter
 * incremented under the lock) for `iterations` acquisitions each. Expected: acquires still
 * succeed; a successful one takes at most instanceTimeout (+ slack), any one at most
 * `maxAcquireTime({ retryCount: 0 })` (+ slack); no `QuorumError`.
 *
 * Majority (3 of 5): `lock()` with retries must fail with a `QuorumError` (never
 * `LockBusyError`) within `maxAcquireTime()` (+ slack), and leave no key of the scenario on
 * the live instances.
 *
 * Both: after each heal, a lock is acquirable again (recovery time reported); the checker
 * finds no overlap, fence inversion, lost update or call past its bound in the whole history
 * (load included); no key is left anywhere at the end. A killed instance restarts (empty)
 * only after ttl + 200 ms — the spec's delayed restart — since the load may hold locks on it.
 */
export async function redlockFaults(o: RedlockFaultOptions): Promise<RedlockReport> {
  const q = o.quorum;
  const ttl = o.ttl ?? 2_000;
  // The scenario's clients: 250 ms, so that "no QuorumError with a minority down" does not
  // hinge on a loaded 2-core machine answering within 100 ms; the load's clients: 100 ms (more
  // volume; their QuorumErrors are reported, not failed).
  const instanceTimeout = o.instanceTimeout ?? 250;
  const loadInstanceTimeout = 100;
  const rec = new Recorder('parent');
  const failures: string[] = [];
  const notes: Record<string, number | string> = {};
  const majority = o.down >= 3;
  const tag = `rl${kindTag(o.kind)}${o.fault[0]}${o.down}-`;
  const counters = new CounterStore(o.resource.url);
  const counter = counters.counter(`faults-counter:${tag}scenario`);
  await counters.reset([counter.key]);
  const clients = Array.from({ length: majority ? 1 : 3 }, (_, k) => redlockClient(`r${k}`, rec, q.urls, { ttl, instanceTimeout }));
  const group = { targets: groupTargets(o.kind, 'rl'), counterKey: counter.key };
  const recoveries: number[] = [];
  const worstFail: number[] = [];
  // Which instances were faulted when (an attempt is judged against the set down as it failed).
  const downSets: { from: number; to: number; idx: number[] }[] = [];
  const downAt = (t: number) => downSets.find((d) => d.from <= t && t <= d.to)?.idx ?? [];
  let load: RunningLoad | undefined;
  let finals: Record<string, number> = {};
  let iterations = 0;
  try {
    // Warm-up opens the connections and loads the scripts; on a loaded machine the very first
    // call through a fresh proxy can miss the 100 ms instance timeout, so retry it a few times.
    await Promise.all(clients.map((c, k) => warmUp(() => c.redlock.lock(`warmup${k}`).then((l) => l.release()))));
    load = await startLoad(rec, redlockLoadSpec(q, o.resource, o.kind, o.volume, ttl, loadInstanceTimeout, tag), o.volume);
    const c0 = clients[0] as RedlockClient;
    iterations = await repeatFault({ min: o.volume.minIterations, acquisitions: o.volume.acquisitions, maxMs: o.volume.maxMs, load }, async (it) => {
      const downIdx = shuffle([0, 1, 2, 3, 4]).slice(0, o.down).sort();
      const live = q.servers.filter((_, i) => !downIdx.includes(i));
      const window = { from: now(), to: Infinity, idx: downIdx };
      downSets.push(window);
      await withFault(q, rec, downIdx, o.fault, ttl, async () => {
        if (!majority) {
          const deadline = now() + 60_000 + o.iterations * 200;
          const got = await Promise.all(clients.map((c) => contend(asLoadClient(c), [group], counters, (n) => n >= o.iterations || now() > deadline)));
          if (got.some((g) => g < o.iterations)) failures.push(`iteration ${it}: a client got only ${Math.min(...got)} of ${o.iterations} acquisitions`);
          return;
        }
        const retries = { retryCount: 1, retryDelayMin: 20, retryDelayMax: 60 };
        const bound = c0.redlock.maxAcquireTime(retries);
        notes.maxAcquireTime = bound;
        for (let i = 0; i < o.iterations; i++) {
          const t = now();
          const target = group.targets[i % group.targets.length] as LockTarget;
          const err = await redlockAcquire(c0.redlock, target, retries).then(
            (l) => {
              void l.release();
              return null;
            },
            (e: unknown) => e,
          );
          const took = now() - t;
          worstFail.push(took);
          if (!(err instanceof QuorumError)) failures.push(`iteration ${it}.${i}: expected a QuorumError, got ${err === null ? 'a lease' : errorName(err)}`);
          if (err instanceof LockBusyError) failures.push(`iteration ${it}.${i}: an outage reported as busy`);
          if (took > bound + 1_000) failures.push(`iteration ${it}.${i}: failed after ${Math.round(took)} ms > maxAcquireTime ${bound} + 1 s`);
          const left = await redlockKeys(live);
          if (left > 0) failures.push(`iteration ${it}.${i}: ${left} key(s) left on the live instances`);
        }
      });
      // Recovery: acquirable again after the heal.
      const healedAt = now();
      window.to = healedAt;
      let recovered = false;
      while (!recovered && now() < healedAt + 15_000) {
        const h = await c0.client.acquire(group.targets[0] as LockTarget);
        if (h) {
          recovered = true;
          await c0.client.release(h);
        } else await sleep(50);
      }
      recoveries.push(now() - healedAt);
      if (!recovered) failures.push(`iteration ${it}: not acquirable within 15 s after the fault was healed`);
      // Let the healed instances settle (reconnects, a resumed server's backlog) before the next
      // fault, so at most the intended minority is ever down; with a majority down nobody
      // acquires, so there the load also gets a healed window per iteration.
      await sleep(majority ? (o.healedMs ?? 1_000) : 500);
    });
  } finally {
    finals = { ...(load ? (await load.stop()).counters : {}) };
    await Promise.all(clients.map((c) => c.close()));
    finals[counter.key] = (await counters.values([counter.key]))[counter.key] ?? 0;
    counters.close();
  }
  const attempts = clients.flatMap((c) => c.client.acquireDurations);
  if (!majority) {
    const oks = attempts.filter((d) => d.ok).map((d) => d.ms);
    notes.maxOkAttemptMs = Math.round(Math.max(...oks));
    notes.maxAttemptMs = Math.round(Math.max(...attempts.map((d) => d.ms)));
    if (Math.max(...oks) > instanceTimeout + 1_000) failures.push(`a successful attempt took ${Math.round(Math.max(...oks))} ms > instanceTimeout + 1 s`);
  } else notes.worstFailMs = Math.round(Math.max(...worstFail));
  // With only a minority down, an attempt fails for want of a quorum only if a live instance
  // did not answer within instanceTimeout (on this loaded 2-core machine, an event-loop or
  // scheduling stall): such QuorumErrors are counted; any other cause fails the scenario.
  const quorumFails = rec.events.filter((e) => e.type === 'acquire:fail' && e.detail?.startsWith('QuorumError'));
  const own = quorumFails.filter((e) => /^r\d$/.test(e.client));
  notes.quorumErrorAttempts = own.length;
  notes.loadQuorumErrorAttempts = quorumFails.length - own.length;
  if (!majority) {
    const unexplained = own.filter((e) => !liveReplyTimeout(e.detail ?? '', downAt(e.t)));
    if (unexplained.length > 0) failures.push(`${unexplained.length} attempts failed with QuorumError with only a minority down and no live instance timing out: ${unexplained[0]?.detail}`);
  }
  notes.faultIterations = iterations;
  notes.maxRecoveryMs = Math.round(Math.max(...recoveries));
  notes.counter = finals[counter.key] ?? -1;
  // Ghost grants of frozen instances are undone on their late replies; anything else expires.
  const keysLeft = await waitKeys(q.servers, ttl + 1_000);
  if (keysLeft > 0) failures.push(`${keysLeft} key(s) left after quiescence`);
  const check = checkHistory(rec.events, { counters: finals });
  return { scenario: `redlock ${majority ? 'majority' : 'minority'} (${o.down}/5) ${o.fault}`, kind: o.kind, check, failures, notes, keysLeft };
}

/** Whether a QuorumError's recorded causes (`causes=<index>:<class>,…`) include a reply timeout of an instance not in `down`. */
export function liveReplyTimeout(detail: string, down: readonly number[]): boolean {
  const causes = /causes=((?:\d+:\w+,?)+)/.exec(detail)?.[1] ?? '';
  return causes.split(',').some((c) => {
    const [i, cls] = c.split(':');
    return !down.includes(Number(i)) && cls === 'ReplyTimeoutError';
  });
}

/** Keys of the scenarios and of the load on every server, after waiting up to `withinMs` for them to go. */
export async function waitKeys(servers: readonly RedisServer[], withinMs: number): Promise<number> {
  const until = now() + withinMs;
  for (;;) {
    const n = (await redlockKeys(servers)) + (await redlockKeys(servers, REDLOCK_LOAD_PREFIX));
    if (n === 0 || now() > until) return n;
    await sleep(50);
  }
}

/** Options of {@link redlockChaos}. */
export interface RedlockChaosOptions {
  quorum: Quorum;
  resource: RedisServer;
  kind: ScenarioKind;
  volume: RedlockVolume;
  ttl?: number;
  instanceTimeout?: number;
}

/**
 * (R3) The load's clients — in this process and in worker processes — contend on a few lock
 * names and increment a shared counter per name under them, while a rotating minority (1 or 2
 * of 5 instances) is killed, SIGSTOPped or blackholed for 150–500 ms, then healed, over and
 * over. A killed instance restarts (empty) only after ttl + 200 ms (the spec's delayed
 * restart), so no instance ever forgets a live hold. Expected: no overlap, fences increasing,
 * no lost update, every call within its bound, no key left.
 */
export async function redlockChaos(o: RedlockChaosOptions): Promise<RedlockReport> {
  const q = o.quorum;
  const ttl = o.ttl ?? 1_500;
  const instanceTimeout = o.instanceTimeout ?? 200;
  const rec = new Recorder('parent');
  const failures: string[] = [];
  const faultCounts: Record<string, number> = { kill: 0, stop: 0, blackhole: 0 };
  const load = await startLoad(rec, redlockLoadSpec(q, o.resource, o.kind, o.volume, ttl, instanceTimeout, `rlc${kindTag(o.kind)}-`), o.volume);
  let finals: Record<string, number> = {};
  let iterations = 0;
  try {
    iterations = await repeatFault({ min: o.volume.minIterations, acquisitions: o.volume.acquisitions, maxMs: o.volume.maxMs, load }, async () => {
      const fault = (['kill', 'stop', 'blackhole'] as const)[Math.floor(Math.random() * 3)] as QuorumFault;
      const idx = shuffle([0, 1, 2, 3, 4]).slice(0, 1 + Math.floor(Math.random() * 2));
      faultCounts[fault] = (faultCounts[fault] ?? 0) + 1;
      await withFault(q, rec, idx, fault, ttl, () => sleep(150 + Math.random() * 350).then(() => undefined));
      await sleep(50 + Math.random() * 150);
    });
  } finally {
    finals = (await load.stop()).counters;
  }
  const keysLeft = await waitKeys(q.servers, ttl + 1_000);
  if (keysLeft > 0) failures.push(`${keysLeft} key(s) left after quiescence`);
  const check = checkHistory(rec.events, { counters: finals });
  const busy = rec.events.filter((e) => e.type === 'acquire:fail' && e.detail?.startsWith('LockBusyError')).length;
  const quorumErrors = rec.events.filter((e) => e.type === 'acquire:fail' && e.detail?.startsWith('QuorumError')).length;
  return {
    scenario: 'redlock rotating minority faults, clients in 3 processes',
    kind: o.kind,
    check,
    failures,
    notes: { faultIterations: iterations, counters: Object.values(finals).reduce((a, b) => a + b, 0), increments: rec.counts['write:ok'] ?? 0, busyAttempts: busy, quorumErrorAttempts: quorumErrors, ...prefixKeys('faults:', faultCounts) },
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
export async function warmUp(fn: () => Promise<unknown>): Promise<void> {
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
