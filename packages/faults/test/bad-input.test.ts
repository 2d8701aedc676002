import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClosedError, createIoredisAdapter, FairLock, HiLok, InvalidArgumentError, Mutex, ReadWriteLock, ReentrantMutex, SpinLock } from '@hilok/ioredis';
import { HiLok as CoreHiLok, Mutex as CoreMutex } from '@hilok/core';
import { MAX_RETRY_COUNT, Redlock } from '@hilok/redlock';
import { useServer } from './env.js';

/**
 * Bad input across the public APIs of Mutex, SpinLock, HiLok, FairLock, ReentrantMutex,
 * ReadWriteLock and Redlock: each case must end in the
 * typed InvalidArgumentError (or a documented no-op / ClosedError), never a Redis-level error,
 * and the locks must still work afterwards.
 */
const ctx = useServer();
let redis: Redis;
let mutex: Mutex;
let spin: SpinLock;
let hilok: HiLok;
let fair: FairLock;
let reentrant: ReentrantMutex;
let rw: ReadWriteLock;
let redlock: Redlock;
const any = (v: unknown) => v as never;

beforeAll(() => {
  redis = new Redis(ctx.server.url);
  mutex = new Mutex(redis, { prefix: 'bad:', ttl: 5_000 });
  spin = new SpinLock(redis, { prefix: 'bad:', ttl: 5_000 });
  hilok = new HiLok(redis, { prefix: 'bad:', ttl: 5_000 });
  fair = new FairLock(redis, { prefix: 'bad:', ttl: 5_000 });
  reentrant = new ReentrantMutex(redis, { prefix: 'bad:', ttl: 5_000 });
  rw = new ReadWriteLock(redis, { prefix: 'bad:', ttl: 5_000 });
  redlock = new Redlock([createIoredisAdapter(redis)], { prefix: 'bad:rl:', ttl: 5_000, instanceTimeout: 500 });
});
afterAll(async () => {
  await Promise.all([mutex.close(), spin.close(), hilok.close(), fair.close(), reentrant.close(), rw.close(), redlock.close()]);
  redis.disconnect();
});

/** The locks still work: acquire + release on each kind, and nothing was corrupted. */
async function stillWorks(): Promise<void> {
  const m = await mutex.acquire('probe', { block: false });
  expect(await m.release()).toBe(true);
  const s = await spin.acquire('probe-spin', { block: false });
  expect(await s.release()).toBe(true);
  const h = await hilok.write('probe/x', { block: false });
  expect(await h.release()).toBe(true);
  const f = await fair.acquire('probe-fair', { block: false });
  expect(await f.release()).toBe(true);
  const r = await reentrant.acquire('probe-re', { owner: 'probe' });
  expect(await r.release()).toBe(true);
  const w = await rw.write('probe-rw', { block: false });
  expect(await w.release()).toBe(true);
  const l = await redlock.lock('probe-rl');
  expect(await l.release()).toBe(true);
}

/** `err` is the InvalidArgumentError of an unknown option `key`, suggesting `suggestion` when given. */
function expectUnknownKey(err: unknown, key: string, suggestion: string | undefined): void {
  expect(err).toBeInstanceOf(InvalidArgumentError);
  const e = err as InvalidArgumentError;
  expect(e.argument).toBe(key);
  expect(e.message).toContain(`${key}: unknown option`);
  if (suggestion) expect(e.message).toContain(`did you mean ${suggestion}?`);
  else expect(e.message).toContain('known options:');
}

const long = 'x'.repeat(1025);
const deep = Array.from({ length: 65 }, (_, i) => `s${i}`).join('/');

