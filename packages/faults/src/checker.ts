import { conflicts, conflictGroups, isAncestor, partsOf, type LockTarget, type PathPart } from './conflict.js';
import type { HistoryEvent } from './recorder.js';

/**
 * A hold reconstructed from a history, as the user's program sees it: from the moment its
 * acquire resolved until it released or its signal aborted, whichever came first.
 */
export interface HoldInterval extends LockTarget {
  hold: string;
  client: string;
  /** The fencing token (`NaN` when the program never saw it: such holds skip the fence check). */
  fence: number;
  /** When the acquire resolved (the client learnt it holds). */
  grantedAt: number;
  /** When the acquire was called (`NaN` if the history lacks its `acquire:invoke`). */
  invokedAt: number;
  /**
   * When the client stopped acting on the lock: the earliest of its release call, its lease's
   * signal aborting (the `lost` event) and its process's end (`exit`). `Infinity` if none of
   * these happened. The lease's validity (`validUntil`) does **not** end a hold: a user's
   * program does not know it, it acts until its signal aborts.
   */
  endAt: number;
  /** When the signal aborted, if that ended the hold (before any release call). */
  lostAt?: number;
  /** The validity on the client's clock as last recorded (acquire or extension): figures only. */
  validUntil?: number;
  /** The signal had already aborted when the acquire resolved: the program never acted on it. */
  abortedAtGrant: boolean;
}

/** One violation found by {@link checkHistory}. */
export interface Violation {
  rule: 'overlap' | 'over-limit' | 'fence-order' | 'lost-update' | 'bound' | 'keys-left' | 'stale-write-accepted';
  detail: string;
}

/**
 * The signal lead time of one hold that ended by its signal: how long before the next
 * conflicting grant (to any client) its signal aborted. Negative means the signal came after
 * someone else already held the lock — an overlap.
 */
export interface SignalLead {
  hold: string;
  client: string;
  /** The next conflicting hold's `grantedAt` − this hold's `lostAt`, ms. */
  leadMs: number;
  /** The hold granted next. */
  next: string;
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
   * Overlaps out of the model, reported here and not as violations: between a hold granted
   * before a loss point and one granted after it (Redis lost its state), or with a hold whose
   * process was paused (SIGSTOP) between its grant and the other's (no lease can stop a frozen
   * process from acting when it resumes; fencing protects the resource then).
   */
  outOfModelOverlaps: number;
  /**
   * Signal lead times of the holds that ended by their signal and were followed by a
   * conflicting grant (pairs out of the model left out).
   */
  signalLeads: SignalLead[];
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
  const invoked = new Map<string, number>();
  const exits = new Map<string, number>();
  for (const e of [...events].sort((a, b) => a.t - b.t)) {
    if (e.type === 'exit') {
      if (!exits.has(e.client)) exits.set(e.client, e.t);
      continue;
    }
    if (!e.hold) continue;
    if (e.type === 'acquire:invoke') invoked.set(e.hold, e.t);
    if (e.type === 'acquire:ok') {
      byHold.set(e.hold, {
        hold: e.hold,
        client: e.client,
        kind: e.kind ?? 'mutex',
        resource: e.resource ?? '',
        mode: e.mode ?? 'write',
        ...(e.names === undefined ? {} : { names: e.names }),
        ...(e.parts === undefined ? {} : { parts: e.parts }),
        ...(e.permits === undefined ? {} : { permits: e.permits }),
        ...(e.limit === undefined ? {} : { limit: e.limit }),
        fence: e.fence ?? NaN,
        grantedAt: e.t,
        invokedAt: invoked.get(e.hold) ?? NaN,
        endAt: e.abortedAtGrant ? e.t : Infinity,
        ...(e.validUntil === undefined ? {} : { validUntil: e.validUntil }),
        abortedAtGrant: e.abortedAtGrant === true,
      });
      continue;
    }
    const h = byHold.get(e.hold);
    if (!h) continue;
    if (e.type === 'extend:ok' && e.validUntil !== undefined) h.validUntil = e.validUntil;
    if (e.type === 'lost' && e.t < h.endAt) {
      h.endAt = e.t;
      h.lostAt = e.t;
    }
    if (e.type === 'release:invoke' && e.t < h.endAt) {
      h.endAt = e.t;
      delete h.lostAt;
    }
  }
  const holds = [...byHold.values()];
  for (const h of holds) {
    const exit = exits.get(h.client);
    if (exit !== undefined && exit >= h.grantedAt && exit < h.endAt) {
      h.endAt = exit;
      delete h.lostAt;
    }
  }
  return holds;
}

