/**
 * HiLok's key layout, checked on a real redis-server through ioredis: a tree is three keys at any
 * depth, an operation makes the same Redis calls at depth 1 and at MAX_DEPTH (counted by the
 * server's own `INFO commandstats`, which counts the commands scripts run), a release publishes
 * only where a waiter listens, waiting writers queue in arrival order and a release hands off to
 * the oldest with one addressed message, expired holds are purged on the server clock, both keys expire
 * with the longest-lived member, and no node or id can be mistaken for another field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok, LockBusyError, MAX_DEPTH } from '@hilok/ioredis';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const deep = (root: string, depth: number) => [root, ...Array.from({ length: depth - 1 }, (_, i) => `n${i}`)].join('/');

/** Redis commands the server ran (scripts' inner calls included), by name, without the script and stats commands themselves. */
async function commandCalls(server: RedisServer): Promise<Record<string, number>> {
  const info = String(await server.command('INFO', 'commandstats'));
  const calls: Record<string, number> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const name = m[1] as string;
    if (!/^(evalsha|eval|info|config\|resetstat|script\|.*|client\|.*|hello|select|ping)$/.test(name)) calls[name] = Number(m[2]);
  }
  return calls;
}

describe('hilok: a flat tree layout', () => {
  let server: RedisServer;
  let hilok: HiLok;
  let n = 0;
  const root = () => `L${++n}`;

  beforeAll(async () => {
    server = await startRedis();
    hilok = new HiLok(server.url, { ttl: 10_000 });
  });
  afterAll(async () => {
    await hilok?.close();
    await server?.stop();
  });

  /** The Redis calls of `op`, run alone on the server. */
  async function callsOf(op: () => Promise<unknown>): Promise<Record<string, number>> {
    await server.command('CONFIG', 'RESETSTAT');
    await op();
    return commandCalls(server);
  }

  it('makes the same Redis calls at depth 1 and at MAX_DEPTH, with three keys per tree and no PUBLISH without waiters', async () => {
    await (await hilok.read(root())).release(); // loads the scripts outside the measurement
    const perDepth = new Map<number, { acquire: Record<string, number>; release: Record<string, number>; read: Record<string, number> }>();
    for (const depth of [1, 4, 16, MAX_DEPTH]) {
      const r = root();
      const path = deep(r, depth);
      let id = '';
      const acquire = await callsOf(async () => (id = await hilok.acquireWrite(path)));
      expect(((await server.command('KEYS', `hilok:tree:{${r}}*`)) as string[]).sort()).toEqual([`hilok:tree:{${r}}:expiry`, `hilok:tree:{${r}}:index`, `hilok:tree:{${r}}:state`]);
      const release = await callsOf(() => hilok.release(path, id));
      const read = await callsOf(async () => {
        const hold = await hilok.read(path);
        await hold.release();
      });
      perDepth.set(depth, { acquire, release, read });
    }
    const one = perDepth.get(1);
    expect(one?.acquire.publish).toBeUndefined();
    expect(one?.release.publish).toBeUndefined();
    for (const [depth, calls] of perDepth) expect({ depth, ...calls }).toEqual({ depth, ...one });
  });

  it('publishes a release only on the node where a waiter listens', async () => {
    const r = root();
    const writer = await hilok.write(`${r}/a`);
    const reader = hilok.read(`${r}/a/b/c`, { timeout: 10_000 }); // blocked at level 2: listens on r/a
    await sleep(200);
    const calls = await callsOf(async () => {
      await writer.release();
      await (await reader).release();
    });
    expect(calls.publish).toBe(1);
  });

  it('queues waiting writers in arrival order (field "queue", only while one waits) and hands off with one addressed PUBLISH', async () => {
    const r = root();
    const path = `${r}/a`;
    const state = `hilok:tree:{${r}}:state`;
    const holder = await hilok.write(path);
    const first = hilok.write(path, { timeout: 10_000 });
    await sleep(50);
    const second = hilok.write(path, { timeout: 10_000 });
    await sleep(50);
    const fields = (await server.command('HKEYS', state)) as string[];
    const intents = fields.filter((f) => f.startsWith('i:'));
    expect(intents).toHaveLength(2);
    expect(fields).toContain('queue');
    // An intent's fence field is its arrival (µs, server clock); the queue lists them in that order.
    const arrivals = await Promise.all(intents.map(async (f) => Number(String(await server.command('HGET', state, f)).split('|')[1])));
    for (const a of arrivals) expect(a).toBeGreaterThan(0);
    const [older, younger] = (arrivals[0] as number) < (arrivals[1] as number) ? intents : [...intents].reverse();
    const queue = String(await server.command('HGET', state, 'queue'));
    expect(queue.indexOf((older as string).slice(2))).toBeLessThan(queue.indexOf((younger as string).slice(2)));
    // The release wakes only the oldest writer, with a message addressed to its intent.
    const calls = await callsOf(() => holder.release());
    expect(calls.publish).toBe(1);
    await (await first).release();
    await (await second).release();
    expect(await server.command('KEYS', `hilok:tree:{${r}}*`)).toEqual([]);
  });

  it('purges a crashed hold at its lease end on the server clock, counters and index included', async () => {
    const r = root();
    const keep = await hilok.acquireRead(`${r}/z`); // keeps the tree's keys alive past the crashed hold
    await hilok.acquireWrite(`${r}/a/b`, { ttl: 150 });
    await expect(hilok.read(r, { block: false })).rejects.toBeInstanceOf(LockBusyError);
    await sleep(250);
    const hold = await hilok.read(r, { block: false }); // the dead write below is purged first
    const fields = (await server.command('HKEYS', `hilok:tree:{${r}}:state`)) as string[];
    expect(fields.sort()).toEqual([`h:${hold.id}`, `h:${keep}`, `n:${r}`, `n:${r}/z`].sort());
    expect(((await server.command('ZRANGE', `hilok:tree:{${r}}:index`, '0', '-1')) as string[]).length).toBe(2);
    await hold.release();
    expect(await hilok.release(`${r}/z`, keep)).toBe(true);
    expect(await server.command('KEYS', `hilok:tree:{${r}}*`)).toEqual([]);
  });

  it('expires every key of the tree with the longest-lived member, also when a re-take shortens it', async () => {
    const r = root();
    const keys = ['state', 'expiry', 'index'].map((k) => `hilok:tree:{${r}}:${k}`);
    const pttl = async () => Promise.all(keys.map(async (k) => Number(await server.command('PTTL', k))));
    const long = await hilok.acquireRead(`${r}/a`, { ttl: 10_000 });
    const short = await hilok.acquireRead(`${r}/b`, { ttl: 3_000 });
    for (const ttl of await pttl()) expect(ttl).toBeGreaterThan(9_000);
    expect(await hilok.release(`${r}/a`, long)).toBe(true);
    for (const ttl of await pttl()) expect(ttl).toBeGreaterThan(2_000), expect(ttl).toBeLessThanOrEqual(3_000);
    await hilok.acquireRead(`${r}/b`, { id: short, ttl: 500 });
    for (const ttl of await pttl()) expect(ttl).toBeGreaterThan(0), expect(ttl).toBeLessThanOrEqual(500);
    await sleep(600);
    expect(await server.command('KEYS', `hilok:tree:{${r}}*`)).toEqual([]);
  });

  it('never mistakes a node or an id for another field: names shaped like field prefixes', async () => {
    const r = root();
    // Nodes named like the hash's field kinds, and ids shaped like fields.
    const w = await hilok.write(`${r}/n:${r}`, { id: `n:${r}` });
    await using _sibling = await hilok.write(`${r}/h:n:${r}`, { id: 'h:x', block: false });
    await using _other = await hilok.read(`${r}/i:`, { id: 'i:', block: false });
    await expect(hilok.read(r, { block: false })).rejects.toBeInstanceOf(LockBusyError);
    await expect(hilok.read(`${r}/n:${r}/x`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
    expect((await hilok.status(`${r}/n:${r}`)).holds.map((h) => [h.id, h.path])).toEqual([[`n:${r}`, `${r}/n:${r}`]]);
    await w.release();
    await using _below = await hilok.read(`${r}/n:${r}/x`, { block: false });
  });

  it('works with a multi-byte separator (lengths are bytes in Lua)', async () => {
    const r = root();
    const arrow = new HiLok(server.url, { ttl: 10_000, separator: '→' });
    try {
      const w = await arrow.write(`${r}→a→b`);
      await expect(arrow.read(r, { block: false })).rejects.toBeInstanceOf(LockBusyError);
      await using _sibling = await arrow.read(`${r}→a→c`, { block: false });
      expect((await arrow.status(r)).holds.map((h) => h.path).sort()).toEqual([`${r}→a→b`, `${r}→a→c`]);
      await w.release();
      await using _again = await arrow.write(`${r}→a→b`, { block: false });
    } finally {
      await arrow.close();
    }
  });

  it('purges a hold taken with another separator in the same tree along its own path', async () => {
    const r = root();
    const colon = new HiLok(server.url, { ttl: 10_000, separator: ':' });
    try {
      // Nodes r and r/a:b; split on ":" its path would name r/a and r/a:b, leaving a field behind.
      await hilok.acquireWrite(`${r}/a:b`, { ttl: 150 });
      await sleep(250);
      await (await colon.write(r, { block: false })).release(); // its script purges the "/" hold first
      expect(await server.command('KEYS', `hilok:tree:{${r}}*`)).toEqual([]);
      // A node both separators name the same way (the root) is an ancestor for both.
      await hilok.acquireRead(r, { ttl: 150 });
      await expect(colon.write(`${r}:x`, { block: false })).rejects.toBeInstanceOf(LockBusyError);
      await sleep(250);
      await (await colon.write(`${r}:x`, { block: false })).release();
      expect(await server.command('KEYS', `hilok:tree:{${r}}*`)).toEqual([]);
    } finally {
      await colon.close();
    }
  });
});
