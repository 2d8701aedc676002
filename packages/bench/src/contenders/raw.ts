import { randomUUID } from 'node:crypto';
import { TimeUnit } from '@valkey/valkey-glide';
import { mutexKeys, scripts, soleHoldValue } from '@hilok/core/internal';
import { GLIDE_OPTIONS, IOREDIS_OPTIONS, NODE_REDIS_OPTIONS, closeGlide, closeIoredis, closeNodeRedis, openGlide, openIoredis, openNodeRedis } from '../connections.js';
import type { ContenderFactory, Release } from './types.js';

/** The compare-and-delete every raw contender releases with (via EVALSHA). */
export const COMPARE_AND_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** Raised by a raw contender when the key is taken: the raw limit never waits. */
export class RawBusyError extends Error {
  constructor(key: string) {
    super(`raw: ${key} is held (the raw limit does not wait)`);
  }
}

/**
 * The raw limit on ioredis: `SET key token NX PX ttl` to acquire, `EVALSHA` of
 * {@link COMPARE_AND_DELETE} to release, a random UUID token — no library.
 */
export const rawIoredis: ContenderFactory = {
  name: 'raw (ioredis)',
  driver: 'ioredis',
  raw: true,
  async create(url, mode) {
    const client = await openIoredis(url);
    const sha = String(await client.script('LOAD', COMPARE_AND_DELETE));
    return {
      settings: { acquire: 'SET key token NX PX ttl', release: 'EVALSHA compare-and-delete', token: 'randomUUID()', ttl: mode.ttl, waits: false, connection: IOREDIS_OPTIONS },
      async acquire(key): Promise<Release> {
        const token = randomUUID();
        if ((await client.set(key, token, 'PX', mode.ttl, 'NX')) !== 'OK') throw new RawBusyError(key);
        return async () => {
          await client.evalsha(sha, 1, key, token);
        };
      },
      close: () => closeIoredis(client),
    };
  },
};

/** The raw limit on node-redis: the same two commands as {@link rawIoredis}, through `redis` 5. */
export const rawNodeRedis: ContenderFactory = {
  name: 'raw (node-redis)',
  driver: 'node-redis',
  raw: true,
  async create(url, mode) {
    const client = await openNodeRedis(url);
    const sha = await client.scriptLoad(COMPARE_AND_DELETE);
    return {
      settings: { acquire: 'SET key token NX PX ttl', release: 'EVALSHA compare-and-delete', token: 'randomUUID()', ttl: mode.ttl, waits: false, connection: NODE_REDIS_OPTIONS },
      async acquire(key): Promise<Release> {
        const token = randomUUID();
        const reply = await client.set(key, token, { condition: 'NX', expiration: { type: 'PX', value: mode.ttl } });
        if (reply !== 'OK') throw new RawBusyError(key);
        return async () => {
          await client.evalSha(sha, { keys: [key], arguments: [token] });
        };
      },
      close: () => closeNodeRedis(client),
    };
  },
};

/**
 * The raw limit on Valkey GLIDE: the same two commands as {@link rawIoredis}, through
 * `@valkey/valkey-glide` (`set` with NX and PX, `customCommand` EVALSHA).
 */
export const rawGlide: ContenderFactory = {
  name: 'raw (valkey-glide)',
  driver: 'valkey-glide',
  raw: true,
  async create(url, mode) {
    const client = await openGlide(url);
    const sha = String(await client.customCommand(['SCRIPT', 'LOAD', COMPARE_AND_DELETE]));
    return {
      settings: { acquire: 'SET key token NX PX ttl', release: 'EVALSHA compare-and-delete', token: 'randomUUID()', ttl: mode.ttl, waits: false, connection: GLIDE_OPTIONS },
      async acquire(key): Promise<Release> {
        const token = randomUUID();
        const reply = await client.set(key, token, { conditionalSet: 'onlyIfDoesNotExist', expiry: { type: TimeUnit.Milliseconds, count: mode.ttl } });
        if (reply !== 'OK') throw new RawBusyError(key);
        return async () => {
          await client.customCommand(['EVALSHA', sha, '1', key, token]);
        };
      },
      close: () => closeGlide(client),
    };
  },
};

/**
 * A probe, not a library ({@link ContenderFactory.probe}): hilok's mutex acquire and release
 * scripts through EVALSHA on ioredis, with a random UUID token and hilok's key layout, and none
 * of hilok's JavaScript (no lease, no batching, no deadlines).
 */
export const hilokScriptsIoredis: ContenderFactory = {
  name: "hilok's scripts only (ioredis)",
  driver: 'ioredis',
  raw: false,
  probe: true,
  async create(url, mode) {
    const client = await openIoredis(url);
    const load = async (source: string) => String(await client.script('LOAD', source));
    const acquireSha = await load(scripts.mutexAcquire.source);
    const releaseSha = await load(scripts.mutexRelease.source);
    return {
      settings: { acquire: 'EVALSHA mutex/acquire.lua (no flags)', release: 'EVALSHA mutex/release.lua (owner + expected value)', token: 'randomUUID()', keys: 'hilok:mutex:{key} and its queue hilok:mutex:{key}:q', ttl: mode.ttl, waits: false, connection: IOREDIS_OPTIONS },
      async acquire(name): Promise<Release> {
        const [key, queue] = mutexKeys('hilok:', name);
        const token = randomUUID();
        const [fence] = (await client.evalsha(acquireSha, 2, key, queue, token, mode.ttl, '')) as number[];
        if (!(Number(fence) > 0)) throw new RawBusyError(key);
        return async () => {
          await client.evalsha(releaseSha, 2, key, queue, token, soleHoldValue(Number(fence), token));
        };
      },
      close: () => closeIoredis(client),
    };
  },
};
