import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createIoredisAdapter } from '@hilok/ioredis';
import { mutexKeys, scripts, soleHoldValue } from '@hilok/core/internal';
import { Redlock } from '@hilok/redlock';
import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import { COMPARE_AND_DELETE, RawBusyError } from './raw.js';
import { openRedlockApi } from './redlock-api.js';
import { REDLOCK_V5_PACKAGE, makeRedlockV5 } from './redlock-v5.js';
import { redlockUniversalQuorum } from './redlock-universal.js';
import { SESAME_PACKAGE, makeSesameRedlock } from './sesame-redlock.js';
import type { Contender, ContenderMode, Release } from './types.js';

/** A contender of the Redlock scenario: one instance spans every url (one ioredis client each). */
export interface QuorumContenderFactory {
  readonly name: string;
  /** The raw parallel limit (no library). */
  readonly raw: boolean;
  /**
   * A probe, not a library: hilok's own scripts in the raw parallel pattern, without hilok's
   * JavaScript. Measured with 1 task only, where it splits hilok's gap to the raw limit into
   * the scripts' share and the library's.
   */
  readonly probe?: boolean;
  create(urls: readonly string[], mode: ContenderMode): Promise<Contender>;
}

/**
 * The raw parallel limit over N instances: `SET key token NX PX ttl` sent to every instance at
 * once, held as soon as a majority said OK (no validity arithmetic, no retry), then the
 * `EVALSHA` compare-and-delete sent to every instance at once, done as soon as a majority
 * answered — the least any Redlock must wait for. The other instances' replies are not awaited.
 */
export const rawParallel: QuorumContenderFactory = {
  name: 'raw parallel (ioredis)',
  raw: true,
  async create(urls, mode) {
    const clients = await Promise.all(urls.map(openIoredis));
    const shas = await Promise.all(clients.map(async (c) => String(await c.script('LOAD', COMPARE_AND_DELETE))));
    return {
      settings: {
        acquire: 'SET key token NX PX ttl on every instance in parallel; held once a majority said OK',
        release: 'EVALSHA compare-and-delete on every instance in parallel; done once a majority answered',
        instances: urls.length,
        ttl: mode.ttl,
        connection: IOREDIS_OPTIONS,
      },
      ...parallelPattern(
        clients,
        (c, _i, key, token) => c.set(key, token, 'PX', mode.ttl, 'NX'),
        (reply) => reply === 'OK',
        (c, i, key, token) => c.evalsha(shas[i] as string, 1, key, token),
      ),
    };
  },
};

/**
 * The acquire and close of a contender in the raw parallel pattern over `clients`, one per
 * instance: `grant` on every instance at once, held as soon as a majority of replies passed
 * `granted`; `free` on every instance at once, done as soon as a majority answered — also to
 * undo a failed acquire. `free` gets the instance's grant reply once it has arrived.
 */
function parallelPattern<G>(
  clients: readonly Redis[],
  grant: (client: Redis, instance: number, key: string, token: string) => Promise<G>,
  granted: (reply: G) => boolean,
  free: (client: Redis, instance: number, key: string, token: string, reply: G | undefined) => Promise<unknown>,
): Pick<Contender, 'acquire' | 'close'> {
  return {
    async acquire(key): Promise<Release> {
      const token = randomUUID();
      const replies: (G | undefined)[] = [];
      const held = await majority(clients.map((c, i) => grant(c, i, key, token)), granted, replies);
      const release = async () => {
        await majority(clients.map((c, i) => free(c, i, key, token, replies[i])), () => true);
      };
      if (!held) {
        await release();
        throw new RawBusyError(key);
      }
      return release;
    },
    close: async () => {
      await Promise.all(clients.map(closeIoredis));
    },
  };
}

/**
 * Resolves `true` once a majority of `replies` passed `ok`, `false` once that is out of reach
 * (a failed reply counts against). Each reply that arrives is also stored in `kept`, if given.
 */
function majority<T>(replies: readonly Promise<T>[], ok: (reply: T) => boolean, kept?: (T | undefined)[]): Promise<boolean> {
  const needed = Math.floor(replies.length / 2) + 1;
  return new Promise((resolve) => {
    let yes = 0;
    let no = 0;
    const count = (passed: boolean) => {
      if (passed) yes++;
      else no++;
      if (yes === needed) resolve(true);
      else if (replies.length - no < needed) resolve(false);
    };
    replies.forEach((r, i) =>
      r.then(
        (reply) => {
          if (kept) kept[i] = reply;
          count(ok(reply));
        },
        () => count(false),
      ),
    );
  });
}