// [label, thunk] — each must reject (or throw) InvalidArgumentError.
const asyncCases: [string, () => Promise<unknown>][] = [
  ['mutex name not a string', () => mutex.acquire(any(123))],
  ['mutex name undefined', () => mutex.acquire(any(undefined))],
  ['mutex name empty', () => mutex.acquire('')],
  ['mutex name longer than MAX_NAME_LENGTH', () => mutex.acquire(long)],
  ['mutex name with a lone surrogate', () => mutex.acquire('a\uD800b')],
  ['ttl 0', () => mutex.acquire('n', { ttl: 0 })],
  ['ttl negative', () => mutex.acquire('n', { ttl: -1 })],
  ['ttl NaN', () => mutex.acquire('n', { ttl: NaN })],
  ['ttl Infinity', () => mutex.acquire('n', { ttl: Infinity })],
  ['ttl > 2^31', () => mutex.acquire('n', { ttl: 2 ** 31 + 5 })],
  ['ttl fractional', () => mutex.acquire('n', { ttl: 1.5 })],
  ['ttl as a string', () => spin.acquire('n', { ttl: any('1000') })],
  ['timeout negative', () => mutex.acquire('n', { timeout: -1 })],
  ['timeout NaN', () => mutex.acquire('n', { timeout: NaN })],
  ['timeout > 2^31', () => spin.acquire('n', { timeout: 2 ** 32 })],
  ['options a string', () => mutex.acquire('n', any('fast'))],
  ['options null', () => mutex.acquire('n', any(null))],
  ['options an array', () => hilok.read('n', any([1]))],
  ['block not a boolean', () => mutex.acquire('n', { block: any('yes') })],
  ['signal not an AbortSignal', () => mutex.acquire('n', { signal: any({ aborted: false }) })],
  ['autoRenew interval ≥ ttl (refresh ≥ ttl)', () => mutex.acquire('n', { ttl: 1_000, autoRenew: 1_000 })],
  ['autoRenew negative', () => mutex.acquire('n', { autoRenew: -5 })],
  ['onLost not a function', () => mutex.acquire('n', { onLost: any('cb') })],
  ['id empty', () => mutex.acquire('n', { id: '' })],
  ['id not a string', () => mutex.acquire('n', { id: any(42) })],
  ['reentrant not a boolean', () => mutex.acquire('n', { id: 'me', reentrant: any(1) })],
  ['withLock fn not a function', () => mutex.withLock('n', any('fn'))],
  ['tryAcquire with bad ttl', () => spin.tryAcquire('n', { ttl: -3 })],
  ['inspect name not a string', () => mutex.inspect(any({}))],
  ['HiLok path empty', () => hilok.read('')],
  ['HiLok path separator only', () => hilok.write('/')],
  ['HiLok path with an empty segment', () => hilok.write('a//b')],
  ['HiLok path with a leading separator', () => hilok.read('/a')],
  ['HiLok path with a trailing separator', () => hilok.read('a/')],
  ['HiLok path 65 levels deep', () => hilok.write(deep)],
  ['HiLok path huge', () => hilok.write(`${long}/a`)],
  ['HiLok path not a string', () => hilok.write(any(['a', 'b']))],
  ['HiLok ttl NaN', () => hilok.write('a', { ttl: NaN })],
  ['HiLok withWrite fn not a function', () => hilok.withWrite('a', any(null))],
  ['HiLok release with a non-string id', () => hilok.release('a', any(7))],
  ['HiLok release with an empty id', () => hilok.release('a', '')],
  ['HiLok status of an invalid path', () => hilok.status('a//')],
  ['HiLok acquireRead timeout NaN', () => hilok.acquireRead('a', { timeout: NaN })],
  ['FairLock name empty', () => fair.acquire('')],
  ['FairLock name not a string', () => fair.acquire(any(Symbol('x')))],
  ['FairLock ttl Infinity', () => fair.acquire('n', { ttl: Infinity })],
  ['FairLock timeout negative', () => fair.acquire('n', { timeout: -10 })],
  ['FairLock withLock fn not a function', () => fair.withLock('n', any(42))],
  ['FairLock inspect name empty', () => fair.inspect('')],
  ['ReentrantMutex owner empty', () => reentrant.acquire('n', { owner: '' })],
  ['ReentrantMutex owner not a string', () => reentrant.acquire('n', { owner: any(7) })],
  ['ReentrantMutex name longer than MAX_NAME_LENGTH', () => reentrant.acquire(long)],
  ['ReentrantMutex holdCount name not a string', () => reentrant.holdCount(any(null))],
  ['ReentrantMutex ttl fractional', () => reentrant.acquire('n', { ttl: 0.5 })],
  ['ReadWriteLock name empty', () => rw.read('')],
  ['ReadWriteLock name with a NUL character', () => rw.write('a\u0000b')],
  ['ReadWriteLock ttl negative', () => rw.write('n', { ttl: -1 })],
  ['ReadWriteLock withRead fn not a function', () => rw.withRead('n', any(undefined))],
  ['Redlock lock name empty', () => redlock.lock('')],
  ['Redlock lock name not a string', () => redlock.lock(any(12))],
  ['Redlock lock retryCount negative', () => redlock.lock('n', { retryCount: -1 })],
  ['Redlock lock retryCount > MAX_RETRY_COUNT', () => redlock.lock('n', { retryCount: MAX_RETRY_COUNT + 1 })],
  ['Redlock lock retryDelayMin > retryDelayMax', () => redlock.lock('n', { retryDelayMin: 100, retryDelayMax: 10 })],
  ['Redlock lock ttl NaN', () => redlock.lock('n', { ttl: NaN })],
  ['Redlock lock ttl ≤ instanceTimeout (no validity left)', () => redlock.lock('n', { ttl: 400 })],
  ['Redlock write path with an empty segment', () => redlock.write('a//b')],
  ['Redlock read path separator only', () => redlock.read('/')],
  ['Redlock using fn not a function', () => redlock.using('n', any('fn'))],
  ['Redlock isLocked name empty', () => redlock.isLocked('')],
];

