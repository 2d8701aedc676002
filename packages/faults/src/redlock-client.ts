import { Redis } from 'ioredis';
import { createIoredisAdapter } from '@hilok/ioredis';
import { QuorumError, Redlock, RedisUnavailableError, type LockOptions, type RedlockLease } from '@hilok/redlock';
import { errorName, RecordingClient, type LockDriver } from './client.js';
import type { LockTarget } from './conflict.js';
import type { Recorder } from './recorder.js';

/** Options of one Redlock client of the suite. */
export interface RedlockClientOptions {
  ttl: number;
  instanceTimeout: number;
  /** Key prefix (default Redlock's own, `hilok:redlock:`). */
  prefix?: string;
  /** Slack added to every bound (default 1 000 ms). */
  slack?: number;
}

/** A recorded Redlock client (its own ioredis connection per instance, one attempt per acquire). */
export interface RedlockClient {
  client: RecordingClient<RedlockLease>;
  redlock: Redlock;
  close(): Promise<void>;
}

/** One Redlock over `urls` (own connections), wrapped in a {@link RecordingClient}. */
export function redlockClient(name: string, rec: Recorder, urls: readonly string[], o: RedlockClientOptions): RedlockClient {
  const slack = o.slack ?? 1_000;
  const adapters = urls.map((url) => {
    const r = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    r.on('error', () => undefined);
    return createIoredisAdapter(r, { ownsClient: true });
  });
  const redlock = new Redlock(adapters, { closeAdapters: true, ttl: o.ttl, instanceTimeout: o.instanceTimeout, retryCount: 0, ...(o.prefix === undefined ? {} : { prefix: o.prefix }) });
  const driver: LockDriver<RedlockLease> = {
    acquire: (t: LockTarget) => redlockAcquire(redlock, t),
    validUntil: (l) => l.validUntil,
    valid: (l) => l.valid,
    indeterminate: (err) => err instanceof RedisUnavailableError,
    causes: (err) => (err instanceof QuorumError ? err.failures.map((f) => `${f.index}:${errorName(f.error)}`).join(',') : undefined),
    // One attempt: the grants (≤ instanceTimeout) and, on failure, the clean-up release (≤ instanceTimeout).
    // Multi-path over n trees: one attempt per tree, the final renewal, and the give-back (docs/redlock.md).
    acquireBound: (t) => treesOf(t) * redlock.maxAcquireTime({ retryCount: 0 }) + (treesOf(t) > 1 ? o.instanceTimeout : 0) + slack,
    releaseBound: o.instanceTimeout + slack,
  };
  return { client: new RecordingClient(name, rec, driver), redlock, close: () => redlock.close() };
}


/** The trees a target's paths are in (1 unless a multi-path target spans several). */
function treesOf(t: LockTarget): number {
  return t.parts === undefined ? 1 : new Set(t.parts.map((p) => p.path.split('/')[0])).size;
}

/**
 * Take `target` on the quorum with its kind's call: `lock(name)`, `lock(names)` (multi-name),
 * `lockPaths(parts)` (multi-path),
 * `semaphore(name, { limit, permits })`, `read(path)` / `write(path)`.
 */
export function redlockAcquire(redlock: Redlock, t: LockTarget, options: LockOptions = {}): Promise<RedlockLease> {
  if (t.kind === 'semaphore') return redlock.semaphore(t.resource, { ...options, limit: t.limit ?? 1, permits: t.permits ?? 1 });
  if (t.kind === 'mutex') return redlock.lock(t.names ?? t.resource, options);
  if (t.parts !== undefined) return redlock.lockPaths(t.parts.map((p) => ({ path: p.path, mode: p.mode })), options);
  return t.mode === 'read' ? redlock.read(t.resource, options) : redlock.write(t.resource, options);
}
