import { conflicts, conflictGroup, type LockTarget } from './conflict.js';
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
  holds: HoldInterval[];
}

/** Options of {@link checkHistory}. */
export interface CheckOptions {
  /** HiLok path separator (default `/`). */
  separator?: string;
  /**
   * Lock-guarded counter: its final value, checked against the `write:ok` (must count) and
   * indeterminate `write:fail` (may count) events — no lost update, no phantom one.
   */
  counter?: { final: number };
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
 * - the lock-guarded counter lost no update: `ok ≤ final ≤ ok + indeterminate`.
 */
export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const separator = options.separator ?? '/';
  const holds = holdsOf(events);
  const violations: Violation[] = [];

  const groups = new Map<string, HoldInterval[]>();
  for (const h of holds) {
    const g = conflictGroup(h, separator);
    let list = groups.get(g);
    if (!list) groups.set(g, (list = []));
    list.push(h);
  }
  for (const list of groups.values()) {
    list.sort((a, b) => a.grantedAt - b.grantedAt);
    // Sweep: holds still believed held when the next one is granted.
    const active: HoldInterval[] = [];
    // Fence order: per earlier conflicting hold; O(n · conflicting predecessors).
    for (let i = 0; i < list.length; i++) {
      const b = list[i] as HoldInterval;
      for (let j = active.length - 1; j >= 0; j--) if ((active[j] as HoldInterval).endAt <= b.grantedAt) active.splice(j, 1);
      for (const a of active) {
        if (conflicts(a, b, separator)) {
          violations.push({ rule: 'overlap', detail: `${describe(a)} still held when ${describe(b)} was granted` });
        }
      }
      active.push(b);
      for (let j = i - 1; j >= 0; j--) {
        const a = list[j] as HoldInterval;
        if (!conflicts(a, b, separator)) continue;
        if (!(a.fence < b.fence)) violations.push({ rule: 'fence-order', detail: `${describe(b)} granted after ${describe(a)} has fence ${b.fence} ≤ ${a.fence}` });
        if (a.kind === 'mutex') break; // mutex fences are checked pairwise along the chain
      }
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

  if (options.counter) {
    const ok = events.filter((e) => e.type === 'write:ok').length;
    const maybe = events.filter((e) => e.type === 'write:fail' && e.indeterminate).length;
    const final = options.counter.final;
    if (final < ok || final > ok + maybe) {
      violations.push({ rule: 'lost-update', detail: `counter is ${final}; ${ok} increments succeeded and ${maybe} may have` });
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
    holds,
  };
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
