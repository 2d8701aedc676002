import { LockBusyError, LockLostError, type LockBlocker } from '@hilok/core';
import { monotonicNow, nextOwnerToken, ownerTokenPrefix, sleep } from '@hilok/core/internal';
import { QuorumError } from './errors.js';
import { groupKind, type Grant, type LockKind } from './kinds.js';
import { drift } from './options.js';
import type { Answer, Instances } from './quorum.js';


/** A hold that reached the quorum. */
export interface Acquired {
  kind: LockKind;
  token: string;
  /** Largest per-instance fence among the granting instances (see docs/redlock.md, "Fencing on a quorum"). */
  fence: number;
  /** Each instance's fence, where it granted before the attempt was decided (for the release). */
  fences: (number | undefined)[];
  /** Monotonic time at which validity runs out: request start + ttl − drift. */
  validUntil: number;
}

/** Retry settings of one acquire. */
export interface RetryPolicy {
  retryCount: number;
  retryDelayMin: number;
  retryDelayMax: number;
}

/**
 * The Redlock protocol (redis.io/docs/manual/patterns/distributed-locks) over any lock kind:
 * parallel attempts, majority + validity check, release everywhere on failure, random pauses
 * between attempts, extension only within the remaining validity.
 */
export class QuorumEngine {
  /**
   * @param instances - the instances; @param driftFactor - drift allowance per ttl;
   * @param app - the label in every owner token (see core's `ownerTokenPrefix`)
   */
  constructor(
    readonly instances: Instances,
    readonly driftFactor: number,
    app?: string,
  ) {
    this.tokenPrefix = ownerTokenPrefix(app);
  }

  /** `[app@]host:pid:started:nonce.` of this Redlock's tokens. */
  private readonly tokenPrefix: string;

  /**
   * Acquire on a majority, retrying per `retry`. Each attempt uses a fresh token, so a late
   * "granted" from an earlier attempt can be undone without touching a later attempt's hold.
   * `signal` ends the pauses between attempts; `attemptSignal` (the caller's own signal: its
   * deadline) also stops waiting for an attempt in flight — a grant it brings later is released.
   * @throws LockBusyError when a majority answered, someone else holds the lock, and a grant on a majority is out of reach
   * @throws QuorumError when too few instances answered (or validity ran out)
   */
  acquire(makeKind: (token: string) => LockKind, ttl: number, retry: RetryPolicy, signal?: AbortSignal, attemptSignal?: AbortSignal): Promise<Acquired> {
    // The first attempt as a plain promise chain (the common, successful case); retries loop.
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.abortable(this.attempt(makeKind(nextOwnerToken(this.tokenPrefix)), ttl), attemptSignal).then((result) =>
      result instanceof Error ? this.retry(makeKind, ttl, retry, result, signal, attemptSignal) : result,
    );
  }

  /**
   * Several holds taken one after the other, each on its own quorum with `retry` (as
   * {@link QuorumEngine.acquire}), held as one: `makeKinds` in the caller's fixed order (for
   * `Redlock.lockPaths`, the trees' key order — every caller's, so two callers never each hold
   * what the other waits for). While a later member is being taken, the members taken so far are
   * extended every ttl/3; once all are taken, the earlier ones are extended once more so every
   * member's validity restarts with the last one's. The group's validity ends with its
   * earliest member's, its fence is the largest. On any failure (busy, unreachable, a member lost
   * meanwhile, the signal) every member taken is released before it rejects: all or none, as the
   * caller sees it.
   * @throws LockBusyError, QuorumError, LockLostError, or the signal's reason
   */
  async acquireGroup(makeKinds: readonly ((token: string) => LockKind)[], ttl: number, retry: RetryPolicy, signal?: AbortSignal, attemptSignal?: AbortSignal): Promise<Acquired> {
    const taken: Acquired[] = [];
    let lost: unknown;
    let keeping: Promise<void> | undefined;
    const renew = (members: readonly Acquired[]): Promise<void> =>
      Promise.all(
        members.map(async (m) => {
          m.validUntil = await this.extend(m.kind, ttl, m.validUntil);
        }),
      ).then(() => undefined);
    // Keep the members taken so far alive while a later one is being taken. A QuorumError only
    // leaves a member's validity as it was (the final renewal then decides); a LockLostError ends it.
    const keeper = setInterval(() => {
      keeping ??= renew(taken.slice())
        .catch((err: unknown) => {
          if (err instanceof LockLostError) lost ??= err;
        })
        .finally(() => {
          keeping = undefined;
        });
    }, Math.max(1, Math.floor(ttl / 3)));
    keeper.unref();
    try {
      for (const makeKind of makeKinds) {
        taken.push(await this.acquire(makeKind, ttl, retry, signal, attemptSignal));
        if (lost) throw lost;
      }
      clearInterval(keeper);
      await keeping;
      if (lost) throw lost;
      await renew(taken.slice(0, -1));
    } catch (err) {
      clearInterval(keeper);
      await keeping;
      await Promise.allSettled(taken.map((m) => this.release(m.kind, m.fences)));
      throw err;
    }
    return {
      kind: groupKind(taken),
      token: (taken[0] as Acquired).token,
      fence: Math.max(...taken.map((m) => m.fence)),
      fences: [],
      validUntil: Math.min(...taken.map((m) => m.validUntil)),
    };
  }

