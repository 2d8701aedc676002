import { Cluster as IoredisCluster } from 'ioredis';
import { HiLok, Mutex, createIoredisAdapter, type IoredisClient } from '@hilok/ioredis';
import { keySlot, lockKey } from '@hilok/core/internal';
import { parseInfo, startCluster, type RedisServer } from '@hilok/testing';
import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import type { Integrity, ScenarioContext } from '../scenario.js';
import { median, round, sleep } from '../stats.js';

/** Shape of {@link cluster}. */
export interface ClusterSpec {
  /** Lock names the loops cycle through (spread over the masters by their hash tags). */
  names: number;
  /** Concurrent acquire+release loops on one client. */
  tasks: number;
  /** Locks held at once in the memory phase, per kind. */
  held: number;
  /** Locks held while waiters queue on them, and waiters per held lock, in the waiter phase. */
  waitedLocks: number;
  waitersPerLock: number;
  /** How long the waiters wait before their locks are released, ms. */
  waitMs: number;
}

/** Issue 22's shape: 10 000 names over the 3-master cluster. */
export const CLUSTER_DEFAULTS: ClusterSpec = { names: 10_000, tasks: 64, held: 10_000, waitedLocks: 100, waitersPerLock: 50, waitMs: 3_000 };

/** One master's share of a throughput run. */
export interface MasterShare {
  port: number;
  /** Slots it owns. */
  slots: number;
  /** Of the spec's names, how many live on it. */
  names: number;
  /** Script calls (EVAL + EVALSHA) it ran during the run, as a share of all. */
  scriptShare: number;
  /** Its redis-server CPU per 1 000 acquire+release pairs it served, ms. */
  redisCpuMsPer1k: number;
}

/** An acquire+release loop over many names, on one standalone server or on the cluster. */
export interface ClusterThroughputRow {
  target: 'one redis-server' | 'one redis-server, unbatched' | '3-master cluster';
  /** Median over rounds of acquire+release pairs per second. */
  opsPerSec: number;
  /** Script calls per acquire+release pair (medians). */
  scriptsPerOp: number;
  /** Redis CPU per 1 000 pairs, summed over the servers, ms (median). */
  redisCpuMsPer1k: number;
  /** Node (this process) CPU per 1 000 pairs, ms (median). */
  nodeCpuMsPer1k: number;
  masters: MasterShare[];
}

/** Memory of locks held at once on the cluster, per kind. */
export interface ClusterMemoryRow {
  kind: string;
  count: number;
  /** used_memory growth summed over the masters, per lock, bytes. */
  bytesPerLock: number;
  /** Each master's share of the growth (bytes), by port order. */
  perMasterBytes: number[];
  /** Keys per lock while held. */
  keysPerLock: number;
}

/** The waiter phase: locks held while waiters queue on them. */
export interface ClusterWaitersRow {
  locks: number;
  waiters: number;
  /** MEMORY USAGE of the hand-off queues per waiter, bytes. */
  bytesPerWaiter: number;
  /** Script calls per second per waiter while nothing was released (its own retries). */
  scriptsPerWaiterPerSec: number;
  /** SSUBSCRIBE + SUBSCRIBE calls per waited-for lock (one per channel per process). */
  subscribesPerLock: number;
  /** All waiters got their lock once the holders released: longest time from the release, ms. */
  drainMs: number;
  /** Wake-ups published, by command, while draining. */
  spublish: number;
  publish: number;
}

/** Result of {@link cluster}. */
export interface ClusterResult extends Integrity {
  scenario: 'cluster';
  spec: ClusterSpec;
  rounds: number;
  durationMs: number;
  /** Sharded pub/sub was in use (Redis ≥ 7 cluster, the default `'auto'`). */
  sharded: boolean;
  throughput: ClusterThroughputRow[];
  memory: ClusterMemoryRow[];
  waiters?: ClusterWaitersRow;
}

type Info = Record<string, string>;
const info = async (server: RedisServer, section: string): Promise<Info> => parseInfo(await server.command('INFO', section));
const stat = (stats: Info, command: string): number => Number(/calls=(\d+)/.exec(stats[`cmdstat_${command}`] ?? '')?.[1] ?? 0);
const scriptCalls = (stats: Info): number => stat(stats, 'evalsha') + stat(stats, 'eval');
const cpuSeconds = (cpu: Info): number => Number(cpu.used_cpu_user ?? 0) + Number(cpu.used_cpu_sys ?? 0);

