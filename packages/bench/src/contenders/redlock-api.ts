import { IOREDIS_OPTIONS, closeIoredis, openIoredis } from '../connections.js';
import { PEER_RETRY_DELAY_MS, PEER_RETRY_JITTER_MS, retriesFor, type Contender, type ContenderFactory, type ContenderMode, type Release } from './types.js';

/** The redlock v5 API shared by `redlock@5` and its fork `@sesamecare-oss/redlock`. */
export interface RedlockV5Api {
  acquire(keys: string[], ttl: number): Promise<{ release(): Promise<unknown> }>;
  on(event: 'error', listener: () => void): unknown;
  quit?(): Promise<unknown>;
}

/**
 * A contender for a library with the redlock v5 API, on one ioredis client — single instance,
 * so a quorum of 1. Documented defaults (retryCount 10, retryDelay 200, retryJitter 100,
 * driftFactor 0.01) unless the scenario waits: then a {@link PEER_RETRY_DELAY_MS} delay and
 * retryCount -1 (unlimited), or enough retries to cover the scenario's acquire timeout.
 */
export function redlockApiContender(name: string, pkg: string, make: (clients: never[], settings: object) => RedlockV5Api): ContenderFactory {
  return {
    name,
    driver: 'ioredis',
    raw: false,
    kinds: ['multi'],
    create: (url, mode) => openRedlockApi([url], mode, pkg, make),
  };
}

/** One instance of a redlock-v5-API library over one ioredis client per url (a quorum of all of them). */
export async function openRedlockApi(urls: readonly string[], mode: ContenderMode, pkg: string, make: (clients: never[], settings: object) => RedlockV5Api): Promise<Contender> {
  const clients = await Promise.all(urls.map(openIoredis));
  const settings = mode.waiting ? { retryCount: retriesFor(mode), retryDelay: PEER_RETRY_DELAY_MS, retryJitter: PEER_RETRY_JITTER_MS } : {};
  // The libraries' types name ioredis 4's client; the API they call is the same on ioredis 5.
  const redlock = make(clients as never[], settings);
  redlock.on('error', () => undefined);
  return {
    settings: {
      package: pkg,
      instances: urls.length,
      ttl: mode.ttl,
      acquire: 'redlock.acquire([key], ttl); redlock.acquire([a, b], ttl) in the multi-name rows',
      retry: mode.waiting ? settings : 'defaults: retryCount 10, retryDelay 200, retryJitter 100, driftFactor 0.01',
      connection: IOREDIS_OPTIONS,
    },
    async acquire(key): Promise<Release> {
      const lock = await redlock.acquire([key], mode.ttl);
      return async () => {
        await lock.release();
      };
    },
    async acquireAll(keys): Promise<Release> {
      const lock = await redlock.acquire([...keys], mode.ttl);
      return async () => {
        await lock.release();
      };
    },
    async close() {
      await redlock.quit?.().catch(() => undefined);
      await Promise.all(clients.map(closeIoredis));
    },
  };
}
