import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { createIoredisAdapter } from '@hilok/ioredis';
import { createNodeRedisAdapter } from '@hilok/node-redis';
import { startRedisInstances, type RedisInstances } from '@hilok/testing';
import { InvalidArgumentError, LockBusyError, LockLostError, LockReleaseError, QuorumError, Redlock, quorumOf } from '@hilok/redlock';
import { closeAll, leftoverKeys, mixedAdapters } from './helpers.js';

let instances: RedisInstances;
let redlock: Redlock;
const opened: Redlock[] = [];

beforeAll(async () => {
  instances = await startRedisInstances(5);
  redlock = new Redlock(mixedAdapters(instances.urls), { closeAdapters: true, retryCount: 0, instanceTimeout: 300 });
  opened.push(redlock);
});
afterAll(async () => {
  await Promise.allSettled(opened.map((r) => r.close()));
  await instances?.stopAll();
});

function another(options = {}): Redlock {
  const r = Redlock.fromUrls(instances.urls, { connect: (url) => createIoredisAdapter(url), retryCount: 0, instanceTimeout: 300, ...options });
  opened.push(r);
  return r;
}

describe('the seed 004 lifecycle', () => {
  it('lock, isLocked, extend, release, valid', async () => {
    expect(await redlock.isLocked('seed')).toBe(false);
    const lease = await redlock.lock('seed', { ttl: 10_000 });
    expect(lease.valid).toBe(true);
    expect(lease.remaining).toBeGreaterThan(9_000);
    expect(lease.remaining).toBeLessThanOrEqual(10_000 - 102);
    expect(await redlock.isLocked('seed')).toBe(true);
    await redlock.extend(lease, 20_000);
    expect(lease.remaining).toBeGreaterThan(15_000);
    expect(await redlock.unlock(lease)).toBe(true);
    expect(lease.valid).toBe(false);
    expect(await redlock.isLocked('seed')).toBe(false);
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('await using releases at the end of the block', async () => {
    {
      await using lease = await redlock.lock('scoped');
      expect(lease.valid).toBe(true);
      await lease.extend();
    }
    expect(await redlock.isLocked('scoped')).toBe(false);
  });

  it('the fence is a server clock in µs, growing for the next holder', async () => {
    const a = await redlock.lock('fenced');
    await a.release();
    const b = await redlock.lock('fenced');
    await b.release();
    expect(b.fence).toBeGreaterThan(a.fence);
    expect(a.fence).toBeGreaterThan(1.6e15);
  });

  it('each instance stores "<its fence>:1:0:<token>", the exact value the release sends it', async () => {
    const lease = await redlock.lock('exact-release');
    const values = await Promise.all(instances.servers.map((s) => s.command('GET', 'hilok:redlock:mutex:{exact-release}')));
    const held = values.filter((v): v is string => typeof v === 'string');
    expect(held.length).toBeGreaterThanOrEqual(quorumOf(instances.servers.length));
    const fences = held.map((v) => {
      const m = /^(\d+):1:0:(.+)$/.exec(v);
      expect(m?.[2]).toBe(lease.token);
      return Number(m?.[1]);
    });
    // The lease's fence is the largest granted one, and each stored fence reads back unchanged.
    expect(fences).toContain(lease.fence);
    for (const f of fences) expect(`${f}:1:0:${lease.token}`).toBe(held[fences.indexOf(f)]);
    expect(await lease.release()).toBe(true);
  });
});

describe('busy is not broken', () => {
  it('a lock held by another Redlock is LockBusyError, not a quorum error', async () => {
    const other = another();
    const held = await other.lock('busy');
    const err = await redlock.lock('busy', { retryCount: 2, retryDelayMin: 10, retryDelayMax: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockBusyError);
    expect(err).not.toBeInstanceOf(QuorumError);
    expect((err as LockBusyError).retryAfter).toBeGreaterThan(0);
    await held.release();
    const mine = await redlock.lock('busy');
    await mine.release();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });

  it('waits through retries until the holder lets go', async () => {
    const other = another();
    const held = await other.lock('retry-wait', { ttl: 2_000 });
    setTimeout(() => void held.release(), 150);
    const lease = await redlock.lock('retry-wait', { retryCount: 20, retryDelayMin: 30, retryDelayMax: 60 });
    expect(lease.valid).toBe(true);
    await lease.release();
  });
});

describe('expiry and loss', () => {
  it('validity runs out on our clock: valid turns false, the signal aborts, extend fails cleanly', async () => {
    const lease = await redlock.lock('expire', { ttl: 400 });
    await new Promise((resolve) => lease.signal.addEventListener('abort', resolve, { once: true }));
    expect(lease.valid).toBe(false);
    expect(lease.signal.reason).toBeInstanceOf(LockLostError);
    const err = await lease.extend().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
    expect(String((err as Error).message)).toMatch(/validity ran out/);
    expect(await lease.release()).toBe(false);
  });

  it('an extension that finds the hold gone on a majority aborts the signal', async () => {
    const lease = await redlock.lock('stolen', { ttl: 5_000 });
    await Promise.all(instances.servers.slice(0, 3).map((s) => s.command('DEL', 'hilok:redlock:mutex:{stolen}')));
    await expect(lease.extend()).rejects.toBeInstanceOf(LockLostError);
    expect(lease.signal.aborted).toBe(true);
    await lease.release();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });
});

describe('using()', () => {
  it('auto-extends past the ttl and passes the signal', async () => {
    const result = await redlock.using(
      'using',
      async (signal) => {
        await new Promise((r) => setTimeout(r, 1_200));
        expect(signal.aborted).toBe(false);
        return 42;
      },
      { ttl: 600, extendInterval: 150 },
    );
    expect(result).toBe(42);
    expect(await redlock.isLocked('using')).toBe(false);
  });

  it('a release error never masks the body error', async () => {
    const body = new Error('body failed');
    const err = await redlock
      .using('using-err', async () => {
        // Make the release fail: freeze a majority.
        await Promise.all(instances.servers.slice(0, 3).map((s) => s.pause()));
        throw body;
      })
      .catch((e: unknown) => e)
      .finally(() => Promise.all(instances.servers.slice(0, 3).map((s) => s.resume())));
    expect(err).toBe(body);
  });

  it('a clean body whose lease was lost while it ran throws LockLostError', async () => {
    const err = await redlock
      .using(
        'using-lost',
        async (signal) => {
          // The hold vanishes from a majority: the next extension finds it gone and aborts the signal.
          await Promise.all(instances.servers.slice(0, 3).map((s) => s.command('FLUSHALL')));
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return 1;
        },
        { ttl: 3_000, extendInterval: 100 },
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockLostError);
  });

  it('a clean body whose release fails throws LockReleaseError', async () => {
    const err = await redlock
      .using('using-rel', async () => {
        await Promise.all(instances.servers.slice(0, 3).map((s) => s.pause()));
        return 1;
      })
      .catch((e: unknown) => e)
      .finally(() => Promise.all(instances.servers.slice(0, 3).map((s) => s.resume())));
    expect(err).toBeInstanceOf(LockReleaseError);
    expect((err as Error).cause).toBeInstanceOf(QuorumError);
  });
});

describe('several names as one lock over the quorum', () => {
  it('all or none on every instance; excludes single-name holders; one release frees every name', async () => {
    const other = another();
    const held = await other.lock('multi-b', { ttl: 10_000 });
    await expect(redlock.lock(['multi-c', 'multi-b', 'multi-a'])).rejects.toBeInstanceOf(LockBusyError);
    await held.release();
    expect(await leftoverKeys(instances.servers)).toEqual([]); // the failed attempt kept no part anywhere
    const lease = await redlock.lock(['multi-c', 'multi-b', 'multi-a', 'multi-b'], { ttl: 10_000 });
    expect(lease.resource).toBe('multi-a,multi-b,multi-c');
    for (const name of ['multi-a', 'multi-b', 'multi-c']) {
      expect(await redlock.isLocked(name)).toBe(true);
      await expect(other.lock(name)).rejects.toBeInstanceOf(LockBusyError);
    }
    await lease.extend(20_000);
    expect(await lease.release()).toBe(true);
    await redlock.using(['multi-b', 'multi-a'], async (_signal, l) => {
      expect(l.valid).toBe(true);
      expect(await redlock.isLocked('multi-a')).toBe(true);
    });
    expect(await leftoverKeys(instances.servers)).toEqual([]);
    await expect(redlock.lock([])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lock(['a', 3 as unknown as string])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lock(Array.from({ length: 65 }, (_, i) => `n${i}`))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('read/write locks on paths over the quorum', () => {
  it('reads coexist; a write on an ancestor is busy; writes exclude the subtree', async () => {
    const other = another();
    const r1 = await redlock.read('shop/catalog');
    const r2 = await other.read('shop/catalog/item');
    const busy = await other.write('shop').catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(LockBusyError);
    // The busy error names a conflicting hold (from the instances' replies).
    expect(['shop/catalog', 'shop/catalog/item']).toContain((busy as LockBusyError).blocker?.path);
    expect((busy as LockBusyError).blocker?.mode).toBe('read');
    expect((busy as LockBusyError).message).toMatch(/^"shop" is blocked by a read hold on "shop\/catalog(\/item)?"$/);
    await r1.release();
    await r2.release();
    const w = await other.write('shop');
    expect(w.mode).toBe('write');
    await expect(redlock.read('shop/catalog/item')).rejects.toBeInstanceOf(LockBusyError);
    await w.release();
    expect(await redlock.withWrite('shop/catalog', async () => 'ok')).toBe('ok');
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });
});

describe('several paths of one tree as one hold over the quorum', () => {
  it('all or none on every instance; reads and writes mixed; one release; bad requests refused (several trees: multi-tree.test.ts)', async () => {
    const other = another();
    const blocker = await other.read('mp/b', { ttl: 10_000 });
    const parts = [{ path: 'mp/a', mode: 'write' as const }, { path: 'mp/b', mode: 'write' as const }, { path: 'mp/c', mode: 'read' as const }];
    await expect(redlock.lockPaths(parts)).rejects.toBeInstanceOf(LockBusyError);
    // The failed attempt kept no part anywhere: the other parts are free on every instance.
    await (await other.write('mp/a')).release();
    await blocker.release();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
    const lease = await redlock.lockPaths([...parts, { path: 'mp/a', mode: 'read' }, { path: 'mp/c/d', mode: 'read' }], { ttl: 10_000 });
    expect(lease.resource).toBe('mp/a,mp/b,mp/c');
    await expect(other.read('mp/a/x')).rejects.toBeInstanceOf(LockBusyError);
    await expect(other.write('mp/c')).rejects.toBeInstanceOf(LockBusyError);
    await (await other.read('mp/c/e')).release(); // the read part shares
    await lease.extend(20_000);
    expect(await lease.release()).toBe(true);
    expect(await redlock.usingPaths(parts, async (_signal, l) => l.valid)).toBe(true);
    expect(await leftoverKeys(instances.servers)).toEqual([]);
    await expect(redlock.lockPaths([])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lockPaths([{ path: 'mp', mode: 'read' }, { path: 'mp/a', mode: 'write' }])).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('mixed drivers from user clients', () => {
  it('ioredis and node-redis clients side by side', async () => {
    const io = new Redis(instances.urls[0] as string);
    const nr = createClient({ url: instances.urls[1] as string });
    await nr.connect();
    const io2 = new Redis(instances.urls[2] as string);
    const r = new Redlock([createIoredisAdapter(io), createNodeRedisAdapter(nr as never), createIoredisAdapter(io2)], { retryCount: 0 });
    expect(r.quorum).toBe(2);
    const lease = await r.lock('mixed');
    expect(await io.exists('hilok:redlock:mutex:{mixed}')).toBe(1);
    expect(await nr.exists('hilok:redlock:mutex:{mixed}')).toBe(1);
    await lease.release();
    await r.close();
    await io.quit();
    await io2.quit();
    await nr.quit();
  });
});

describe('bad input fails before any Redis call', () => {
  const adapters = () => mixedAdapters(instances.urls.slice(0, 3));

  it('adapter lists', async () => {
    expect(() => new Redlock([])).toThrow(InvalidArgumentError);
    expect(() => new Redlock(undefined as never)).toThrow(InvalidArgumentError);
    expect(() => new Redlock([{} as never])).toThrow(InvalidArgumentError);
    const list = adapters();
    expect(() => new Redlock([list[0]!, list[0]!])).toThrow(/twice/);
    expect(() => Redlock.fromUrls([], { connect: createIoredisAdapter })).toThrow(InvalidArgumentError);
    expect(() => Redlock.fromUrls(['redis://x'], {} as never)).toThrow(InvalidArgumentError);
    await closeAll(list);
  });

  it('even and odd sizes: quorum is the majority', async () => {
    expect([1, 2, 3, 4, 5, 6].map(quorumOf)).toEqual([1, 2, 2, 3, 3, 4]);
    const four = new Redlock(mixedAdapters(instances.urls.slice(0, 4)), { closeAdapters: true });
    expect(four.quorum).toBe(3);
    const lease = await four.lock('four');
    await lease.release();
    await four.close();
  });

  it('options and per-call arguments', async () => {
    const list = adapters();
    for (const bad of [
      { ttl: 0 },
      { ttl: -1 },
      { ttl: 1.5 },
      { ttl: Infinity },
      { retryCount: -1 },
      { retryCount: 1.5 },
      { retryDelayMin: 300, retryDelayMax: 100 },
      { retryDelayMin: -5 },
      { driftFactor: -0.1 },
      { driftFactor: 0.5 },
      { driftFactor: Number.NaN },
      { instanceTimeout: 0 },
      { ttl: 500, instanceTimeout: 500 },
      { prefix: 'a{b' },
      'nope',
    ]) {
      expect(() => new Redlock(list, bad as never), JSON.stringify(bad)).toThrow(InvalidArgumentError);
    }
    await closeAll(list);
    await expect(redlock.lock('')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lock(42 as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lock('x', { ttl: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lock('x', { ttl: 100 })).rejects.toBeInstanceOf(InvalidArgumentError); // ≤ instanceTimeout
    await expect(redlock.lock('x', { retryCount: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.read('a//b')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.using('x', 'nope' as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.using('x', async () => 1, { ttl: 1_000, extendInterval: 1_000 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(redlock.lock('x', { tiemout: 5 } as never)).rejects.toThrow('tiemout: unknown option');
    await expect(redlock.using('x', async () => 1, { extendInterval: 100, tttl: 5 } as never)).rejects.toThrow('tttl: unknown option (did you mean ttl?)');
    expect(await redlock.using('x', async () => 1, { extendInterval: 1_000 })).toBe(1);
    const lease = await redlock.lock('arg');
    await expect(lease.extend(0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await lease.release();
    expect(await leftoverKeys(instances.servers)).toEqual([]);
  });
});
