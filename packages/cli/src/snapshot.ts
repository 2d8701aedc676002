import { decodeSemaphoreHold, decodeTreeItem, decodeWaiterMember, fairKeys, mutexKeys, parseStoredMutex, semaphoreKeys, treeKeys } from '@hilok/core/internal';
import type { Connection } from './connect.js';
import { globEscape, parseKey, type KeyKind } from './keys.js';
import { pathMatcher } from './match.js';
import { parseOwner, type OwnerInfo } from '@hilok/core';

/** One live hold, as {@link readSnapshot} reports it. */
export interface HoldView {
  /** Lock kind: `mutex` (Mutex, SpinLock, ReentrantMutex), `fair`, `tree` (HiLok), `rw` (ReadWriteLock) or `semaphore`. */
  kind: KeyKind;
  /** The lock name, or for a tree the hold's path. */
  path: string;
  /** `write` for exclusive holds (every mutex and fair hold), `read` for shared ones (semaphore holds share up to the limit). */
  mode: 'read' | 'write';
  /** Permits of a semaphore hold (only on `semaphore` holds). */
  permits?: number;
  /** The owner token: the id to pass to `hilok release --id`. */
  id: string;
  /** Remaining ttl in ms on the Redis server's clock (-1: the key has no expiry). */
  ttl: number;
  /** Fencing token of the hold. */
  fence: number;
  /** Hold count of a reentrant mutex (1 otherwise). */
  count: number;
  /**
   * When the hold was granted, in ms on the Redis server's clock: read from the fencing token,
   * which is the server's clock in µs at the grant (kept by extends and reentrant entries);
   * `null` when the fence is not such a time.
   */
  acquiredAt: number | null;
  /**
   * Who took the hold — its manager's `app` label, host, pid and process start — read from the
   * owner token (core's `parseOwner`); `null` for an id the caller chose.
   */
  owner?: OwnerInfo | null;
}

/** One waiter that Redis knows about: a tree / read-write writer's intent, or a fair lock's, mutex's or semaphore's queue entry. */
export interface WaiterView {
  /** Lock kind (`tree`, `rw`, `fair`, `semaphore`, or `mutex`: its hand-off queue). */
  kind: KeyKind;
  /** The lock name or path waited for. */
  path: string;
  /** `write` for a waiting writer; fair and mutex waiters want the lock exclusively too; `read` for semaphore waiters. */
  mode: 'read' | 'write';
  /** Permits a semaphore waiter asks for, and the limit it asks with (only on `semaphore` waiters). */
  permits?: number;
  /** The limit a semaphore waiter asked with (see {@link SemaphoreView.limit}). */
  limit?: number;
  /** The intent member (tree, rw) or the waiter token (fair). */
  id: string;
  /** Place in the queue, 1 = next (fair locks, mutexes and semaphores). */
  position?: number;
  /** Ms until the waiter's intent / heartbeat lapses unless it renews it (it does while it waits). */
  ttl: number;
  /** Who waits (read from a waiter token, see {@link HoldView.owner}); `null` for a tree intent or an id the caller chose. */
  owner?: OwnerInfo | null;
}

/** Everything held and waited for under a prefix (and path), read at one moment. */
export interface Snapshot {
  /** The Redis server's clock, in ms, when the snapshot was taken. */
  now: number;
  /** The key prefix that was read. */
  prefix: string;
  /** The path / name filter, if any. */
  path: string | undefined;
  /** Live holds, sorted by kind and path. */
  holds: HoldView[];
  /** Known waiters, sorted by kind, path and position. */
  waiting: WaiterView[];
  /** Per semaphore with holds or waiters, sorted by name: permits used, and the limit and available permits when known. */
  semaphores: SemaphoreView[];
}

/** A semaphore's counts in a {@link Snapshot}. */
export interface SemaphoreView {
  /** The semaphore's name. */
  path: string;
  /** Permits held now (the sum over its live holds). */
  used: number;
  /**
   * The limit: Redis stores none (each call brings its own), so it is `--limit` when given, else
   * the limit the first waiter in line asked with, else `null` (unknown).
   */
  limit: number | null;
  /** `limit − used`, at least 0, when the limit is known (some of it may be owed to the first waiter). */
  available: number | null;
}

/** Options of {@link readSnapshot}. */
export interface SnapshotOptions {
  /** Key prefix of the locks (default `hilok:`). */
  prefix?: string;
  /**
   * Only this lock name / path and what lies below it (`a` matches `a`, `a/b` and `a:1`, not
   * `ab`), or, with `*`, `?` or `[…]`, the names / paths that glob matches (`invoice:4*`).
   */
  path?: string;
  /** Path separator for the `path` filter (default `/`). */
  separator?: string;
  /** Only these kinds (default: all). */
  kinds?: readonly KeyKind[];
  /** The limit of semaphores, for their `available` count (Redis stores none; default: the first waiter's). */
  limit?: number;
}

