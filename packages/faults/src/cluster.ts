import { Cluster as IoCluster } from 'ioredis';
import { FairLock, HiLok, LockBusyError, Mutex, ReadWriteLock, ReentrantMutex, RedisUnavailableError, type Lease } from '@hilok/ioredis';
import type { Cluster } from '@hilok/testing';
import { checkHistory, type CheckResult } from './checker.js';
import { RecordingClient, type LockDriver } from './client.js';
import type { LockTarget } from './conflict.js';
import { now, Recorder } from './recorder.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lock kinds exported by `@hilok/ioredis`, as the cluster scenario names them. */
export const CLUSTER_LOCK_TYPES = ['mutex', 'fair', 'reentrant', 'hilok', 'rw'] as const;
export type ClusterLockType = (typeof CLUSTER_LOCK_TYPES)[number];

/**
 * The checker's view of a cluster target: `<type>~<name>` (mutex, fair, reentrant: checker kind
 * `mutex`; hilok paths and rw names: checker kind `hilok`, whose conflict rule they follow).
 */
export function clusterTarget(type: ClusterLockType, name: string, mode: 'read' | 'write' = 'write', sub = ''): LockTarget {
  const kind = type === 'hilok' || type === 'rw' ? 'hilok' : 'mutex';
  return { kind, resource: `${type}~${name}${sub}`, mode: kind === 'mutex' ? 'write' : mode };
}

function decode(t: LockTarget): { type: ClusterLockType; name: string } {
  const i = t.resource.indexOf('~');
  return { type: t.resource.slice(0, i) as ClusterLockType, name: t.resource.slice(i + 1) };
}

/** One cluster client: an ioredis `Cluster` and every lock kind on it, recorded. */
export class ClusterClient {
  readonly redis: IoCluster;
  readonly client: RecordingClient<Lease>;
  private readonly managers: { mutex: Mutex; fair: FairLock; reentrant: ReentrantMutex; hilok: HiLok; rw: ReadWriteLock };

  constructor(name: string, rec: Recorder, cluster: Cluster, o: { ttl: number; timeout: number; commandTimeout: number }) {
    this.redis = new IoCluster(cluster.rootNodes, { clusterRetryStrategy: () => 100, redisOptions: { maxRetriesPerRequest: 1 } });
    this.redis.on('error', () => undefined);
    const opts = { prefix: 'faults:', commandTimeout: o.commandTimeout };
    this.managers = {
      mutex: new Mutex(this.redis, opts),
      fair: new FairLock(this.redis, opts),
      reentrant: new ReentrantMutex(this.redis, opts),
      hilok: new HiLok(this.redis, opts),
      rw: new ReadWriteLock(this.redis, opts),
    };
    const m = this.managers;
    const a = { ttl: o.ttl, timeout: o.timeout };
    const driver: LockDriver<Lease> = {
      acquire: (t) => {
        const { type, name: n } = decode(t);
        if (type === 'hilok') return t.mode === 'read' ? m.hilok.read(n, a) : m.hilok.write(n, a);
        if (type === 'rw') return t.mode === 'read' ? m.rw.read(n, a) : m.rw.write(n, a);
        return m[type].acquire(n, a);
      },
      validUntil: (l) => l.expiresAt,
      valid: (l) => l.held,
      indeterminate: (err) => err instanceof RedisUnavailableError || (err instanceof LockBusyError && err.reason === 'timeout'),
      acquireBound: o.timeout + o.commandTimeout + 1_000,
      releaseBound: o.commandTimeout + 1_000,
    };
    this.client = new RecordingClient(name, rec, driver);
  }

  async close(): Promise<void> {
    await Promise.allSettled(Object.values(this.managers).map((x) => x.close()));
    this.redis.disconnect();
  }
}

/**
 * The master that holds the keys of `target` (index into `cluster.masters`), found by taking
 * the lock once and looking for keys under the prefix on each master — no assumption about
 * the lock's key layout or hash tag. -1 if the grant failed or the keys are not on one master.
 */
export async function placementOf(cluster: Cluster, c: ClusterClient, target: LockTarget): Promise<number> {
  const h = await c.client.acquire(target);
  if (!h) return -1;
  const counts = await Promise.all(cluster.masters.map((m) => m.keys('faults:*').then((k) => k.length)));
  await c.client.release(h);
  const on = counts.flatMap((n, i) => (n > 0 ? [i] : []));
  return on.length === 1 ? (on[0] as number) : -1;
}

