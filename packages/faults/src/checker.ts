import { conflicts, conflictGroup, isAncestor, type LockTarget } from './conflict.js';
import type { HistoryEvent } from './recorder.js';

/** A hold reconstructed from a history: when the client learnt it held the lock and when it stopped believing so. */
export interface HoldInterval extends LockTarget {
  hold: string;
  client: string;
  fence: number;
  /** When the acquire resolved (the client learnt it holds). */
  grantedAt: number;
  /**
   * When the client stopped being entitled to act: the earliest of its release call, its
   * lease validity on its own clock (as last extended), and its loss signal.
   */
  endAt: number;
}

/** One violation found by {@link checkHistory}. */
export interface Violation {
  rule: 'overlap' | 'fence-order' | 'lost-update' | 'bound' | 'keys-left' | 'stale-write-accepted';
  detail: string;
}

/** What {@link checkHistory} found. */
export interface CheckResult {
  /** Holds checked (successful acquisitions). */
  acquisitions: number;
  /** Acquires whose outcome is unknown (timeouts): counted as "may have happened". */
  indeterminate: number;
  /** Calls checked against their bound. */
  calls: number;
  violations: Violation[];
  /**
   * Overlaps between a hold granted before a loss point and one granted after it: out of the
   * model (Redis lost its state), so reported here and not as violations.
   */
  outOfModelOverlaps: number;
  holds: HoldInterval[];
}

/** Options of {@link checkHistory}. */
export interface CheckOptions {
  /** HiLok path separator (default `/`). */
  separator?: string;
  /**
   * The scenario's own lock-guarded counter: its final value, checked against the untagged
   * `write:ok` (must count) and indeterminate `write:fail` (may count) events — no lost update,
   * no phantom one.
   */
  counter?: { final: number };
  /** Shared counters by key: each final value checked against the `write:*` events tagged with that key. */
  counters?: Record<string, number>;
  /**
   * Times at which the lock server lost its state (a restart without persistence). Holds
   * granted on opposite sides of one are not checked for overlap (out of the single-instance
   * model; counted in `outOfModelOverlaps`), and a counter may have lost the increments made
   * under holds that were live across one.
   */
  lossPoints?: readonly number[];
}
/** Rebuild the holds of a history. Holds whose acquire never resolved are not holds. */
export function holdsOf(events: readonly HistoryEvent[]): HoldInterval[] {
  const byHold = new Map<string, HoldInterval>();
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (!e.hold) continue;
    if (e.type === 'acquire:ok') {
      byHold.set(e.hold, {
        hold: e.hold,
        client: e.client,
        kind: e.kind ?? 'mutex',
        resource: e.resource ?? '',
        mode: e.mode ?? 'write',
        fence: e.fence ?? NaN,
        grantedAt: e.t,
        endAt: e.validUntil ?? Infinity,
      });
      continue;
    }
    const h = byHold.get(e.hold);
    if (!h) continue;
    if (e.type === 'extend:ok' && e.validUntil !== undefined && h.endAt >= e.t) h.endAt = Math.max(h.endAt, e.validUntil);
    if (e.type === 'release:invoke' || e.type === 'lost') h.endAt = Math.min(h.endAt, e.t, e.validUntil ?? Infinity);
  }
  return [...byHold.values()];
}

/**
 * Check a merged history:
 * - no two conflicting holds overlap (per the kind's conflict rule);
 * - fencing tokens strictly increase in grant order for conflicting holds;
 * - every `call` event ended within its bound;
 * - no lock-guarded counter lost an update: `ok ≤ final ≤ ok + indeterminate`.
 *
 * Holds whose validity had ended by the time the client learnt of the grant (`endAt ≤
 * grantedAt`: the reply came after the lease's ttl) are counted but never acted on, so they
 * take part in neither the overlap nor the fence check.
 */