const str = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString() : String(v));
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Pairs of a flat reply (`HGETALL`, `ZRANGE … WITHSCORES`). */
function pairs(reply: unknown): [string, string][] {
  const flat = arr(reply).map(str);
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}

/** The server clock in ms (`TIME`). */
export async function serverNow(conn: Connection): Promise<number> {
  const [s, us] = arr(await conn.command(['TIME'])).map((v) => Number(str(v)));
  return (s as number) * 1000 + Math.floor((us as number) / 1000);
}

/** The grant time (server ms) a fence encodes — the server's µs at the grant — or `null` if it is not a plausible one. */
export function grantTime(fence: number, now: number): number | null {
  const ms = Math.floor(fence / 1000);
  return ms > 1e12 && ms <= now + 1_000 ? ms : null;
}

/** Every key matching `pattern`, by `SCAN` (never `KEYS`) on every master (a cluster's too). */
export async function scanKeys(conn: Connection, pattern: string): Promise<string[]> {
  const keys = new Set<string>();
  // A key whose slot moves meanwhile may be seen on two masters: the set keeps it once.
  for (const node of await conn.masters()) {
    let cursor = '0';
    do {
      const [next, batch] = arr(await node.command(['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000']));
      cursor = str(next);
      for (const k of arr(batch)) keys.add(str(k));
    } while (cursor !== '0');
  }
  return [...keys];
}

/** Whether `name` is selected by `path`: it is `path` or lies below it (after the separator or a `:`), or `path` is a glob it matches. */
export function underPath(name: string, path: string | undefined, separator: string): boolean {
  return pathMatcher(path, separator)(name);
}

/**
 * Read who holds and who waits for every hilok lock under `prefix`, without changing anything:
 * only `SCAN`, `TIME`, `GET`, `HGETALL`, `HMGET`, `PTTL` and `ZRANGE … WITHSCORES`, sent as plain
 * commands (no lock script runs: a semaphore's expired holds, which its scripts purge, are skipped). Keys of a lock that vanish or change type meanwhile are skipped.
 */
