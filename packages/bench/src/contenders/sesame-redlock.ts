import { Redlock } from '@sesamecare-oss/redlock';
import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import { PEER_RETRY_DELAY_MS, PEER_RETRY_JITTER_MS, type ContenderFactory, type Release } from './types.js';

const VERSION = '1.4.0';

/**
 * `@sesamecare-oss/redlock` (the maintained fork of redlock v5) on one ioredis client — single instance, so a quorum
 * of 1. Documented defaults (retryCount 10, retryDelay 200, retryJitter 100, driftFactor 0.01)
 * unless the scenario waits: then retryCount -1 (unlimited) and a {@link PEER_RETRY_DELAY_MS} delay.
 */
export const sesameRedlock: ContenderFactory = {
  name: '@sesamecare-oss/redlock',
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
        package: '@sesamecare-oss/redlock@' + VERSION,
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
        await redlock.quit().catch(() => undefined);
        await closeIoredis(client);
      },
    };
  },
};