export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const separator = options.separator ?? '/';
  const holds = holdsOf(events);
  const violations: Violation[] = [];
  const losses = [...(options.lossPoints ?? [])].sort((a, b) => a - b);
  const epochOf = (t: number) => losses.filter((l) => l <= t).length;
  let outOfModelOverlaps = 0;

  const groups = new Map<string, HoldInterval[]>();
  for (const h of holds) {
    if (h.endAt <= h.grantedAt) continue;
    const g = conflictGroup(h, separator);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(h);
  }
  for (const list of groups.values()) {
    list.sort((a, b) => a.grantedAt - b.grantedAt);
    // Sweep: holds still believed held when the next one is granted.
    const active: HoldInterval[] = [];
    const fences = new FenceIndex(separator);
    for (const b of list) {
      for (let j = active.length - 1; j >= 0; j--) if ((active[j] as HoldInterval).endAt <= b.grantedAt) active.splice(j, 1);
      for (const a of active) {
        if (!conflicts(a, b, separator)) continue;
        if (epochOf(a.grantedAt) !== epochOf(b.grantedAt)) outOfModelOverlaps++;
        else violations.push({ rule: 'overlap', detail: `${describe(a)} still held when ${describe(b)} was granted` });
      }
      active.push(b);
      const a = fences.latestConflicting(b);
      if (a && !(a.fence < b.fence)) violations.push({ rule: 'fence-order', detail: `${describe(b)} granted after ${describe(a)} has fence ${b.fence} ≤ ${a.fence}` });
      fences.add(b);
    }
  }

  let calls = 0;
  for (const e of events) {
    if (e.type !== 'call' || e.startedAt === undefined || e.bound === undefined) continue;
    calls++;
    if (e.t - e.startedAt > e.bound) {
      violations.push({ rule: 'bound', detail: `${e.client} ${e.detail ?? 'call'} took ${Math.round(e.t - e.startedAt)} ms > bound ${e.bound} ms` });
    }
  }

  const finals = new Map<string | undefined, number>(Object.entries(options.counters ?? {}));
  if (options.counter) finals.set(undefined, options.counter.final);
  const straddling = new Set(holds.filter((h) => losses.some((l) => h.grantedAt < l && h.endAt > l)).map((h) => h.hold));
  for (const [key, final] of finals) {
    const writes = events.filter((e) => e.counter === key);
    const ok = writes.filter((e) => e.type === 'write:ok').length;
    const maybe = writes.filter((e) => e.type === 'write:fail' && e.indeterminate).length;
    const mayBeLost = writes.filter((e) => e.type === 'write:ok' && e.hold !== undefined && straddling.has(e.hold)).length;
    if (final < ok - mayBeLost || final > ok + maybe) {
      const lost = mayBeLost > 0 ? ` (${mayBeLost} of them under holds live across a loss point)` : '';
      violations.push({ rule: 'lost-update', detail: `counter ${key ?? '(scenario)'} is ${final}; ${ok} increments succeeded${lost} and ${maybe} may have` });
    }
  }

  for (const e of events) {
    if (e.type === 'write:ok' && e.detail === 'stale') violations.push({ rule: 'stale-write-accepted', detail: `${e.client} fence ${e.fence}` });
  }

  return {
    acquisitions: holds.length,
    indeterminate: events.filter((e) => e.type === 'acquire:fail' && e.indeterminate).length,
    calls,
    violations,
    outOfModelOverlaps,
    holds,
  };
}

/**
 * The fence-order check's memory of one conflict group, so each hold is compared with the
 * latest conflicting one in O(paths): mutex — the previous hold of the name (fences along the
 * chain); HiLok — per path, the earlier read and write with the largest fence.
 */
class FenceIndex {
  private last: HoldInterval | undefined;
  private readonly byPath = new Map<string, { read?: HoldInterval; write?: HoldInterval }>();

  constructor(private readonly separator: string) {}

  /** The earlier conflicting hold with the largest fence (the one `b` must exceed). */
  latestConflicting(b: HoldInterval): HoldInterval | undefined {
    if (b.kind === 'mutex') return this.last;
    let best: HoldInterval | undefined;
    for (const [path, at] of this.byPath) {
      if (path !== b.resource && !isAncestor(path, b.resource, this.separator) && !isAncestor(b.resource, path, this.separator)) continue;
      for (const a of b.mode === 'write' ? [at.read, at.write] : [at.write]) if (a && (!best || a.fence > best.fence)) best = a;
    }
    return best;
  }

  add(h: HoldInterval): void {
    if (h.kind === 'mutex') {
      this.last = h;
      return;
    }
    let at = this.byPath.get(h.resource);
    if (!at) this.byPath.set(h.resource, (at = {}));
    const prev = h.mode === 'read' ? at.read : at.write;
    if (!prev || h.fence > prev.fence) at[h.mode] = h;
  }
}

function describe(h: HoldInterval): string {
  return `${h.client} ${h.kind} ${h.mode} "${h.resource}" (fence ${h.fence}, ${h.hold})`;
}

/** Throw with every violation listed (and the history size) if the result has any. */
export function assertClean(result: CheckResult, label: string): void {
  if (result.violations.length === 0) return;
  const lines = result.violations.slice(0, 20).map((v) => `  [${v.rule}] ${v.detail}`);
  throw new Error(`${label}: ${result.violations.length} violation(s) in ${result.acquisitions} acquisitions\n${lines.join('\n')}`);
}
