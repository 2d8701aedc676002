/**
 * Several groups taken as one grant, one after the other — the multi-name Mutex's slots and the
 * multi-path HiLok's trees. Every caller takes its groups in the same global order (slot, tree
 * key), so two callers asking for overlapping sets never wait for each other in a cycle.
 */
import { LockLostError } from '../errors.js';
import { monotonicNow, type LeaseBackend } from './lease.js';
import type { ResolvedAcquire } from './manager.js';
import { DEADLINE_SLACK, acquireOrWait, settledWithin, type Attempt, type AttemptHead, type AttemptLimits, type WaitPlan } from './wait.js';

/** One group of a multi-part grant: one script call's worth of keys (a slot's names, a tree's paths). */
export interface GroupHold extends AttemptHead {
  /** One acquire attempt of the whole group (all or none within the group). */
  readonly attempt: (limits: AttemptLimits) => Promise<Attempt<number>>;
  extend(ttl: number): Promise<boolean>;
  release(): Promise<boolean>;
}

/**
 * Take `groups` in the order given, each within what is left of `call.timeout`, the groups taken
 * so far kept renewed (every ttl/3) while a later one waits; once all are held, the earlier ones'
 * ttl restarts with the last one's. On any failure — busy, timeout, abort, Redis, a group lost
 * while waiting — the groups taken so far are released (awaited at most DEADLINE_SLACK: a frozen
 * Redis must not hold the call) and the error is rethrown: all or none, as the caller sees it.
 * @param plan - the wait plan of `group` within its share of the deadline
 */
export async function takeInOrder<G extends GroupHold>(resource: string, groups: readonly G[], call: ResolvedAcquire, plan: (group: G, within: ResolvedAcquire) => WaitPlan): Promise<void> {
  const started = monotonicNow();
  const taken: G[] = [];
  let keeper: NodeJS.Timeout | undefined;
  try {
    for (const group of groups) {
      const within = { ...call, timeout: Math.max(0, call.timeout - (monotonicNow() - started)) };
      await acquireOrWait(group, within, group.attempt, () => plan(group, within));
      taken.push(group);
      if (!keeper && groups.length > 1) {
        keeper = setInterval(() => {
          for (const g of taken) g.extend(call.ttl).catch(() => undefined);
        }, Math.max(1, Math.floor(call.ttl / 3)));
        keeper.unref();
      }
    }
    clearInterval(keeper);
    if (groups.length > 1) {
      const renewed = await Promise.all(taken.slice(0, -1).map((g) => g.extend(call.ttl)));
      if (!renewed.every(Boolean)) throw new LockLostError(resource, 'a part taken earlier was lost while waiting for the rest');
    }
  } catch (err) {
    clearInterval(keeper);
    await settledWithin(Promise.allSettled(taken.map((g) => g.release())), DEADLINE_SLACK);
    throw err;
  }
}

/** The lease backend of a grant taken in groups: every group extended and released together. */
export class GroupsBackend implements LeaseBackend {
  constructor(private readonly groups: readonly GroupHold[]) {}

  async extend(ttl: number): Promise<boolean> {
    const all = (await Promise.all(this.groups.map((g) => g.extend(ttl)))).every(Boolean);
    // A group lost: the lease is lost, so free the rest now instead of at its ttl.
    if (!all) await this.release().catch(() => undefined);
    return all;
  }

  async release(): Promise<boolean> {
    return (await Promise.all(this.groups.map((g) => g.release()))).every(Boolean);
  }
}
