import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import { PEER_RETRY_DELAY_MS, PEER_RETRY_JITTER_MS, type ContenderFactory, type Release } from './types.js';

/** The redlock v5 API shared by `redlock@5` and its fork `@sesamecare-oss/redlock`. */
interface RedlockV5Api {
  acquire(keys: string[], ttl: number): Promise<{ release(): Promise<unknown> }>;
  on(event: 'error', listener: () => void): unknown;
  quit?(): Promise<unknown>;
}

/**
 * A contender for a library with the redlock v5 API, on one ioredis client — single instance,
 * so a quorum of 1. Documented defaults (retryCount 10, retryDelay 200, retryJitter 100,
 * driftFactor 0.01) unless the scenario waits: then retryCount -1 (unlimited) and a
 * {@link PEER_RETRY_DELAY_MS} delay.
 */
export function redlockApiContender(name: string, pkg: string, make: (client: never, settings: object) => RedlockV5Api): ContenderFactory {
  return {
    name,
    driver: 'ioredis',
    raw: false,
    async create(url, mode) {
      const client = await openIoredis(url);
      const settings = mode.waiting ? { retryCount: -1, retryDelay: PEER_RETRY_DELAY_MS, retryJitter: PEER_RETRY_JITTER_MS } : {};
      // The libraries' types name ioredis 4's client; the API they call is the same on ioredis 5.
      const redlock = make(client as never, settings);
      redlock.on('error', () => undefined);
      return {
        settings: {
          package: pkg,
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
          await redlock.quit?.().catch(() => undefined);
          await closeIoredis(client);
        },
      };
    },
  };
}
