import type { RedisAdapter } from '@hilok/core';
import { Registry, ScriptRunner, type RunOptions } from '@hilok/core/internal';
import type { InstanceFailure } from './errors.js';
import type { Call } from './kinds.js';

/** One instance's answer: its reply, or the error (driver failure or reply timeout). */
export type Answer<T> = { index: number; ok: true; value: T } | { index: number; ok: false; error: unknown };

/** The majority of `n` instances: ⌊n/2⌋ + 1 (3 of 5, 3 of 4, 1 of 1). */
export function quorumOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The instances of one Redlock, each behind core's `ScriptRunner` (EVALSHA → EVAL fallback and
 * the reply deadline that keeps a frozen instance from stalling a call).
 */
export class Instances {
  private readonly runners: ScriptRunner[];
  /** Calls still running on some instance, also after the caller stopped waiting for them. */
  private readonly inFlight = new Registry<Promise<unknown>>();
  /** Majority size. */
  readonly quorum: number;

  /** @param adapters - one adapter per independent instance; @param timeoutMs - per-instance reply deadline */
  constructor(
    readonly adapters: readonly RedisAdapter[],
    readonly timeoutMs: number,
  ) {
    this.runners = adapters.map((a) => new ScriptRunner(a));
    this.quorum = quorumOf(adapters.length);
  }

  /** Number of instances. */
  get size(): number {
    return this.adapters.length;
  }

  /**
   * Run `call` on every instance in parallel and collect every answer. Never rejects: each
   * instance either answers within the per-instance timeout or contributes an error, so the
   * whole call lasts at most about `timeoutMs`, however many instances are frozen.
   * `parse` runs on each reply (a parse error counts as that instance's failure).
   * `onLate` gets replies that arrive after the deadline (to undo a late grant).
   */
  all<T>(call: Call, parse: (reply: unknown) => T, onLate?: (index: number, reply: unknown) => void): Promise<Answer<T>[]> {
    // Never decided early: resolves once every instance answered (or timed out).
    return this.until(call, parse, () => false, onLate) as Promise<Answer<T>[]>;
  }

  /**
   * Run `call` on every instance in parallel and resolve as soon as `decided(answers)` says the
   * outcome is known (e.g. a majority granted, or a majority can no longer be reached) — so one
   * stalled instance does not hold up an acquire the others already decided — or once every
   * instance answered. `answers` has one slot per instance, `undefined` while it is pending.
   * Never rejects. The instances still pending keep running; `onLate` behaves as in {@link Instances.all}.
   */
  until<T>(
    call: Call,
    parse: (reply: unknown) => T,
    decided: (answers: readonly (Answer<T> | undefined)[]) => boolean,
    onLate?: (index: number, reply: unknown) => void,
  ): Promise<(Answer<T> | undefined)[]> {
    const size = this.runners.length;
    const answers: (Answer<T> | undefined)[] = new Array<Answer<T> | undefined>(size).fill(undefined);
    const calls: Promise<unknown>[] = [];
    // Without a late-reply handler every instance shares one options object.
    const shared: RunOptions | undefined = onLate ? undefined : { timeoutMs: this.timeoutMs };
    return new Promise((resolve) => {
      let pending = size;
      let done = false;
      const settle = (answer: Answer<T>): void => {
        answers[answer.index] = answer;
        pending--;
        if (done) return;
        if (pending === 0 || decided(answers)) {
          done = true;
          // Only the calls still running need tracking for close(): most have answered already.
          for (let i = 0; i < size; i++) if (answers[i] === undefined) this.track(calls[i] as Promise<unknown>);
          resolve(answers.slice());
        }
      };
      for (let index = 0; index < size; index++) {
        const options = shared ?? { timeoutMs: this.timeoutMs, onLateReply: (late: unknown) => (onLate as (i: number, r: unknown) => void)(index, late) };
        const running = runCall(this.runners[index] as ScriptRunner, call, index, options);
        calls.push(running);
        running.then(
          (reply) => {
            let answer: Answer<T>;
            try {
              answer = { index, ok: true, value: parse(reply) };
            } catch (error) {
              answer = { index, ok: false, error };
            }
            settle(answer);
          },
          (error: unknown) => settle({ index, ok: false, error }),
        );
      }
    });
  }

  /** Run `call` on one instance (used to undo a late grant there); never rejects. */
  async one(index: number, call: Call): Promise<void> {
    const runner = this.runners[index];
    if (runner) await this.track(runCall(runner, call, index, { timeoutMs: this.timeoutMs })).catch(() => undefined);
  }

  /**
   * Resolves once every call started so far has answered or timed out — including those an
   * early-decided {@link Instances.until} stopped waiting for (each is bounded by `timeoutMs`).
   * `close()` waits for this, so no release is cut off by closing the connections.
   */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled(this.inFlight.values());
  }

  private track<T>(call: Promise<T>): Promise<T> {
    const slot = this.inFlight.add(call);
    const forget = () => this.inFlight.delete(slot);
    call.then(forget, forget);
    return call;
  }

  /** The failures among `answers`, with driver names, for a `QuorumError`. */
  failures(answers: readonly (Answer<unknown> | undefined)[]): InstanceFailure[] {
    return answers.flatMap((a) => (!a || a.ok ? [] : [{ index: a.index, driver: this.adapters[a.index]?.driver ?? '?', error: a.error }]));
  }
}

/**
 * Run `call` on one instance (takes ownership of `options`). A call for one lock of a batch script (core's mutex scripts) joins
 * the calls other locks make in the same tick on that instance; the reply is then wrapped back
 * into the script's per-key array, so parsers see the same shape either way.
 */
function runCall(runner: ScriptRunner, call: Call, instance: number, options: RunOptions): Promise<unknown> {
  const args = call.argsFor ? call.argsFor(instance) : call.args;
  if (call.script.batch === undefined || call.keys.length !== (call.script.batchKeys ?? 1)) return runner.run(call.script, call.keys, args, options);
  // A late reply is the key's entry too: hand it on in the array shape, like the reply.
  const late = options.onLateReply;
  if (late) options.onLateReply = (reply) => late([reply]);
  return runner.runBatched(call.script, call.keys, args, options, inArray);
}

/** A batch call's own reply entry, in the per-key array shape the kinds' parsers read. */
const inArray = (reply: unknown): unknown[] => [reply];