/** Per server: script calls and CPU seconds now. */
async function snapshot(servers: readonly RedisServer[]): Promise<{ scripts: number; cpu: number }[]> {
  return Promise.all(servers.map(async (s) => ({ scripts: scriptCalls(await info(s, 'commandstats')), cpu: cpuSeconds(await info(s, 'cpu')) })));
}

/** Sum of used_memory over `servers`. */
async function usedMemory(servers: readonly RedisServer[]): Promise<number[]> {
  return Promise.all(servers.map(async (s) => Number((await info(s, 'memory')).used_memory ?? Number.NaN)));
}

/** `tasks` loops acquiring and releasing names `prefix0 … prefix{names-1}` in turn for `durationMs`. */
async function loop(mutex: Mutex, spec: ClusterSpec, prefix: string, durationMs: number): Promise<number> {
  let next = 0;
  let ops = 0;
  const end = performance.now() + durationMs;
  await Promise.all(
    Array.from({ length: spec.tasks }, async () => {
      while (performance.now() < end) {
        const lease = await mutex.acquire(`${prefix}${next++ % spec.names}`, { timeout: 10_000 });
        await lease.release();
        ops++;
      }
    }),
  );
  return ops;
}

/**
 * 10 000 names over a 3-master Redis Cluster (ioredis `Cluster`, hilok's default sharded
 * pub/sub): acquire+release throughput against one redis-server with the same names, each
 * master's share of the work and its Redis CPU per operation; the memory of 10 000 held
 * mutexes, 10 000 one-node trees and 10 000 holds in one shared tree (which lives on one
 * master); and the cost of waiters — their queue entries, their own retries while they wait, and
 * their hand-offs once the holders release.
 */