const syncCases: [string, () => unknown][] = [
  ['core Mutex without an adapter', () => new CoreMutex(any({}))],
  ['core HiLok with null for an adapter', () => new CoreHiLok(any(null))],
  ['core Mutex on an adapter with maxBatch 0', () => new CoreMutex({ ...createIoredisAdapter(redis), maxBatch: 0 })],
  ['core Mutex on an adapter with coalescesWrites "yes"', () => new CoreMutex({ ...createIoredisAdapter(redis), coalescesWrites: any('yes') })],
  ['Mutex prefix with a hash tag', () => new Mutex(redis, { prefix: '{x}' })],
  ['Mutex ttl 0', () => new Mutex(redis, { ttl: 0 })],
  ['Mutex commandTimeout Infinity', () => new Mutex(redis, { commandTimeout: Infinity })],
  ['Mutex wait strategy unknown', () => new Mutex(redis, { wait: any('poll') })],
  ['Mutex autoRenew ≥ ttl', () => new Mutex(redis, { ttl: 100, autoRenew: 200 })],
  ['SpinLock spin.factor < 1', () => new SpinLock(redis, { spin: { factor: 0.5 } })],
  ['SpinLock spin.initialDelay negative', () => new SpinLock(redis, { spin: { initialDelay: -1 } })],
  ['HiLok separator empty', () => new HiLok(redis, { separator: '' })],
  ['HiLok separator with a brace', () => new HiLok(redis, { separator: '{' })],
  ['HiLok refreshInterval ≥ ttl', () => new HiLok(redis, { ttl: 1_000, refreshInterval: 1_000 })],
  ['HiLok intentTtl 0', () => new HiLok(redis, { intentTtl: 0 })],
  ['HiLok options a number', () => new HiLok(redis, any(5))],
  ['FairLock ttl negative', () => new FairLock(redis, { ttl: -1 })],
  ['ReentrantMutex prefix not a string', () => new ReentrantMutex(redis, { prefix: any(5) })],
  ['ReentrantMutex runAs with an empty owner', () => reentrant.runAs('', () => 1)],
  ['ReentrantMutex runAs fn not a function', () => reentrant.runAs('me', any(null))],
  ['ReadWriteLock with a separator (names are flat)', () => new ReadWriteLock(redis, any({ separator: '/' }))],
  ['Redlock without adapters', () => new Redlock([])],
  ['Redlock adapters not an array', () => new Redlock(any(redis))],
  ['Redlock with a non-adapter in the list', () => new Redlock([createIoredisAdapter(redis), any({})])],
  ['Redlock ttl ≤ instanceTimeout', () => new Redlock([createIoredisAdapter(redis)], { ttl: 100, instanceTimeout: 200 })],
  ['Redlock instanceTimeout 0', () => new Redlock([createIoredisAdapter(redis)], { instanceTimeout: 0 })],
  ['Redlock driftFactor NaN', () => new Redlock([createIoredisAdapter(redis)], { driftFactor: NaN })],
  ['Redlock retryCount fractional', () => new Redlock([createIoredisAdapter(redis)], { retryCount: 1.5 })],
  ['Redlock prefix with a hash tag', () => new Redlock([createIoredisAdapter(redis)], { prefix: '{rl}' })],
];