/**
 * Check a merged history against the user's oracle — a program acts on a lock from the moment
 * its acquire resolved until it releases or its lease's signal aborts, whichever is first:
 * - no two conflicting holds overlap (per the kind's conflict rule; a multi-name mutex hold
 *   conflicts with any hold on any of its names): a hold whose signal never aborted and which
 *   was not released before another client's conflicting grant is a violation, however long
 *   ago its validity ran out;
 * - semaphore: at no instant do the live holds' permits on one name exceed the limit (checked
 *   at every grant, against the limit that grant was asked with: `over-limit`);
 * - fencing tokens strictly increase in grant order for conflicting holds (semaphore: a hold
 *   whose acquire was called after another hold's acquire resolved has the larger fence —
 *   concurrent holds may learn of their grants in any order);
 * - every `call` event ended within its bound;
 * - no lock-guarded counter lost an update: `ok ≤ final ≤ ok + indeterminate`.
 *
 * A hold whose signal had already aborted when its acquire resolved (a late grant: the reply
 * came after the validity ended, and the program's first look at the signal says "lost") is
 * counted but never acted on, so it takes part in neither the overlap nor the fence check. A
 * late grant whose signal had *not* aborted yet is checked like any other hold.
 *
 * Also measured: the signal lead time of every hold that ended by its signal (see
 * {@link SignalLead}).
 */
export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const separator = options.separator ?? '/';
  const holds = holdsOf(events);
  const violations: Violation[] = [];
  const losses = [...(options.lossPoints ?? [])].sort((a, b) => a - b);
  const epochOf = (t: number) => losses.filter((l) => l <= t).length;
  const pauses = new Map<string, number[]>();
  for (const e of events) if (e.type === 'pause') pauses.set(e.client, [...(pauses.get(e.client) ?? []), e.t]);
  // Out of the model: a loss point between the two grants, or `a`'s process paused in between.
  const outOfModel = (a: HoldInterval, b: HoldInterval) =>
    epochOf(a.grantedAt) !== epochOf(b.grantedAt) || (pauses.get(a.client) ?? []).some((p) => p >= a.grantedAt && p < b.grantedAt);
  let outOfModelOverlaps = 0;
  const signalLeads: SignalLead[] = [];

  const groups = new Map<string, HoldInterval[]>();
  for (const h of holds) {
    if (h.endAt <= h.grantedAt) continue;
    // A multi-name hold joins the group of each of its names.
    for (const g of conflictGroups(h, separator)) {
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push(h);
    }
  }
  // A multi-name pair sharing several names meets in several groups: report it once, and keep
  // each lost hold's lead to its earliest next conflicting grant over all its groups.
  const reported = new Set<string>();
  const leadOf = new Map<string, SignalLead>();
  const lead = (a: HoldInterval, b: HoldInterval) => {
    const l = { hold: a.hold, client: a.client, leadMs: b.grantedAt - (a.lostAt as number), next: b.hold };
    const prev = leadOf.get(a.hold);
    if (!prev || l.leadMs < prev.leadMs) leadOf.set(a.hold, l);
  };
  for (const [group, list] of groups) {
    list.sort((a, b) => a.grantedAt - b.grantedAt);
    if (group.startsWith('s:')) {
      checkSemaphoreGroup(list, outOfModel, violations, lead, () => outOfModelOverlaps++);
      continue;
    }
    // Sweep: holds still acted on when the next one is granted.
    const active: HoldInterval[] = [];
    // Holds that ended by their signal, waiting for the next conflicting grant (lead time).
    const awaitingNext: HoldInterval[] = [];
    const fences = new FenceIndex(separator);
    for (const b of list) {
      for (let j = awaitingNext.length - 1; j >= 0; j--) {
        const a = awaitingNext[j] as HoldInterval;
        if (!conflicts(a, b, separator)) continue;
        awaitingNext.splice(j, 1);
        if (!outOfModel(a, b)) lead(a, b);
      }
      for (let j = active.length - 1; j >= 0; j--) if ((active[j] as HoldInterval).endAt <= b.grantedAt) active.splice(j, 1);
      for (const a of active) {
        if (!conflicts(a, b, separator)) continue;
        const pair = `${a.hold}|${b.hold}`;
        if (reported.has(pair)) continue;
        reported.add(pair);
        if (outOfModel(a, b)) outOfModelOverlaps++;
        else violations.push({ rule: 'overlap', detail: `${describe(a)} still held (${a.endAt === Infinity ? 'never released, signal never aborted' : `until ${Math.round(a.endAt - b.grantedAt)} ms later`}) when ${describe(b)} was granted` });
      }
      active.push(b);
      if (b.lostAt !== undefined) awaitingNext.push(b);
      if (!Number.isFinite(b.fence)) continue;
      // Per part (a multi-path hold's parts each carry their own fence; a single hold is one part).
      for (const { a, fence, path } of fences.check(b)) {
        if (reported.has(`fence:${a.hold}|${b.hold}`)) continue;
        reported.add(`fence:${a.hold}|${b.hold}`);
        violations.push({ rule: 'fence-order', detail: `${describe(b)}${path === undefined ? '' : ` part "${path}"`} granted after ${describe(a)} has fence ${fence} ≤ ${a.fence}` });
      }
    }
  }

  signalLeads.push(...leadOf.values());

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
    signalLeads,
    holds,
  };
}

