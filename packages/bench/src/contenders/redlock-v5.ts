// @ts-expect-error -- redlock 5.0.0-beta.2's "exports" map hides its .d.ts from NodeNext resolution (runtime import is fine)
import Redlock from 'redlock';
import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import { PEER_RETRY_DELAY_MS, PEER_RETRY_JITTER_MS, type ContenderFactory, type Release } from './types.js';

/**
 * `redlock@5.0.0-beta.2` (the v5 API) on one ioredis client — single instance, so a quorum
 * of 1. Documented defaults (retryCount 10, retryDelay 200, retryJitter 100, driftFactor 0.01)
 * unless the scenario waits: then retryCount -1 (unlimited) and a {@link PEER_RETRY_DELAY_MS} delay.
 */
export const redlockV5: ContenderFactory = {
  name: 'redlock v5',
  driver: 'ioredis',
  raw: false,
  async create(url, mode) {
    const client = await openIoredis(url);
    const settings = mode.waiting
      ? { retryCount: -1, retryDelay: PEER_RETRY_DELAY_MS, retryJitter: PEER_RETRY_JITTER_MS }
      : {};
    // redlock's types name ioredis 4's client; the API it calls is the same on ioredis 5.
    const redlock = new Redlock([client as never], settings);
    redlock.on('error', () => undefined);
    return {
      settings: {
        package: 'redlock@5.0.0-beta.2',
        instances: 1,
        ttl: mode.ttl,
        acquire: 'redlock.acquire([key], ttl)',
        retry: mode.waiting ? settings : 'defaults: retryCount 10, retryDelay 200, retryJitter 100, driftFactor 0.01',
        connection: IOREDIS_OPTIONS,
      },
      async acquire(key): Promise<Release> {
        const lock = await redlock.acquire([key], mode.ttl);
        return async () => {
          await lock.release();
        };
      },
      async close() {
        await closeIoredis(client);
      },
    };
  },
};