export async function readSnapshot(conn: Connection, options: SnapshotOptions = {}): Promise<Snapshot> {
  const prefix = options.prefix ?? 'hilok:';
  const separator = options.separator ?? '/';
  const path = options.path;
  const selected = pathMatcher(path, separator);
  const kinds = new Set(options.kinds ?? ['mutex', 'fair', 'tree', 'rw', 'semaphore']);
  const keys = await scanKeys(conn, `${globEscape(prefix)}*`);
  const now = await serverNow(conn);

  const mutexes = new Set<string>();
  const fairs = new Set<string>();
  const semaphoreNames = new Set<string>();
  // Per tree (kind + root): its state hash holds every hold and intent.
  const trees = new Map<string, { kind: 'tree' | 'rw'; root: string }>();
  for (const key of keys) {
    const p = parseKey(key, prefix);
    if (!p || !kinds.has(p.kind)) continue;
    if (p.kind === 'mutex') {
      if (selected(p.name)) mutexes.add(p.name);
    } else if (p.kind === 'fair') {
      if (selected(p.name)) fairs.add(p.name);
    } else if (p.kind === 'semaphore') {
      if (selected(p.name)) semaphoreNames.add(p.name);
    } else {
      trees.set(`${p.kind}\0${p.name}`, { kind: p.kind, root: p.name });
    }
  }

  const holds: HoldView[] = [];
  const waiting: WaiterView[] = [];
  const semaphores: SemaphoreView[] = [];
  const skipGone = (err: unknown) => {
    if (/WRONGTYPE/.test(String((err as Error)?.message))) return;
    throw err;
  };

  await Promise.all([
    ...[...mutexes].map(async (name) => {
      const [key, queueKey] = mutexKeys(prefix, name);
      try {
        const value = await conn.command(['GET', key]);
        const held = value === null || value === undefined ? null : parseStoredMutex(str(value));
        if (!held) return;
        const ttl = Number(str(await conn.command(['PTTL', key])));
        if (ttl === -2) return;
        // Count 0: nobody holds it, but waiters are queued for a hand-off.
        if (held.count > 0) holds.push({ kind: 'mutex', path: name, mode: 'write', id: held.owner, ttl, fence: held.fence, count: held.count, acquiredAt: null });
        if (!held.waited) return;
        const queueTtl = Number(str(await conn.command(['PTTL', queueKey])));
        arr(await conn.command(['ZRANGE', queueKey, '0', '-1'])).forEach((token, i) => {
          waiting.push({ kind: 'mutex', path: name, mode: 'write', id: str(token), position: i + 1, ttl: Math.max(0, queueTtl) });
        });
      } catch (err) {
        skipGone(err);
      }
    }),
    ...[...fairs].map(async (name) => {
      const [hash, queueKey, beatKey] = fairKeys(prefix, name);
      try {
        const [o, f] = arr(await conn.command(['HMGET', hash, 'o', 'f']));
        if (o !== null && o !== undefined) {
          const ttl = Number(str(await conn.command(['PTTL', hash])));
          if (ttl !== -2) holds.push({ kind: 'fair', path: name, mode: 'write', id: str(o), ttl, fence: Number(str(f)), count: 1, acquiredAt: null });
        }
        const queue = pairs(await conn.command(['ZRANGE', queueKey, '0', '-1', 'WITHSCORES']));
        const beats = new Map(pairs(await conn.command(['ZRANGE', beatKey, '0', '-1', 'WITHSCORES'])));
        queue.forEach(([token], i) => {
          const deadline = Number(beats.get(token) ?? now);
          waiting.push({ kind: 'fair', path: name, mode: 'write', id: token, position: i + 1, ttl: Math.max(0, deadline - now) });
        });
      } catch (err) {
        skipGone(err);
      }
    }),
    ...[...semaphoreNames].map(async (name) => {
      // Core's layout (semaphoreKeys): holders zset token → expiry ms, permits hash token →
      // "permits:fence", queue zset member → arrival, alive zset member → lapse ms.
      const [holdersKey, permitsKey, queueKey, aliveKey] = semaphoreKeys(prefix, name);
      try {
        const expiries = pairs(await conn.command(['ZRANGE', holdersKey, '0', '-1', 'WITHSCORES']));
        const stored = new Map(pairs(await conn.command(['HGETALL', permitsKey])));
        const queue = arr(await conn.command(['ZRANGE', queueKey, '0', '-1'])).map(str);
        const lapses = new Map(pairs(await conn.command(['ZRANGE', aliveKey, '0', '-1', 'WITHSCORES'])));
        let used = 0;
        for (const [token, expiry] of expiries) {
          const value = stored.get(token);
          const hold = value === undefined ? null : decodeSemaphoreHold(token, value);
          if (!hold || Number(expiry) <= now) continue; // expired: the next script purges it
          used += hold.permits;
          holds.push({ kind: 'semaphore', path: name, mode: 'read', id: hold.id, permits: hold.permits, ttl: Number(expiry) - now, fence: hold.fence, count: 1, acquiredAt: null });
        }
        let position = 0;
        let headLimit: number | undefined;
        for (const member of queue) {
          const w = decodeWaiterMember(member);
          const lapse = Number(lapses.get(member) ?? now);
          if (!w || lapse <= now) continue; // lapsed: no longer waiting
          headLimit ??= w.limit;
          waiting.push({ kind: 'semaphore', path: name, mode: 'read', id: w.id, position: ++position, ttl: lapse - now, permits: w.permits, limit: w.limit });
        }
        if (used === 0 && position === 0) return;
        const limit = options.limit ?? headLimit ?? null;
        semaphores.push({ path: name, used, limit, available: limit === null ? null : Math.max(0, limit - used) });
      } catch (err) {
        skipGone(err);
      }
    }),
    ...[...trees.values()].map(async (tree) => {
      try {
        for (const [field, value] of pairs(await conn.command(['HGETALL', treeKeys(prefix, tree.kind, tree.root)[0]]))) {
          const item = decodeTreeItem(field, value);
          if (!item || item.expiry <= now || !selected(item.path)) continue;
          const ttl = item.expiry - now;
          if (item.field === 'i') waiting.push({ kind: tree.kind, path: item.path, mode: 'write', id: item.id, ttl });
          else holds.push({ kind: tree.kind, path: item.path, mode: item.mode === 'w' ? 'write' : 'read', id: item.id, ttl, fence: item.fence, count: 1, acquiredAt: null });
        }
      } catch (err) {
        skipGone(err);
      }
    }),
  ]);

  for (const h of holds) h.acquiredAt = grantTime(h.fence, now);
  for (const x of [...holds, ...waiting]) x.owner = parseOwner(x.id);
  const order = (a: { kind: string; path: string }, b: { kind: string; path: string }) =>
    a.kind.localeCompare(b.kind) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  holds.sort((a, b) => order(a, b) || (a.mode === b.mode ? a.fence - b.fence : a.mode === 'write' ? -1 : 1));
  waiting.sort((a, b) => order(a, b) || (a.position ?? 0) - (b.position ?? 0));
  semaphores.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { now, prefix, path, holds, waiting, semaphores };
}