// [label, the unknown key as `InvalidArgumentError.argument` names it, the key suggested, thunk]:
// an unknown option key is a typo the lock would otherwise ignore in silence (`tiemout` waited
// forever, `tttl` gave the default ttl). Every constructor and every call of every kind.
const fn = () => 1;
const unknownKeyAsync: [string, string, string | undefined, () => Promise<unknown>][] = [
  ['Mutex.acquire { tiemout }', 'tiemout', 'timeout', () => mutex.acquire('unk', any({ tiemout: 5 }))],
  ['Mutex.acquire { tttl }', 'tttl', 'ttl', () => mutex.acquire('unk', any({ tttl: 100 }))],
  ['Mutex.acquire { blocking_timeout }', 'blocking_timeout', 'blockingTimeout', () => mutex.acquire('unk', any({ blocking_timeout: 5 }))],
  ['Mutex.tryAcquire { TTL }', 'TTL', 'ttl', () => mutex.tryAcquire('unk', any({ TTL: 100 }))],
  ['Mutex.withLock { autorenew }', 'autorenew', 'autoRenew', () => mutex.withLock('unk', fn, any({ autorenew: true }))],
  ['Mutex.acquire { owner } (a ReentrantMutex option)', 'owner', undefined, () => mutex.acquire('unk', any({ owner: 'me' }))],
  ['SpinLock.acquire { signl }', 'signl', 'signal', () => spin.acquire('unk', any({ signl: undefined }))],
  ['SpinLock.tryAcquire { onlost }', 'onlost', 'onLost', () => spin.tryAcquire('unk', any({ onlost: fn }))],
  ['SpinLock.withLock { reentrnt }', 'reentrnt', 'reentrant', () => spin.withLock('unk', fn, any({ reentrnt: true }))],
  ['ReentrantMutex.acquire { ownr }', 'ownr', 'owner', () => reentrant.acquire('unk', any({ ownr: 'me' }))],
  ['ReentrantMutex.tryAcquire { tiemout }', 'tiemout', 'timeout', () => reentrant.tryAcquire('unk', any({ tiemout: 5 }))],
  ['ReentrantMutex.withLock { blok }', 'blok', 'block', () => reentrant.withLock('unk', fn, any({ blok: false }))],
  ['FairLock.acquire { tiemout }', 'tiemout', 'timeout', () => fair.acquire('unk', any({ tiemout: 5 }))],
  ['FairLock.acquire { id } (a Mutex option)', 'id', undefined, () => fair.acquire('unk', any({ id: 'me' }))],
  ['FairLock.tryAcquire { tttl }', 'tttl', 'ttl', () => fair.tryAcquire('unk', any({ tttl: 100 }))],
  ['FairLock.withLock { autoRenewal }', 'autoRenewal', 'autoRenew', () => fair.withLock('unk', fn, any({ autoRenewal: true }))],
  ['HiLok.read { tiemout }', 'tiemout', 'timeout', () => hilok.read('unk/a', any({ tiemout: 5 }))],
  ['HiLok.write { tttl }', 'tttl', 'ttl', () => hilok.write('unk/a', any({ tttl: 100 }))],
  ['HiLok.withRead { Id }', 'Id', 'id', () => hilok.withRead('unk/a', fn, any({ Id: 'x' }))],
  ['HiLok.withWrite { blockingTimout }', 'blockingTimout', 'blockingTimeout', () => hilok.withWrite('unk/a', fn, any({ blockingTimout: 5 }))],
  ['HiLok.acquireRead { onLots }', 'onLots', 'onLost', () => hilok.acquireRead('unk/a', any({ onLots: fn }))],
  ['HiLok.acquireWrite { refreshInterval } (a constructor option)', 'refreshInterval', undefined, () => hilok.acquireWrite('unk/a', any({ refreshInterval: 100 }))],
  ['ReadWriteLock.read { tiemout }', 'tiemout', 'timeout', () => rw.read('unk', any({ tiemout: 5 }))],
  ['ReadWriteLock.write { tttl }', 'tttl', 'ttl', () => rw.write('unk', any({ tttl: 100 }))],
  ['ReadWriteLock.withRead { blok }', 'blok', 'block', () => rw.withRead('unk', fn, any({ blok: false }))],
  ['ReadWriteLock.withWrite { sigal }', 'sigal', 'signal', () => rw.withWrite('unk', fn, any({ sigal: undefined }))],
  ['ReadWriteLock.acquireRead { ids }', 'ids', 'id', () => rw.acquireRead('unk', any({ ids: 'x' }))],
  ['ReadWriteLock.acquireWrite { timeOut }', 'timeOut', 'timeout', () => rw.acquireWrite('unk', any({ timeOut: 5 }))],
  ['Redlock.lock { tttl }', 'tttl', 'ttl', () => redlock.lock('unk', any({ tttl: 100 }))],
  ['Redlock.lock { timeout } (not a Redlock option)', 'timeout', undefined, () => redlock.lock('unk', any({ timeout: 100 }))],
  ['Redlock.read { retrycount }', 'retrycount', 'retryCount', () => redlock.read('unk/a', any({ retrycount: 0 }))],
  ['Redlock.write { retryDelay }', 'retryDelay', 'retryDelayMin', () => redlock.write('unk/a', any({ retryDelay: 5 }))],
  ['Redlock.using { extendIntreval }', 'extendIntreval', 'extendInterval', () => redlock.using('unk', fn, any({ extendIntreval: 100 }))],
  ['Redlock.withRead { sgnal }', 'sgnal', 'signal', () => redlock.withRead('unk/a', fn, any({ sgnal: undefined }))],
  ['Redlock.withWrite { tll }', 'tll', 'ttl', () => redlock.withWrite('unk/a', fn, any({ tll: 1_000 }))],
];