/** What the cluster scenario reports. */
export interface ClusterReport {
  check: CheckResult;
  failures: string[];
  notes: Record<string, number | string>;
}

/** Options of {@link clusterScenario}. */
export interface ClusterScenarioOptions {
  cluster: Cluster;
  /** Acquisitions per client per lock type and name in each contention phase (3 clients). */
  rounds: number;
  /** Contention phase + master kill, this many times (a different master each time). */
  kills: number;
}

/**
 * (C) Every lock kind on a 3-master cluster (no replicas, `cluster-require-full-coverage no`).
 * Contention: 3 clients take each kind on names spread over the masters (HiLok: a write on
 * `name/x` against reads and writes on `name`; ReadWriteLock: reads and writes on `name`), and
 * increment a per-name counter under every exclusive hold. Then a master is SIGKILLed: locks
 * it holds must fail with a `RedisUnavailableError` (never succeed, never `LockBusyError`),
 * locks on the other masters keep working, and after `restart()` (once every hold's ttl ran
 * out) all are acquirable again. Contention and kill repeat `kills` times, on each master in
 * turn. Checked: no overlap, fences, no lost update, bounds, no CROSSSLOT, no key left.
 */
export async function clusterScenario(o: ClusterScenarioOptions): Promise<ClusterReport> {
  const ttl = 1_500;
  const rec = new Recorder('parent');
  const failures: string[] = [];
  const notes: Record<string, number | string> = {};
  const clients = Array.from({ length: 3 }, (_, k) => new ClusterClient(`c${k}`, rec, o.cluster, { ttl, timeout: 4_000, commandTimeout: 500 }));
  const targetsOf = (type: ClusterLockType, name: string): LockTarget[] =>
    type === 'hilok'
      ? [clusterTarget('hilok', name, 'write', '/x'), clusterTarget('hilok', name, 'write'), clusterTarget('hilok', name, 'read')]
      : type === 'rw'
        ? [clusterTarget('rw', name, 'write'), clusterTarget('rw', name, 'read')]
        : [clusterTarget(type, name)];
  // Two names per master (by where the mutex of the name lands); then where every kind of each
  // name lands, since a kind's key layout may put it elsewhere.
  const byMaster: string[][] = [[], [], []];
  for (let i = 0; byMaster.some((l) => l.length < 2) && i < 200; i++) {
    const n = `cl${i}`;
    const m = await placementOf(o.cluster, clients[0]!, clusterTarget('mutex', n));
    if (m >= 0 && (byMaster[m] as string[]).length < 2) (byMaster[m] as string[]).push(n);
  }
  const names = byMaster.flat();
  const placement = new Map<string, number>();
  for (const type of CLUSTER_LOCK_TYPES) for (const n of names) placement.set(`${type}~${n}`, await placementOf(o.cluster, clients[0]!, targetsOf(type, n)[0] as LockTarget));
  const unplaced = [...placement].filter(([, m]) => m < 0).map(([k]) => k);
  if (unplaced.length > 0) failures.push(`could not place ${unplaced.join(', ')} on one master`);
  const counters = new Map<string, number>();
  const groupOf = (t: LockTarget) => t.resource.split('/')[0] as string;

  /** One round: acquire a random target of (type, name), increment under an exclusive hold, release. */
  const round = async (c: ClusterClient, type: ClusterLockType, name: string): Promise<'ok' | 'unavailable' | 'busy' | 'other'> => {
    const ts = targetsOf(type, name);
    const t = ts[Math.floor(Math.random() * ts.length)] as LockTarget;
    const h = await c.client.acquire(t);
    if (!h) {
      const fail = rec.events.findLast((e) => e.client === c.client.name && e.type === 'acquire:fail');
      return fail?.detail?.startsWith('RedisUnavailableError') || fail?.detail?.startsWith('ReplyTimeoutError') ? 'unavailable' : fail?.detail?.startsWith('LockBusyError') ? 'busy' : 'other';
    }
    if (t.mode === 'write') {
      const g = groupOf(t);
      await c.client.increment(h, { read: async () => counters.get(g) ?? 0, write: async (v) => void counters.set(g, v) });
    }
    await c.client.release(h);
    return 'ok';
  };

  const outcome = { inOk: 0, inUnavailable: 0, inOther: 0, outOk: 0, outFail: 0 };
  const reacquirable: number[] = [];
  let contentionMs = 0;
  try {
    for (let k = 0; k < o.kills; k++) {
      // Contention on every kind and name.
      const t0 = now();
      await Promise.all(
        clients.map(async (c) => {
          for (let i = 0; i < o.rounds; i++) for (const type of CLUSTER_LOCK_TYPES) for (const name of names) await round(c, type, name);
        }),
      );
      contentionMs += now() - t0;

      const victim = k % o.cluster.masters.length;
      const pairs = [...placement].map(([key, m]) => ({ type: key.slice(0, key.indexOf('~')) as ClusterLockType, name: key.slice(key.indexOf('~') + 1), m }));
      const inRange = pairs.filter((p) => p.m === victim);
      const others = pairs.filter((p) => p.m !== victim && p.m >= 0);
      const server = o.cluster.masters[victim]!;
      const killedAt = now();
      await server.kill('SIGKILL');
      rec.record({ type: 'fault', detail: `SIGKILL master ${server.port}` });
      // Down for 3.5 s (> cluster-node-timeout 2 s: the node gets flagged FAIL) and at least the ttl.
      const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)] as T;
      await Promise.all(
        clients.map(async (c) => {
          while (now() < killedAt + 3_500) {
            const a = pick(inRange);
            const ra = await round(c, a.type, a.name);
            if (ra === 'ok') outcome.inOk++;
            else if (ra === 'unavailable') outcome.inUnavailable++;
            else outcome.inOther++;
            const b = pick(others);
            if ((await round(c, b.type, b.name)) === 'ok') outcome.outOk++;
            else outcome.outFail++;
          }
        }),
      );
      await sleep(Math.max(0, killedAt + ttl + 200 - now()));
      await server.restart();
      rec.record({ type: 'fault', detail: `restarted master ${server.port}` });
      const restartedAt = now();
      let back = false;
      while (!back && now() < restartedAt + 20_000) {
        back = (await Promise.all(inRange.filter((p) => p.type === 'mutex').map((p) => round(clients[0]!, 'mutex', p.name)))).every((r) => r === 'ok');
        if (!back) await sleep(100);
      }
      reacquirable.push(now() - restartedAt);
      if (!back) failures.push(`kill ${k}: the killed range was not acquirable within 20 s of the restart`);
      else for (const p of inRange) if ((await round(clients[1]!, p.type, p.name)) !== 'ok') failures.push(`kill ${k}: ${p.type} ${p.name} not acquirable after the restart`);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  Object.assign(notes, outcome);
  notes.kills = o.kills;
  notes.contentionMs = Math.round(contentionMs);
  notes.maxReacquirableAfterRestartMs = Math.round(Math.max(...reacquirable));
  const details = new Set(
    rec.events.filter((e) => e.type === 'acquire:fail' && /RedisUnavailable|ReplyTimeout/.test(e.detail ?? '')).map((e) => (/CLUSTERDOWN/.test(e.detail ?? '') ? 'CLUSTERDOWN' : /timed out|timeout/i.test(e.detail ?? '') ? 'reply timeout' : (e.detail ?? '').slice(0, 60))),
  );
  notes.unavailableAs = [...details].join(' | ');
  if (outcome.inOk > 0) failures.push(`${outcome.inOk} acquires succeeded on a killed master's slot range`);
  if (outcome.inOther > 0) failures.push(`${outcome.inOther} acquires on a killed range failed with something other than RedisUnavailableError`);
  if (outcome.inUnavailable === 0) failures.push('no RedisUnavailableError for a killed range');
  if (outcome.outOk === 0) failures.push('names on the live masters did not work while one master was down');
  const crossslot = rec.events.filter((e) => /CROSSSLOT/.test(e.detail ?? '')).length;
  if (crossslot > 0) failures.push(`${crossslot} CROSSSLOT errors`);
  notes.crossslot = crossslot;
  const finalSum = [...counters.values()].reduce((a, b) => a + b, 0);
  notes.counter = finalSum;
  notes.names = names.join(',');
  const check = checkHistory(rec.events, { counter: { final: finalSum } });
  // Quiescence: no lock key left on any master.
  const until = now() + ttl + 4_000;
  let keys = 0;
  do {
    keys = (await Promise.all(o.cluster.masters.map((m) => m.keys('faults:*').then((k) => k.length, () => 0)))).reduce((a, b) => a + b, 0);
    if (keys > 0) await sleep(100);
  } while (keys > 0 && now() < until);
  notes.keysLeft = keys;
  if (keys > 0) failures.push(`${keys} lock key(s) left`);
  return { check, failures, notes };
}