  /** Attempts after the first failed with `failed`, each after a random pause. */
  private async retry(
    makeKind: (token: string) => LockKind,
    ttl: number,
    retry: RetryPolicy,
    failed: Error,
    signal?: AbortSignal,
    attemptSignal?: AbortSignal,
  ): Promise<Acquired> {
    let result: Acquired | Error = failed;
    for (let attempt = 1; attempt <= retry.retryCount; attempt++) {
      const pause = retry.retryDelayMin + Math.random() * (retry.retryDelayMax - retry.retryDelayMin);
      await sleep(pause, signal);
      signal?.throwIfAborted();
      result = await this.abortable(this.attempt(makeKind(nextOwnerToken(this.tokenPrefix)), ttl), attemptSignal);
      if (!(result instanceof Error)) return result;
    }
    throw result;
  }

  /**
   * `attempt`, or the signal's reason as soon as `signal` aborts: the caller's deadline does not
   * wait for the instances. A hold the abandoned attempt still wins is released.
   */
  private abortable(attempt: Promise<Acquired | Error>, signal: AbortSignal | undefined): Promise<Acquired | Error> {
    if (!signal) return attempt;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        reject(signal.reason);
        attempt.then(
          (result) => {
            if (!(result instanceof Error)) this.release(result.kind, result.fences).catch(() => undefined);
          },
          () => undefined,
        );
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      attempt.then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** One attempt: the acquired hold, or the error to report if no attempt succeeds. */
  private attempt(kind: LockKind, ttl: number): Promise<Acquired | Error> {
    const { instances } = this;
    const quorum = kind.quorum ?? instances.quorum;
    const start = monotonicNow();
    // Decided as soon as the answers so far settle it, so a stalled instance whose answer is not
    // needed costs nothing: a majority granted; so many failed that a majority cannot answer (a
    // QuorumError); or a majority answered and, with "held" among them, a grant on a majority is
    // out of reach (busy). Otherwise the rest is awaited (each within the instance timeout):
    // "held" from a minority while the others are unreachable is an outage, not busy.
    const decided = (answers: readonly (Answer<Grant> | undefined)[]): boolean => {
      let granted = 0;
      let held = 0;
      let failed = 0;
      for (const a of answers) if (a) a.ok ? (a.value.ok ? granted++ : held++) : failed++;
      const { size } = instances;
      const pending = size - granted - held - failed;
      return granted >= quorum || size - failed < quorum || (granted + held >= quorum && granted + pending < quorum);
    };
    const undoLate = (index: number, late: unknown): void => {
      // The instance granted after we stopped waiting: that grant belongs to no lease, undo it.
      try {
        if (kind.parseAcquire(late).ok) void instances.one(index, kind.release());
      } catch {
        // an unreadable late reply: the key expires at its ttl anyway
      }
    };
    return instances.until(kind.acquire(ttl), kind.parseAcquire, decided, undoLate).then<Acquired | Error>((answers) => {
      const elapsed = monotonicNow() - start;
      let granted = 0;
      let fence = 0;
      const fences = answers.map((a) => (a?.ok && a.value.ok ? a.value.fence : undefined));
      for (const f of fences) {
        if (f !== undefined) {
          granted++;
          fence = Math.max(fence, f);
        }
      }
      const validity = ttl - elapsed - drift(ttl, this.driftFactor);
      if (granted >= quorum && validity > 0) {
        // Instances still pending may grant too: those holds are ours, and release() clears them.
        return { kind, token: kind.token, fence, fences, validUntil: start + ttl - drift(ttl, this.driftFactor) };
      }
      return this.failedAttempt(kind, answers, granted, elapsed, ttl);
    });
  }

  /** An attempt without the lock: undo its partial grants, then say why (busy, or a quorum failure). */
  private async failedAttempt(kind: LockKind, answers: readonly (Answer<Grant> | undefined)[], granted: number, elapsed: number, ttl: number): Promise<Error> {
    const { instances } = this;
    const quorum = kind.quorum ?? instances.quorum;
    // Not held: undo the partial grants on ALL instances — also on those that did not answer,
    // since their grant may execute later (commands on one connection run in order, so the
    // release runs after it). Wait only for the instances that answered: a stalled one must not
    // delay the retry, which uses a fresh token anyway.
    const undo = kind.release();
    await Promise.all(answers.map((a, index) => (a?.ok ? instances.one(index, undo) : void instances.one(index, undo))));
    const failures = instances.failures(answers);
    const busy = answers.flatMap((a) => (a?.ok && !a.value.ok ? [a.value.retryAfter] : []));
    // Busy only when a majority answered: "held" from a minority says nothing while the rest
    // did not answer (retrying would not help until the instances are back).
    const answered = answers.filter((a) => a?.ok).length;
    if (answered < quorum) {
      return new QuorumError(kind.resource, 'acquire', granted, quorum, failures, 'too many instances are unreachable');
    }
    // A majority answered, and some of them said "held": that is contention, not an outage.
    if (busy.length > 0 && granted < quorum) return new LockBusyError(kind.resource, 'held', Math.max(0, Math.min(...busy)), blockerOf(answers));
    return new QuorumError(
      kind.resource,
      'acquire',
      granted,
      quorum,
      failures,
      `no validity left (the attempt took ${Math.round(elapsed)} ms of a ${ttl} ms ttl)`,
    );
  }

  /**
   * Reset the ttl on a majority before `validUntil`. Resolves the new validity end.
   * @throws LockLostError when validity ran out, or too many instances no longer have the hold
   * @throws QuorumError when too few answered; the hold stays valid until the old `validUntil`
   */
  async extend(kind: LockKind, ttl: number, validUntil: number): Promise<number> {
    if (kind.members) return this.extendGroup(kind.members, ttl, validUntil);
    const { instances } = this;
    const quorum = kind.quorum ?? instances.quorum;
    const start = monotonicNow();
    const answers = await instances.all(kind.extend(ttl), kind.parseExtend);
    const end = monotonicNow();
    const extended = answers.filter((a) => a.ok && a.value).length;
    const notOurs = answers.filter((a) => a.ok && !a.value).length;
    const newEnd = start + ttl - drift(ttl, this.driftFactor);
    // An extension that completes after the old validity counts for nothing: in between, the
    // hold may have expired on enough instances for someone else to take a majority.
    if (end >= validUntil) throw new LockLostError(kind.resource, 'its validity ran out before the extension completed');
    if (extended >= quorum && newEnd > end) return newEnd;
    if (instances.size - notOurs < quorum) {
      throw new LockLostError(kind.resource, `only ${extended} instances still had it; ${quorum} are needed`);
    }
    throw new QuorumError(
      kind.resource,
      'extend',
      extended,
      quorum,
      instances.failures(answers),
      'the hold stays valid only until its previous validity runs out',
    );
  }

  /**
   * A group's members extended together, each on its own quorum, within the group's validity:
   * resolves the earliest new validity end. A member lost (`LockLostError`) loses the group: the
   * other members are released at once (not left to their ttl) and the error thrown. A member
   * whose instances did not answer (`QuorumError`) leaves the group valid until its old validity.
   */
  private async extendGroup(members: readonly Acquired[], ttl: number, validUntil: number): Promise<number> {
    const settled = await Promise.allSettled(members.map((m) => this.extend(m.kind, ttl, validUntil)));
    const lost = settled.find((s) => s.status === 'rejected' && s.reason instanceof LockLostError);
    if (lost) {
      await Promise.allSettled(members.map((m) => this.release(m.kind, m.fences)));
      throw (lost as PromiseRejectedResult).reason;
    }
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return Math.min(...settled.map((s) => (s as PromiseFulfilledResult<number>).value));
  }

  /**
   * A group's members released, each on its own quorum (every release runs to its decision).
   * Resolves the fewest instances that removed a member; throws the first `QuorumError`.
   */
  private async releaseGroup(members: readonly Acquired[]): Promise<number> {
    const settled = await Promise.allSettled(members.map((m) => this.release(m.kind, m.fences)));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    return Math.min(...settled.map((s) => (s as PromiseFulfilledResult<number>).value));
  }

  /**
   * Release on every instance. Resolves how many instances removed a live hold of ours — as
   * soon as that decides the outcome: a majority removed it, or a majority answered and removal
   * on a majority is out of reach. The other instances' releases still run to the end (and
   * `close()` waits for them); one slow instance does not delay the caller.
   * @throws QuorumError when fewer than a majority answered (the rest expires at its ttl)
   */
  async release(kind: LockKind, fences?: readonly (number | undefined)[]): Promise<number> {
    if (kind.members) return this.releaseGroup(kind.members);
    const { instances } = this;
    const decided = (answers: readonly (Answer<boolean> | undefined)[]): boolean => {
      let removed = 0;
      let answered = 0;
      let failed = 0;
      for (const a of answers) {
        if (!a) continue;
        if (!a.ok) failed++;
        else {
          answered++;
          if (a.value) removed++;
        }
      }
      const pending = instances.size - answered - failed;
      const { quorum } = instances;
      // Known for sure: removed on a majority (true); a majority answered and removal on a
      // majority is out of reach (false); or a majority can no longer answer (QuorumError).
      return removed >= quorum || (answered >= quorum && removed + pending < quorum) || answered + pending < quorum;
    };
    const answers = await instances.until(kind.release(fences), kind.parseRelease, decided);
    const answered = answers.filter((a) => a?.ok).length;
    if (answered < instances.quorum) {
      throw new QuorumError(kind.resource, 'release', answered, instances.quorum, instances.failures(answers), 'the rest expires at its ttl');
    }
    return answers.filter((a) => a?.ok && a.value).length;
  }
}

/** The conflicting hold the first busy answer names (read/write kinds), for the busy error. */
function blockerOf(answers: readonly (Answer<Grant> | undefined)[]): LockBlocker | undefined {
  for (const a of answers) if (a?.ok && !a.value.ok && a.value.blocker) return a.value.blocker;
  return undefined;
}