/**
 * The semaphore rule on one name's holds (sorted by grant): at every grant, the permits of the
 * holds still acted on plus the new hold's must fit within the new hold's limit (the limit a
 * call is granted against). Holds out of the model with the new one (a loss point between
 * their grants, or a paused holder) are left out of the sum; an excess only they cause is
 * counted as out of the model. Fences: a hold whose acquire was called after another's acquire
 * resolved (so the server granted it later) must have the larger fence. Signal leads: a hold
 * that ended by its signal, against the first later grant that would have exceeded the limit
 * had it still been held.
 */
function checkSemaphoreGroup(
  list: readonly HoldInterval[],
  outOfModel: (a: HoldInterval, b: HoldInterval) => boolean,
  violations: Violation[],
  lead: (a: HoldInterval, b: HoldInterval) => void,
  outOfModelOverlap: () => void,
): void {
  const permits = (h: HoldInterval) => h.permits ?? 1;
  const active: HoldInterval[] = [];
  const awaitingNext: HoldInterval[] = [];
  for (const b of list) {
    const limit = b.limit ?? 1;
    for (let j = active.length - 1; j >= 0; j--) if ((active[j] as HoldInterval).endAt <= b.grantedAt) active.splice(j, 1);
    for (let j = awaitingNext.length - 1; j >= 0; j--) {
      const a = awaitingNext[j] as HoldInterval;
      const others = active.reduce((sum, h) => (h === a ? sum : sum + permits(h)), 0);
      if (others + permits(a) + permits(b) <= limit) continue;
      awaitingNext.splice(j, 1);
      if (!outOfModel(a, b)) lead(a, b);
    }
    const inModel = active.filter((a) => !outOfModel(a, b));
    const used = inModel.reduce((sum, h) => sum + permits(h), 0);
    const usedAll = active.reduce((sum, h) => sum + permits(h), 0);
    if (used + permits(b) > limit) {
      violations.push({ rule: 'over-limit', detail: `${describe(b)} (${permits(b)} of limit ${limit}) granted while ${used} permit(s) were held: ${inModel.map(describe).join(', ')}` });
    } else if (usedAll + permits(b) > limit) outOfModelOverlap();
    active.push(b);
    if (b.lostAt !== undefined) awaitingNext.push(b);
  }
  // Fences, in order of the acquire calls: each must exceed every fence granted (as its client
  // learnt) before the call.
  const byInvoke = list.filter((h) => Number.isFinite(h.fence) && Number.isFinite(h.invokedAt)).sort((a, b) => a.invokedAt - b.invokedAt);
  const byGrant = list.filter((h) => Number.isFinite(h.fence));
  let k = 0;
  let top: HoldInterval | undefined;
  for (const b of byInvoke) {
    for (; k < byGrant.length && (byGrant[k] as HoldInterval).grantedAt < b.invokedAt; k++) {
      const a = byGrant[k] as HoldInterval;
      if (!top || a.fence > top.fence) top = a;
    }
    if (top && !(top.fence < b.fence)) violations.push({ rule: 'fence-order', detail: `${describe(b)} called after ${describe(top)} was granted has fence ${b.fence} ≤ ${top.fence}` });
  }
}

