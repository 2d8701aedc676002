/**
 * The pieces the metrics recipes (examples/opentelemetry.ts, examples/prometheus.ts) share:
 * the low-cardinality attributes of a lock event and the count of leases held right now.
 * Copy this file along with the recipe you use.
 */
import type { AcquireEvent, LostEvent, ReleaseEvent } from '@hilok/core';

/** Turns a lock name or path into the low-cardinality `prefix` attribute of every metric. */
export type PrefixOf = (resource: string) => string;

/**
 * The default {@link PrefixOf}: the part of the name before its first `:` or `/`
 * (`invoice:42` → `invoice`, `shop/catalog/item-1` → `shop`). A name with neither is reported
 * as `(none)`, never as itself: full names (ids, paths) would make one time series per lock.
 */
export const namePrefix: PrefixOf = (resource) => {
  const cut = resource.search(/[:/]/);
  return cut > 0 ? resource.slice(0, cut) : '(none)';
};

/** Why an acquire failed, as the low-cardinality `reason` attribute. */
export type FailureReason = 'timeout' | 'busy' | 'aborted' | 'redis_unavailable' | 'closed' | 'error';

/**
 * The reason of a `hilok:acquire-failed` event: `timeout` (the wait deadline passed), `busy`
 * (a non-blocking attempt found it held), `aborted` (the caller's signal), `redis_unavailable`,
 * `closed` (the manager was closed), else `error`.
 */
export function failureReason(error: unknown): FailureReason {
  const e = error as { code?: string; reason?: string; name?: string } | undefined;
  if (e?.code === 'LOCK_BUSY') return e.reason === 'held' ? 'busy' : 'timeout';
  if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR') return 'aborted';
  if (e?.code === 'REDIS_UNAVAILABLE') return 'redis_unavailable';
  if (e?.code === 'CLOSED') return 'closed';
  return 'error';
}

/** The attributes of every metric: the lock kind, the name prefix, and the mode where there is one. */
export function lockAttributes(e: { kind: string; resource: string; detail?: Record<string, unknown> }, prefixOf: PrefixOf): Record<string, string> {
  return { kind: e.kind, prefix: prefixOf(e.resource), ...(e.detail?.mode ? { mode: String(e.detail.mode) } : {}) };
}

/**
 * Leases held right now by this process, from the acquire / release / lost events: `change`
 * is called with +1 when a lease is granted and -1 when it ends (released, or found lost —
 * once, even if a lost lease is released afterwards). A reentrant re-entry counts once.
 */
export class HoldTracker {
  private readonly live = new Map<string, { count: number; attributes: Record<string, string> }>();

  /** @param change - add `delta` (+1 / -1) to the gauge for `attributes` */
  constructor(private readonly change: (delta: number, attributes: Record<string, string>) => void) {}

  private static key(e: { kind: string; resource: string; fence: number }): string {
    return `${e.kind}\0${e.resource}\0${e.fence}`;
  }

  /** A `hilok:acquire` event. */
  acquired(e: AcquireEvent, attributes: Record<string, string>): void {
    const key = HoldTracker.key(e);
    const entry = this.live.get(key);
    if (entry) entry.count++;
    else {
      this.live.set(key, { count: 1, attributes });
      this.change(1, attributes);
    }
  }

  /** A `hilok:release` event. */
  released(e: ReleaseEvent): void {
    const key = HoldTracker.key(e);
    const entry = this.live.get(key);
    if (!entry) return;
    if (--entry.count > 0) return;
    this.live.delete(key);
    this.change(-1, entry.attributes);
  }

  /** A `hilok:lost` event. */
  lost(e: LostEvent): void {
    const key = HoldTracker.key(e);
    const entry = this.live.get(key);
    if (!entry) return;
    this.live.delete(key);
    this.change(-1, entry.attributes);
  }

  /** How many leases are held now. */
  get size(): number {
    return this.live.size;
  }
}