export async function cluster(ctx: ScenarioContext, spec: ClusterSpec = CLUSTER_DEFAULTS): Promise<ClusterResult> {
  const nodes = await startCluster({ masters: 3 });
  const masters = [...nodes.masters].sort((a, b) => a.port - b.port);
  const client = new IoredisCluster(nodes.rootNodes, { redisOptions: IOREDIS_OPTIONS });
  client.on('error', () => undefined);
  const single = await openIoredis(ctx.server.url);
  const ttl = 30_000;
  const mutex = new Mutex(client, { ttl });
  const hilok = new HiLok(client, { ttl });
  const singleMutex = new Mutex(single, { ttl });
  // The same server with one lock per script call: what a cluster does with names on many slots
  // (same-tick calls share a script call only within one slot).
  const unbatchedAdapter = Object.create(createIoredisAdapter(single as unknown as IoredisClient), { maxBatch: { value: 1 } });
  const unbatchedMutex = new Mutex(unbatchedAdapter, { ttl });
  let keysLeft = 0;
  try {
    await new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', () => resolve())));
    // Which master owns which slot: from CLUSTER SLOTS.
    const ranges = (await masters[0]?.command('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const ownerOf = (slot: number): number => masters.findIndex((m) => m.port === Number(ranges.find(([a, b]) => a <= slot && slot <= b)?.[2][1]));
    const namesOn = masters.map(() => 0);
    for (let i = 0; i < spec.names; i++) namesOn[ownerOf(keySlot(lockKey('hilok:', 'mutex', `cluster${i}`)))]! += 1;
    const slotsOn = masters.map((_, m) => ranges.filter(([, , [, port]]) => Number(port) === masters[m]?.port).reduce((n, [a, b]) => n + b - a + 1, 0));

    // Throughput: the cluster and one server, interleaved round by round.
    const samples = { cluster: [] as { ops: number; perOp: number; cpu: number; node: number; masters: { share: number; cpu: number }[] }[], single: [] as { ops: number; perOp: number; cpu: number; node: number }[], unbatched: [] as { ops: number; perOp: number; cpu: number; node: number }[] };
    const locks = { cluster: mutex, single: singleMutex, unbatched: unbatchedMutex };
    for (const [target, lock] of Object.entries(locks)) await loop(lock, spec, target, 300); // warm-up: connections, scripts everywhere
    for (let r = 0; r < ctx.rounds; r++) {
      for (const target of ['cluster', 'single', 'unbatched'] as const) {
        const servers = target === 'cluster' ? masters : [ctx.server];
        const before = await snapshot(servers);
        const nodeBefore = process.cpuUsage();
        const started = performance.now();
        const ops = await loop(locks[target], spec, target, ctx.durationMs);
        const elapsed = performance.now() - started;
        const nodeUsed = process.cpuUsage(nodeBefore);
        const after = await snapshot(servers);
        const scripts = after.map((a, i) => a.scripts - (before[i]?.scripts ?? 0));
        const cpu = after.map((a, i) => (a.cpu - (before[i]?.cpu ?? 0)) * 1000);
        const totalScripts = scripts.reduce((a, b) => a + b, 0);
        const sample = { ops: (ops / elapsed) * 1000, perOp: totalScripts / ops, cpu: (cpu.reduce((a, b) => a + b, 0) / ops) * 1000, node: ((nodeUsed.user + nodeUsed.system) / 1000 / ops) * 1000 };
        if (target === 'cluster') {
          // A master's ops: its share of the script calls (every op is the same two scripts).
          samples.cluster.push({ ...sample, masters: scripts.map((s, i) => ({ share: s / totalScripts, cpu: ((cpu[i] ?? 0) / ((ops * s) / totalScripts)) * 1000 })) });
        } else samples[target].push(sample);
        ctx.record({ type: 'sample', scenario: 'cluster', target, round: r, tasks: spec.tasks, names: spec.names, ops, elapsedMs: round(elapsed, 1), scripts, redisCpuMs: cpu.map((c) => round(c, 1)) });
      }
      ctx.log(`  cluster: throughput round ${r + 1}/${ctx.rounds} done`);
    }
    const row = (target: ClusterThroughputRow['target'], s: typeof samples.single, shares: MasterShare[]): ClusterThroughputRow => ({
      target,
      opsPerSec: round(median(s.map((x) => x.ops)), 0),
      scriptsPerOp: round(median(s.map((x) => x.perOp)), 2),
      redisCpuMsPer1k: round(median(s.map((x) => x.cpu)), 1),
      nodeCpuMsPer1k: round(median(s.map((x) => x.node)), 1),
      masters: shares,
    });
    const throughput = [
      row('one redis-server', samples.single, []),
      row('one redis-server, unbatched', samples.unbatched, []),
      row(
        '3-master cluster',
        samples.cluster,
        masters.map((m, i) => ({
          port: m.port,
          slots: slotsOn[i] ?? 0,
          names: namesOn[i] ?? 0,
          scriptShare: round(median(samples.cluster.map((x) => x.masters[i]?.share ?? 0)), 3),
          redisCpuMsPer1k: round(median(samples.cluster.map((x) => x.masters[i]?.cpu ?? 0)), 1),
        })),
      ),
    ];
    keysLeft = Math.max(keysLeft, ...(await Promise.all(masters.map((m) => m.dbsize()))));

    // Memory: `held` locks at once, per kind, summed over the masters.
    const kinds: { kind: string; take(i: number): Promise<() => Promise<unknown>> }[] = [
      { kind: 'Mutex', take: async (i) => { const l = await mutex.acquire(`mem${i}`); return () => l.release(); } },
      { kind: 'HiLok write, depth 1 (a tree each)', take: async (i) => { const h = await hilok.write(`t${i}`); return () => h.release(); } },
      { kind: 'HiLok read, depth 3 (one shared tree)', take: async (i) => { const h = await hilok.read(`shared/a/n${i}`); return () => h.release(); } },
    ];
    const memoryRows: ClusterMemoryRow[] = [];
    for (const k of kinds) {
      for (let i = 0; i < 3; i++) await (await k.take(-1 - i))(); // warm-up: scripts loaded everywhere
      const before = await usedMemory(masters);
      const releases: (() => Promise<unknown>)[] = [];
      for (let i = 0; i < spec.held; i += 500) {
        releases.push(...(await Promise.all(Array.from({ length: Math.min(500, spec.held - i) }, (_, j) => k.take(i + j)))));
      }
      const held = await usedMemory(masters);
      const keys = (await Promise.all(masters.map((m) => m.dbsize()))).reduce((a, b) => a + b, 0);
      for (let i = 0; i < releases.length; i += 500) await Promise.all(releases.slice(i, i + 500).map((release) => release()));
      const perMaster = held.map((h, i) => h - (before[i] ?? 0));
      memoryRows.push({ kind: k.kind, count: spec.held, bytesPerLock: round(perMaster.reduce((a, b) => a + b, 0) / spec.held, 0), perMasterBytes: perMaster, keysPerLock: round(keys / spec.held, 2) });
      ctx.record({ type: 'sample', scenario: 'cluster-memory', kind: k.kind, count: spec.held, usedMemoryBefore: before, usedMemoryHeld: held, keys });
      keysLeft = Math.max(keysLeft, ...(await Promise.all(masters.map((m) => m.dbsize()))));
    }
    ctx.log('  cluster: memory done');

    // Waiters: `waitedLocks` held, `waitersPerLock` waiting on each (one lock object, one process).
    const holders = await Promise.all(Array.from({ length: spec.waitedLocks }, (_, i) => mutex.acquire(`w${i}`)));
    await sleep(200);
    await Promise.all(masters.map((m) => m.command('CONFIG', 'RESETSTAT')));
    const waiters = spec.waitedLocks * spec.waitersPerLock;
    const waiting = holders.flatMap((_, i) => Array.from({ length: spec.waitersPerLock }, () => mutex.acquire(`w${i}`, { timeout: spec.waitMs + 20_000 })));
    await sleep(1_000); // all queued and subscribed
    const joined = await Promise.all(masters.map((m) => info(m, 'commandstats')));
    const subscribes = joined.reduce((n, s) => n + stat(s, 'ssubscribe') + stat(s, 'subscribe'), 0);
    await Promise.all(masters.map((m) => m.command('CONFIG', 'RESETSTAT')));
    await sleep(spec.waitMs);
    // The queues' own size (MEMORY USAGE of each lock's `:q` sorted set): used_memory moves by more
    // than a few hundred kB on its own here (dicts shrinking after the memory phase).
    let queueBytes = 0;
    for (let i = 0; i < spec.waitedLocks; i++) {
      const queue = `${lockKey('hilok:', 'mutex', `w${i}`)}:q`;
      queueBytes += Number(await masters[ownerOf(keySlot(queue))]?.command('MEMORY', 'USAGE', queue, 'SAMPLES', 0));
    }
    // What the waiters cost while nothing moves: their own retries (and nothing else runs).
    const retries = (await Promise.all(masters.map((m) => info(m, 'commandstats')))).reduce((n, s) => n + scriptCalls(s), 0);
    await Promise.all(masters.map((m) => m.command('CONFIG', 'RESETSTAT')));
    const released = performance.now();
    let drainMs = 0;
    // Every waiter gets its lock in turn: each releases at once, handing on to the next in line.
    const drained = waiting.map((p) => p.then(async (lease) => { drainMs = Math.max(drainMs, performance.now() - released); await lease.release(); }));
    await Promise.all(holders.map((h) => h.release()));
    await Promise.all(drained);
    const drainStats = await Promise.all(masters.map((m) => info(m, 'commandstats')));
    const waitersRow: ClusterWaitersRow = {
      locks: spec.waitedLocks,
      waiters,
      bytesPerWaiter: round(queueBytes / waiters, 0),
      scriptsPerWaiterPerSec: round(retries / waiters / ((spec.waitMs) / 1000), 2),
      subscribesPerLock: round(subscribes / spec.waitedLocks, 2),
      drainMs: round(drainMs, 1),
      spublish: drainStats.reduce((n, s) => n + stat(s, 'spublish'), 0),
      publish: drainStats.reduce((n, s) => n + stat(s, 'publish'), 0),
    };
    ctx.log('  cluster: waiters done');
    keysLeft = Math.max(keysLeft, ...(await Promise.all(masters.map((m) => m.dbsize()))));
    const sharded = waitersRow.spublish > 0 && waitersRow.publish === 0;
    const result: ClusterResult = { scenario: 'cluster', spec, rounds: ctx.rounds, durationMs: ctx.durationMs, sharded, throughput, memory: memoryRows, waiters: waitersRow, overlaps: 0, keysLeft };
    ctx.record({ type: 'summary', ...result });
    return result;
  } finally {
    await Promise.all([mutex, hilok, singleMutex, unbatchedMutex].map((m) => m.close().catch(() => undefined)));
    await closeIoredis(single);
    await client.quit().catch(() => client.disconnect());
    await nodes.stop();
  }
}