/**
 * The fence-order check's memory of one conflict group, so each hold is compared with the
 * latest conflicting one in O(paths): mutex — the previous hold of the name (fences along the
 * chain); HiLok — per path, the earlier read and write part with the largest fence (a
 * multi-path hold's parts each with their own fence, or the hold's when the lock reports none).
 */
class FenceIndex {
  private last: HoldInterval | undefined;
  private readonly byPath = new Map<string, { read?: FencedPart; write?: FencedPart }>();

  constructor(private readonly separator: string) {}

  /**
   * Compare `b` with the earlier conflicting holds, then remember it. Returns each part of `b`
   * whose fence does not exceed the earlier conflicting part with the largest fence (`a`: that
   * part, its fence on `a.fence`).
   */
  check(b: HoldInterval): { a: HoldInterval; fence: number; path?: string }[] {
    if (b.kind === 'mutex') {
      const a = this.last;
      this.last = b;
      return a && !(a.fence < b.fence) ? [{ a, fence: b.fence }] : [];
    }
    const parts = partsOf(b).map((p) => ({ ...p, fence: p.fence ?? b.fence, hold: b }));
    const bad: { a: HoldInterval; fence: number; path?: string }[] = [];
    for (const p of parts) {
      const a = this.latestConflicting(p);
      if (a && !(a.fence < p.fence)) bad.push({ a: { ...a.hold, fence: a.fence }, fence: p.fence, ...(b.parts === undefined ? {} : { path: p.path }) });
    }
    for (const p of parts) this.add(p);
    return bad;
  }

  private latestConflicting(b: FencedPart): FencedPart | undefined {
    let best: FencedPart | undefined;
    for (const [path, at] of this.byPath) {
      if (path !== b.path && !isAncestor(path, b.path, this.separator) && !isAncestor(b.path, path, this.separator)) continue;
      for (const a of b.mode === 'write' ? [at.read, at.write] : [at.write]) if (a && a.hold !== b.hold && (!best || a.fence > best.fence)) best = a;
    }
    return best;
  }

  private add(p: FencedPart): void {
    let at = this.byPath.get(p.path);
    if (!at) this.byPath.set(p.path, (at = {}));
    const prev = at[p.mode];
    if (!prev || p.fence > prev.fence) at[p.mode] = p;
  }
}

/** A HiLok part in the fence index: its path, mode and fence, and the hold it belongs to. */
interface FencedPart extends PathPart {
  fence: number;
  hold: HoldInterval;
}

function describe(h: HoldInterval): string {
  const permits = h.kind === 'semaphore' ? ` ${h.permits ?? 1}/${h.limit ?? 1}` : '';
  return `${h.client} ${h.kind}${permits} ${h.mode} "${h.resource}" (fence ${h.fence}, ${h.hold})`;
}

/** Throw with every violation listed (and the history size) if the result has any. */
export function assertClean(result: CheckResult, label: string): void {
  if (result.violations.length === 0) return;
  const lines = result.violations.slice(0, 20).map((v) => `  [${v.rule}] ${v.detail}`);
  throw new Error(`${label}: ${result.violations.length} violation(s) in ${result.acquisitions} acquisitions\n${lines.join('\n')}`);
}
