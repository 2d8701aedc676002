import { FairLock, HiLok, Mutex, ReadWriteLock, ReentrantMutex } from '@hilok/ioredis';
import { parseInfo } from '@hilok/testing';
import { closeIoredis, openIoredis } from '../connections.js';
import { redisSemaphore, redlockV5, rawIoredis, sesameRedlock, type ContenderFactory } from '../contenders/index.js';
import type { Integrity, ScenarioContext } from '../scenario.js';
import { round } from '../stats.js';

/** Redis memory per held lock of one kind. */
export interface MemoryRow {
  kind: string;
  /** (used_memory with `count` locks held − used_memory before) / count, bytes. */
  bytesPerLock: number;
  /** Keys in Redis while the locks were held, per lock. */
  keysPerLock: number;
  /** Keys left once all were released. */
  keysLeft: number;
}

/** Result of {@link memory}. */
export interface MemoryResult extends Integrity {
  scenario: 'memory';
  count: number;
  rows: MemoryRow[];
}

type Releaser = () => Promise<unknown>;

/**
 * Holds `count` locks of each kind at once (all on ioredis), reads Redis `used_memory` before
 * and while they are held, releases them all and counts the keys left.
 */
export async function memory(ctx: ScenarioContext, count = 1000): Promise<MemoryResult> {
  const client = await openIoredis(ctx.server.url);
  const ttl = 30_000;
  const mutex = new Mutex(client, { ttl });
  const hilok = new HiLok(client, { ttl });
  const reentrant = new ReentrantMutex(client, { ttl });
  const rw = new ReadWriteLock(client, { ttl });
  const fair = new FairLock(client, { ttl });
  const kinds: { kind: string; take(i: number): Promise<Releaser> }[] = [
    { kind: 'hilok Mutex', take: async (i) => { const l = await mutex.acquire(`m${i}`); return () => l.release(); } },
    { kind: 'hilok HiLok write, depth 1', take: async (i) => { const h = await hilok.write(`w${i}`); return () => h.release(); } },
    { kind: 'hilok HiLok read, depth 4 (own tree)', take: async (i) => { const h = await hilok.read(`r${i}/a/b/c`); return () => h.release(); } },
    // A tree is two keys at any depth: only the node fields (one per level) grow with it.
    { kind: 'hilok HiLok read, depth 16 (own tree)', take: async (i) => { const h = await hilok.read(`d${i}/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o`); return () => h.release(); } },
    { kind: 'hilok HiLok read, depth 2 (one shared tree)', take: async (i) => { const h = await hilok.read(`shared/n${i}`); return () => h.release(); } },
    { kind: 'hilok ReentrantMutex', take: async (i) => { const l = await reentrant.acquire(`re${i}`); return () => l.release(); } },
    { kind: 'hilok ReadWriteLock read', take: async (i) => { const l = await rw.read(`rw${i}`); return () => l.release(); } },
    { kind: 'hilok FairLock', take: async (i) => { const l = await fair.acquire(`f${i}`); return () => l.release(); } },
  ];
  const peers: ContenderFactory[] = [rawIoredis, redlockV5, sesameRedlock, redisSemaphore];
  const closers: (() => Promise<void>)[] = [];
  for (const f of peers) {
    const c = await f.create(ctx.server.url, { waiting: false, ttl });
    closers.push(() => c.close());
    kinds.push({ kind: f.name, take: (i) => c.acquire(`${f.name}:${i}`) });
  }
  const rows: MemoryRow[] = [];
  try {
    for (const k of kinds) {
      // Warm-up: load the kind's scripts and settle the connection's buffers outside the measurement.
      for (let i = 0; i < 3; i++) await (await k.take(-1 - i))();
      await ctx.server.flushall();
      const before = await usedMemory(ctx);
      const releases: Releaser[] = [];
      for (let i = 0; i < count; i++) releases.push(await k.take(i));
      const held = await usedMemory(ctx);
      const keys = await ctx.server.dbsize();
      for (const release of releases) await release();
      const keysLeft = await ctx.server.dbsize();
      rows.push({ kind: k.kind, bytesPerLock: round((held - before) / count, 0), keysPerLock: round(keys / count, 2), keysLeft });
      ctx.record({ type: 'sample', scenario: 'memory', kind: k.kind, count, usedMemoryBefore: before, usedMemoryHeld: held, keys, keysLeft });
      await ctx.server.flushall(); // a kind that leaks must not bias the next one
    }
  } finally {
    await Promise.all([mutex, hilok, reentrant, rw, fair].map((m) => m.close().catch(() => undefined)));
    for (const close of closers) await close().catch(() => undefined);
    await closeIoredis(client);
  }
  const result: MemoryResult = { scenario: 'memory', count, rows, overlaps: 0, keysLeft: rows.reduce((n, r) => n + r.keysLeft, 0) };
  ctx.record({ type: 'summary', ...result });
  return result;
}

async function usedMemory(ctx: ScenarioContext): Promise<number> {
  return Number(parseInfo(await ctx.server.command('INFO', 'memory')).used_memory ?? Number.NaN);
}