/**
 * A probe ({@link QuorumContenderFactory.probe}): the raw parallel pattern — every instance at
 * once, done at a majority — with hilok's mutex acquire and release scripts instead of `SET NX`
 * and the compare-and-delete: each instance answers its own fence, and is released by the exact
 * value it stored, as in hilok's Redlock. No validity arithmetic, no retry, no lease.
 */
export const hilokScriptsQuorum: QuorumContenderFactory = {
  name: "hilok's scripts only (raw parallel)",
  raw: false,
  probe: true,
  async create(urls, mode) {
    const clients = await Promise.all(urls.map(openIoredis));
    const load = (source: string) => Promise.all(clients.map(async (c) => String(await c.script('LOAD', source))));
    const [acquireShas, releaseShas] = await Promise.all([load(scripts.mutexAcquire.source), load(scripts.mutexRelease.source)]);
    return {
      settings: {
        acquire: 'EVALSHA mutex/acquire.lua on every instance in parallel; held once a majority granted',
        release: 'EVALSHA mutex/release.lua (owner + the exact stored value) on every instance in parallel; done once a majority answered',
        keys: 'hilok:mutex:{key} and its queue hilok:mutex:{key}:q',
        instances: urls.length,
        ttl: mode.ttl,
        connection: IOREDIS_OPTIONS,
      },
      ...parallelPattern(
        clients,
        (c, i, name, token) => c.evalsha(acquireShas[i] as string, 2, ...probeKeys(name), token, mode.ttl, '').then((reply: unknown) => Number((reply as unknown[])[0])),
        (fence) => fence > 0,
        (c, i, name, token, fence) => c.evalsha(releaseShas[i] as string, 2, ...probeKeys(name), token, fence && fence > 0 ? soleHoldValue(fence, token) : ''),
      ),
    };
  },
};

/** hilok's keys of the mutex `name` (the default prefix): the lock and its hand-off queue. */
const probeKeys = (name: string): [string, string] => mutexKeys('hilok:', name);

/** `@hilok/redlock` over one `@hilok/ioredis` adapter per instance, its defaults apart from the ttl. */
export const hilokRedlock: QuorumContenderFactory = {
  name: 'hilok redlock (ioredis)',
  raw: false,
  async create(urls, mode) {
    const clients = await Promise.all(urls.map(openIoredis));
    const redlock = new Redlock(
      clients.map((c) => createIoredisAdapter(c)),
      { ttl: mode.ttl, closeAdapters: true },
    );
    return {
      settings: { package: '@hilok/redlock', instances: urls.length, ttl: mode.ttl, acquire: 'redlock.lock(key)', options: 'defaults (instanceTimeout 500, retryCount 3, driftFactor 0.01)', connection: IOREDIS_OPTIONS },
      async acquire(key): Promise<Release> {
        const lease = await redlock.lock(key);
        return async () => {
          await lease.release();
        };
      },
      async close() {
        await redlock.close();
        await Promise.all(clients.map(closeIoredis));
      },
    };
  },
};

/** `redlock` v5 over the same instances. */
export const redlockV5Quorum: QuorumContenderFactory = {
  name: 'redlock v5',
  raw: false,
  create: (urls, mode) => openRedlockApi(urls, mode, REDLOCK_V5_PACKAGE, makeRedlockV5),
};

/** `@sesamecare-oss/redlock` over the same instances. */
export const sesameRedlockQuorum: QuorumContenderFactory = {
  name: '@sesamecare-oss/redlock',
  raw: false,
  create: (urls, mode) => openRedlockApi(urls, mode, SESAME_PACKAGE, makeSesameRedlock),
};

/** Every contender of the Redlock scenario, the raw parallel limit first. */
export const QUORUM_CONTENDERS: readonly QuorumContenderFactory[] = [rawParallel, hilokRedlock, hilokScriptsQuorum, redlockV5Quorum, sesameRedlockQuorum, redlockUniversalQuorum];
