import { targetFields, type LockTarget } from './conflict.js';
import { now, toEpoch, type Recorder } from './recorder.js';
import type { SharedCounter } from './resource.js';

/** What the recorder needs to know of any lease (core `Lease`, `RedlockLease`). */
export interface AnyLease {
  readonly fence: number;
  readonly signal: AbortSignal;
  release(): Promise<boolean>;
}

/** A recorded hold of a {@link RecordingClient}. */
export interface RecordedHold<L extends AnyLease = AnyLease> {
  lease: L;
  hold: string;
  target: LockTarget;
}

/** How a {@link RecordingClient} talks to one lock implementation. */
export interface LockDriver<L extends AnyLease> {
  /** Take `target`; rejects when busy / unavailable. */
  acquire(target: LockTarget): Promise<L>;
  /** Validity end of a lease on this process's monotonic clock (`performance.now()` scale). */
  validUntil(lease: L): number;
  /** Whether the client may still act on the lease. */
  valid(lease: L): boolean;
  /** Whether a failed acquire may have taken effect (a timeout, an unreachable server). */
  indeterminate(err: unknown): boolean;
  /** Per-instance causes of a failed acquire, for the history (`<index>:<error class>,…`), if the implementation has any. */
  causes?(err: unknown): string | undefined;
  /** Bound of one acquire call (generous: the call's own limits + slack); per target where it depends on it. */
  acquireBound: number | ((target: LockTarget) => number);
  /** Bound of one release call. */
  releaseBound: number;
}

/**
 * A lock client recording every call in the checker's format (like {@link Actor}, for any lock
 * implementation: Redlock, the cluster lock kinds). Never throws from acquire / release.
 */
export class RecordingClient<L extends AnyLease> {
  /** Acquire calls that ended, with their durations (ms). */
  readonly acquireDurations: { ok: boolean; ms: number; code: string }[] = [];

  constructor(
    readonly name: string,
    readonly rec: Recorder,
    readonly driver: LockDriver<L>,
  ) {}

  /** Acquire once; the hold, or `null` (busy, unavailable, indeterminate — recorded). */
  async acquire(target: LockTarget): Promise<RecordedHold<L> | null> {
    const hold = this.rec.nextHold();
    const startedAt = now();
    const base = { client: this.name, hold, ...targetFields(target) };
    this.rec.record({ ...base, type: 'acquire:invoke' });
    try {
      const lease = await this.driver.acquire(target);
      recordGrant(this.rec, base, lease, toEpoch(this.driver.validUntil(lease)));
      this.acquireDurations.push({ ok: true, ms: now() - startedAt, code: 'ok' });
      return { lease, hold, target };
    } catch (err) {
      const code = (err as { code?: string }).code ?? String(err);
      this.acquireDurations.push({ ok: false, ms: now() - startedAt, code: errorName(err) });
      const causes = this.driver.causes?.(err);
      const detail = `${errorName(err)}:${code}:${causes === undefined ? '' : `causes=${causes}:`}${String((err as Error)?.message ?? '').slice(0, 160)}`;
      this.rec.record({ ...base, type: 'acquire:fail', indeterminate: this.driver.indeterminate(err), detail });
      return null;
    } finally {
      const bound = this.driver.acquireBound;
      this.rec.record({ client: this.name, type: 'call', detail: `acquire ${target.kind} ${target.resource}`, startedAt, bound: typeof bound === 'number' ? bound : bound(target) });
    }
  }

  /** Release (recorded at the call: the client stops acting here; its validity then is kept for the figures). */
  release(h: RecordedHold<L>): Promise<boolean | null> {
    return recordRelease(this.rec, this.name, h.hold, h.lease, this.driver.validUntil(h.lease), this.driver.releaseBound);
  }


  /** Read-modify-write of `counter` under the hold (see {@link rmwIncrement}). */
  increment(h: RecordedHold<L>, counter: Pick<SharedCounter, 'read' | 'write'> & { key?: string }, gapMs = 3): Promise<boolean> {
    return rmwIncrement(this.rec, this.name, h.hold, h.lease.fence, () => this.driver.valid(h.lease), counter, gapMs);
  }
}

/** The error's class name (`QuorumError`, `LockBusyError` …). */
export function errorName(err: unknown): string {
  return (err as { constructor?: { name?: string } })?.constructor?.name ?? typeof err;
}

/**
 * Record a grant the way the user's program sees it: `acquire:ok` (fence, validity for the
 * figures) — with `abortedAtGrant` if the lease's signal had already aborted when the acquire
 * resolved (a late reply: the program's first look says "lost", it never acts) — and a `lost`
 * event when the signal aborts later. Reading `lease.signal` also arms the lease's expiry timer,
 * as it does in a program that watches its signal.
 */
export function recordGrant(rec: Recorder, base: { client: string; hold: string } & ReturnType<typeof targetFields>, lease: { readonly fence: number; readonly signal: AbortSignal }, validUntil: number | undefined): void {
  const signal = lease.signal;
  const abortedAtGrant = signal.aborted;
  rec.record({ ...base, type: 'acquire:ok', fence: lease.fence, ...(validUntil === undefined ? {} : { validUntil }), ...(abortedAtGrant ? { abortedAtGrant } : {}) });
  if (abortedAtGrant) return;
  signal.addEventListener('abort', () => rec.record({ ...base, type: 'lost', detail: String((signal.reason as Error)?.message) }), { once: true });
}

/**
 * Release `lease` and record it: the invoke (with the validity the client had when it stopped
 * acting on the lock), the outcome, and the call with its bound. Never throws; resolves with
 * `release()`'s result or `null` on failure.
 */
export async function recordRelease(
  rec: Recorder,
  client: string,
  hold: string,
  lease: { release(): Promise<boolean> },
  validUntil: number,
  bound: number,
): Promise<boolean | null> {
  const startedAt = now();
  rec.record({ client, hold, type: 'release:invoke', validUntil: toEpoch(validUntil) });
  try {
    const removed = await lease.release();
    rec.record({ client, hold, type: 'release:ok', detail: String(removed) });
    return removed;
  } catch (err) {
    rec.record({ client, hold, type: 'release:fail', detail: (err as { code?: string }).code ?? String(err) });
    return null;
  } finally {
    rec.record({ client, type: 'call', detail: 'release', startedAt, bound });
  }
}

/**
 * Read-modify-write under a hold: `read()`, a random gap of up to `gapMs`, then `write(read +
 * 1)` — only while `valid()` (a client that knows its lease ran out must not act). Records
 * `write:ok` (tagged with the counter's key, if it has one); a write that failed is recorded
 * as indeterminate (it may have landed). Never throws.
 */
export async function rmwIncrement(
  rec: Recorder,
  client: string,
  hold: string,
  fence: number,
  valid: () => boolean,
  counter: Pick<SharedCounter, 'read' | 'write'> & { key?: string },
  gapMs = 3,
): Promise<boolean> {
  if (!valid()) return false;
  let v: number;
  try {
    v = await counter.read();
  } catch {
    return false;
  }
  if (gapMs > 0) await new Promise((r) => setTimeout(r, Math.random() * gapMs));
  if (!valid()) return false;
  try {
    await counter.write(v + 1);
    rec.record({ client, hold, type: 'write:ok', fence, value: v + 1, counter: counter.key });
    return true;
  } catch (err) {
    rec.record({ client, hold, type: 'write:fail', indeterminate: true, detail: String(err), counter: counter.key });
    return false;
  }
}