const unknownKeySync: [string, string, string | undefined, () => unknown][] = [
  ['new Mutex { tttl }', 'tttl', 'ttl', () => new Mutex(redis, any({ prefix: 'unk:', tttl: 100 }))],
  ['new Mutex { wiat }', 'wiat', 'wait', () => new Mutex(redis, any({ prefix: 'unk:', wiat: 'spin' }))],
  ['new SpinLock { spin: { initalDelay } }', 'spin.initalDelay', 'initialDelay', () => new SpinLock(redis, any({ prefix: 'unk:', spin: { initalDelay: 5 } }))],
  ['new SpinLock { commandTimout }', 'commandTimout', 'commandTimeout', () => new SpinLock(redis, any({ prefix: 'unk:', commandTimout: 100 }))],
  ['new ReentrantMutex { prefx }', 'prefx', 'prefix', () => new ReentrantMutex(redis, any({ prefx: 'unk:' }))],
  ['new FairLock { queueTTL }', 'queueTTL', 'queueTtl', () => new FairLock(redis, any({ prefix: 'unk:', queueTTL: 100 }))],
  ['new FairLock { timeout } (a per-call option)', 'timeout', undefined, () => new FairLock(redis, any({ prefix: 'unk:', timeout: 100 }))],
  ['new HiLok { refresh }', 'refresh', 'refreshInterval', () => new HiLok(redis, any({ prefix: 'unk:', refresh: 100 }))],
  ['new HiLok { seperator }', 'seperator', 'separator', () => new HiLok(redis, any({ prefix: 'unk:', seperator: ':' }))],
  ['new ReadWriteLock { intent_ttl }', 'intent_ttl', 'intentTtl', () => new ReadWriteLock(redis, any({ prefix: 'unk:', intent_ttl: 100 }))],
  ['new ReadWriteLock { onReleaseErr }', 'onReleaseErr', 'onReleaseError', () => new ReadWriteLock(redis, any({ prefix: 'unk:', onReleaseErr: fn }))],
  ['core new Mutex { ttll }', 'ttll', 'ttl', () => new CoreMutex(createIoredisAdapter(redis), any({ prefix: 'unk:', ttll: 100 }))],
  ['core new HiLok { intentTTL }', 'intentTTL', 'intentTtl', () => new CoreHiLok(createIoredisAdapter(redis), any({ prefix: 'unk:', intentTTL: 100 }))],
  ['new Redlock { retry_count }', 'retry_count', 'retryCount', () => new Redlock([createIoredisAdapter(redis)], any({ prefix: 'unk:', retry_count: 1 }))],
  ['new Redlock { drift }', 'drift', 'driftFactor', () => new Redlock([createIoredisAdapter(redis)], any({ prefix: 'unk:', drift: 0.1 }))],
  ['Redlock.fromUrls { instanceTimout }', 'instanceTimout', 'instanceTimeout', () => Redlock.fromUrls([ctx.server.url], any({ connect: createIoredisAdapter, instanceTimout: 100 }))],
  ['createIoredisAdapter { ownClient }', 'ownClient', 'ownsClient', () => createIoredisAdapter(redis, any({ ownClient: true }))],
];

