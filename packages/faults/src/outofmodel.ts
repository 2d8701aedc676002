import { Redis } from 'ioredis';
import { createIoredisAdapter, Mutex, type Lease } from '@hilok/ioredis';
import { Redlock, type RedlockLease } from '@hilok/redlock';
import { startSentinelGroup } from '@hilok/testing';
import { checkHistory, type CheckResult } from './checker.js';
import { healFault, injectFault, redlockKeys, warmUp, type Quorum } from './redlock.js';
import { now, Recorder, toEpoch } from './recorder.js';
import { FencedResource } from './resource.js';

/** What an out-of-model demonstration shows. */
export interface DemoReport {
  /** Both clients believed they held the lock at the same moment. */
  twoHolders: boolean;
  /** The checker's verdict on the recorded history (it must report the overlap). */
  check: CheckResult;
  /** The fenced resource accepted the newer holder's write and rejected the stale one's. */
  staleWriteRejected: boolean;
  fences: { a: number; b: number };
  notes: Record<string, number | string | boolean>;
}

function recordHold(rec: Recorder, client: string, resource: string, fence: number, validUntilMonotonic: number): string {
  const hold = rec.nextHold();
  rec.record({ client, hold, type: 'acquire:ok', kind: 'mutex', resource, mode: 'write', fence, validUntil: toEpoch(validUntilMonotonic) });
  return hold;
}

/** One ioredis connection per URL, and an adapter owning each. */
function connect(urls: readonly string[]): { clients: Redis[]; adapters: ReturnType<typeof createIoredisAdapter>[] } {
  const clients = urls.map((url) => {
    const r = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    r.on('error', () => undefined);
    return r;
  });
  return { clients, adapters: clients.map((r) => createIoredisAdapter(r, { ownsClient: true })) };
}

/**
 * (X1) Out of the Redlock model: an instance restarted at once without persistence.
 * Client A holds `split` on instances {1,2,3} (its links to 4 and 5 are blackholed while it
 * acquires); instance 3 is SIGKILLed and restarted empty at once; client B (direct links)
 * asks all five: 1 and 2 say busy, 3 (forgot), 4 and 5 grant — a majority. Expected (and
 * asserted): both leases valid at the same time, and the checker reports the overlap. Fencing:
 * B's token is larger (server clock), so a resource that saw B's write rejects A's.
 */
export async function redlockRestartDemo(q: Quorum): Promise<DemoReport> {
  const rec = new Recorder('parent');
  const opts = { ttl: 10_000, instanceTimeout: 200, retryCount: 0, closeAdapters: true };
  const a = new Redlock(connect(q.urls).adapters, opts);
  const linksB = connect(q.servers.map((s) => s.url));
  const b = new Redlock(linksB.adapters, opts);
  let leaseA: RedlockLease | undefined;
  let leaseB: RedlockLease | undefined;
  let cut = false;
  try {
    // Open both clients' connections and load the scripts first: on a loaded machine a first
    // call through fresh connections can miss the 200 ms instance timeout on every instance.
    await warmUp(() => a.lock('warmup-a').then((l) => l.release()));
    await warmUp(() => b.lock('warmup-b').then((l) => l.release()));
    await injectFault(q, 3, 'blackhole');
    await injectFault(q, 4, 'blackhole');
    cut = true;
    leaseA = await a.lock('split');
    // A's links to 4 and 5 stay cut until B has the lock: healed now, they would deliver A's
    // pending grants there (commands resent on reconnect), and A would hold all five.
    const onA = await Promise.all(q.servers.map((s) => s.keys('hilok:redlock:*').then((k) => k.length)));
    const holdA = recordHold(rec, 'A', 'split', leaseA.fence, leaseA.validUntil);
    await q.servers[2]!.restart({ signal: 'SIGKILL' });
    rec.record({ type: 'fault', detail: 'instance 3 restarted at once without persistence' });
    // B's link to instance 3 reconnects first (a Redlock attempt is decided as soon as the
    // answers settle it: with 1 and 2 busy and 3 still reconnecting, B would give up at once).
    await linksB.clients[2]!.ping();
    leaseB = await b.lock('split');
    await healFault(q, 3, 'blackhole');
    await healFault(q, 4, 'blackhole');
    cut = false;
    const holdB = recordHold(rec, 'B', 'split', leaseB.fence, leaseB.validUntil);
    const twoHolders = leaseA.valid && leaseB.valid;
    const resource = new FencedResource();
    const bWrote = resource.write(leaseB.fence, 'B');
    const aWrote = resource.write(leaseA.fence, 'A (stale)');
    rec.record({ client: 'B', hold: holdB, type: 'release:invoke', validUntil: toEpoch(leaseB.validUntil) });
    rec.record({ client: 'A', hold: holdA, type: 'release:invoke', validUntil: toEpoch(leaseA.validUntil) });
    return {
      twoHolders,
      check: checkHistory(rec.events),
      staleWriteRejected: bWrote && !aWrote,
      fences: { a: leaseA.fence, b: leaseB.fence },
      notes: { keysPerInstanceAfterA: onA.join(',') },
    };
  } finally {
    if (cut) for (const i of [3, 4]) await healFault(q, i, 'blackhole');
    await Promise.allSettled([leaseA?.release(), leaseB?.release()]);
    await Promise.allSettled([a.close(), b.close()]);
    await redlockKeys(q.servers).catch(() => 0);
  }
}