describe('bad input → InvalidArgumentError, and the locks still work', () => {
  it.each(asyncCases)('%s', async (_label, thunk) => {
    // Promise.resolve().then(thunk): a synchronous throw counts here too (the type is what this
    // checks); whether the call rejects instead of throwing is checked below.
    const err = await Promise.resolve()
      .then(thunk)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(InvalidArgumentError);
    await stillWorks();
  });
  it('every async call rejects on bad input rather than throwing synchronously', () => {
    // ReentrantMutex.acquire and ReadWriteLock.read / write used to validate before returning a
    // promise, so `rw.read('').catch(h)` threw past `h` (found by this test; fixed in core).
    const syncThrowers = asyncCases.filter(([, thunk]) => {
      try {
        void thunk().catch(() => undefined);
        return false;
      } catch {
        return true;
      }
    });
    expect(syncThrowers.map(([label]) => label)).toEqual([]);
  });
  it.each(syncCases)('%s', async (_label, thunk) => {
    expect(thunk).toThrow(InvalidArgumentError);
    await stillWorks();
  });
  it.each(unknownKeyAsync)('unknown option key: %s', async (_label, key, suggestion, thunk) => {
    const err = await Promise.resolve()
      .then(thunk)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expectUnknownKey(err, key, suggestion);
    expect(await ctx.server.keys('*unk*')).toEqual([]);
    await stillWorks();
  });
  it.each(unknownKeySync)('unknown option key: %s', async (_label, key, suggestion, thunk) => {
    let err: unknown;
    try {
      thunk();
    } catch (e) {
      err = e;
    }
    expectUnknownKey(err, key, suggestion);
    expect(await ctx.server.keys('*unk*')).toEqual([]);
    await stillWorks();
  });
  it('an unknown key in a constructor given a URL closes the connection it opened', async () => {
    const clients = async () => String(await redis.client('LIST')).trim().split('\n').length;
    const before = await clients();
    expect(() => new Mutex(ctx.server.url, any({ tttl: 100 }))).toThrow(InvalidArgumentError);
    expect(() => new HiLok(ctx.server.url, any({ separtor: ':' }))).toThrow(InvalidArgumentError);
    // The connection attempt was under way; its close ends it (give the server a moment to see it).
    const until = Date.now() + 2_000;
    while ((await clients()) > before && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(await clients()).toBe(before);
  });
  it('Redlock extend with a bad ttl throws InvalidArgumentError and the lease stays valid', async () => {
    const lease = await redlock.lock('rl-ext');
    for (const ttl of [0, -5, NaN, Infinity, 2 ** 31, 100]) await expect(lease.extend(ttl)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(lease.valid).toBe(true);
    expect(await lease.release()).toBe(true);
  });
  it('lease.extend with a bad ttl throws InvalidArgumentError and the lease stays held', async () => {
    const lease = await mutex.acquire('ext', { block: false });
    for (const ttl of [0, -5, NaN, Infinity, 2 ** 31]) await expect(lease.extend(ttl)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(lease.held).toBe(true);
    expect(await lease.release()).toBe(true);
  });
  it('a live id reused for another path is InvalidArgumentError (server-side check), not a corrupted tree', async () => {
    const id = await hilok.acquireWrite('idtree/a');
    await expect(hilok.acquireWrite('idtree/b', { id })).rejects.toBeInstanceOf(InvalidArgumentError);
    expect((await hilok.status('idtree')).holds.map((h) => h.path)).toEqual(['idtree/a']);
    expect(await hilok.release('idtree/a', id)).toBe(true);
    await stillWorks();
  });
});

describe('odd but valid names are distinct locks, never errors', () => {
  const names = ['{a}', 'a', '{}', '}{', '*', '?', '[ab]', 'a*b', 'ключ', '锁', '🔒', 'a b', 'a:b', '\\', '%s', 'x'.repeat(1024)];
  it('mutex: every name locks independently, and each is really held', async () => {
    const leases = await Promise.all(names.map((n) => mutex.acquire(n, { block: false })));
    for (const n of names) expect(await spin.tryAcquire(n)).toBeNull();
    for (const l of leases) expect(await l.release()).toBe(true);
    expect(await ctx.server.keys('bad:*')).toEqual([]);
  });
  it('HiLok: glob / brace / unicode segments are distinct paths', async () => {
    const paths = ['{x}/y', 'x/y', '*/?', '*/a', '[x]/y', 'ключ/锁', '🔒/🔑', 'a b/c d'];
    const holds = await Promise.all(paths.map((p) => hilok.write(p, { block: false })));
    for (const p of paths) await expect(hilok.read(p, { block: false })).rejects.toMatchObject({ code: 'LOCK_BUSY' });
    for (const h of holds) expect(await h.release()).toBe(true);
    expect(await ctx.server.keys('bad:*')).toEqual([]);
  });
});

describe('documented no-ops and use after close', () => {
  it('double release resolves false (no throw), foreign ids release nothing', async () => {
    const lease = await mutex.acquire('dbl', { block: false });
    expect(await lease.release()).toBe(true);
    expect(await lease.release()).toBe(false);
    const h = await hilok.write('dbl/x', { block: false });
    expect(await hilok.release('dbl/x', 'not-an-owner')).toBe(false);
    expect(h.held).toBe(true);
    expect(await h.release()).toBe(true);
    expect(await h.release()).toBe(false);
    await stillWorks();
  });
  it('after close: ClosedError from every call, close() idempotent', async () => {
    const m = new Mutex(redis, { prefix: 'bad:' });
    const s = new SpinLock(redis, { prefix: 'bad:' });
    const h = new HiLok(redis, { prefix: 'bad:' });
    await Promise.all([m.close(), s.close(), h.close()]);
    await m.close();
    for (const call of [() => m.acquire('c'), () => m.tryAcquire('c'), () => m.inspect('c'), () => s.acquire('c'), () => h.read('c'), () => h.write('c'), () => h.release('c', 'id'), () => h.status('c')]) {
      await expect(call()).rejects.toBeInstanceOf(ClosedError);
    }
    await stillWorks();
  });
});

// The driver packages validate the connection in the constructor: not a client, not a URL →
// InvalidArgumentError('connection') before any connection attempt.
describe('driver constructors with a connection of the wrong type', () => {
  it.each([
    ['an empty object', {}],
    ['a number', 42],
    ['null', null],
    ['a string that is not a URL', 'not a url'],
  ])('new Mutex(%s) → InvalidArgumentError', async (_label, value) => {
    let err: unknown;
    try {
      const m = new Mutex(any(value));
      err = await m.acquire('x', { timeout: 100 }).then(() => undefined, (e: unknown) => e);
      await m.close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });
});