/**
 * (X2) Out of the single-instance model: a Sentinel failover before the lock key replicated.
 * The replica is kept from applying the replication stream (`CLIENT PAUSE 20000 WRITE` on it:
 * Redis 7 also pauses the replica's processing of its master's stream), client A takes `ledger`
 * on the master, `SENTINEL FAILOVER` promotes the replica, which never saw the key, and client B
 * (Sentinel-aware ioredis) acquires `ledger` on the new master. Expected (and asserted): two
 * holders at once, the checker reports the overlap; B's fence (the new master's clock) is larger,
 * so a fenced resource that saw B's write rejects A's stale one; A's extension fails.
 */
export async function sentinelFailoverDemo(): Promise<DemoReport> {
  const rec = new Recorder('parent');
  const group = await startSentinelGroup();
  const oldMaster = group.master;
  const replica = group.replica;
  const redisA = new Redis(oldMaster.url, { maxRetriesPerRequest: 1 });
  redisA.on('error', () => undefined);
  const a = new Mutex(redisA, { prefix: 'demo:' });
  let redisB: Redis | undefined;
  let b: Mutex | undefined;
  let leaseA: Lease | undefined;
  let leaseB: Lease | undefined;
  try {
    await replica.command('CLIENT', 'PAUSE', 20_000, 'WRITE');
    rec.record({ type: 'fault', detail: 'CLIENT PAUSE 20000 WRITE on the replica' });
    leaseA = await a.acquire('ledger', { ttl: 30_000 });
    const holdA = recordHold(rec, 'A', 'ledger', leaseA.fence, leaseA.expiresAt);
    const replicaHadKey = ((await replica.command('KEYS', 'demo:*')) as string[]).length > 0;
    const t = now();
    await group.failover();
    const failoverMs = Math.round(now() - t);
    rec.record({ type: 'fault', detail: `failover to ${group.master.port}` });
    // The promoted server is still paused for writes: lift it (its unapplied stream from the
    // old master was dropped with the master link — the key does not come back).
    await group.master.command('CLIENT', 'UNPAUSE');
    const newMasterHasKey = ((await group.master.command('KEYS', 'demo:*')) as string[]).length > 0;
    // B connects after the failover, through the sentinels: it finds the new master.
    redisB = new Redis({ sentinels: group.sentinels, name: group.masterName, maxRetriesPerRequest: 1 });
    redisB.on('error', () => undefined);
    b = new Mutex(redisB, { prefix: 'demo:' });
    leaseB = await b.acquire('ledger', { ttl: 30_000, timeout: 10_000 });
    const holdB = recordHold(rec, 'B', 'ledger', leaseB.fence, leaseB.expiresAt);
    const twoHolders = leaseA.held && leaseB.held;
    const resource = new FencedResource();
    const bWrote = resource.write(leaseB.fence, 'B');
    const aWrote = resource.write(leaseA.fence, 'A (stale)');
    const extendA = await leaseA.extend().then(
      () => 'extended',
      (e: unknown) => (e as Error).constructor.name,
    );
    rec.record({ client: 'B', hold: holdB, type: 'release:invoke', validUntil: toEpoch(leaseB.expiresAt) });
    rec.record({ client: 'A', hold: holdA, type: 'release:invoke', validUntil: toEpoch(leaseA.expiresAt) });
    return {
      twoHolders,
      check: checkHistory(rec.events),
      staleWriteRejected: bWrote && !aWrote,
      fences: { a: leaseA.fence, b: leaseB.fence },
      notes: { replicaHadKey, newMasterHasKey, failoverMs, extendA },
    };
  } finally {
    await group.master.command('CLIENT', 'UNPAUSE').catch(() => undefined);
    await group.replica.command('CLIENT', 'UNPAUSE').catch(() => undefined);
    await Promise.allSettled([leaseA?.release(), leaseB?.release()]);
    await Promise.allSettled([a.close(), b?.close()]);
    redisA.disconnect();
    redisB?.disconnect();
    await group.stop();
  }
}
