import type { PathPart } from './conflict.js';

/**
 * The system's monotonic clock in ms, sub-ms precise (CLOCK_MONOTONIC via `process.hrtime`): one
 * clock for every process of the machine, so merged histories compare exactly. (A process's
 * `performance.timeOrigin` is sampled from the wall clock at start-up and can be off by
 * milliseconds between processes — enough to fake an overlap of two short holds.)
 */
export const now = (): number => Number(process.hrtime.bigint() / 1000n) / 1000;

/** Convert a `performance.now()` reading of this process (e.g. `lease.expiresAt`) to the recorder's time base ({@link now}). */
export const toEpoch = (monotonic: number): number => monotonic + (now() - performance.now());

/** The kinds of events a history holds. */
export type EventType =
  | 'acquire:invoke'
  | 'acquire:ok'
  | 'acquire:fail'
  | 'release:invoke'
  | 'release:ok'
  | 'release:fail'
  | 'extend:ok'
  | 'extend:fail'
  | 'lost'
  | 'write:ok'
  | 'write:rejected'
  | 'write:fail'
  | 'fault'
  | 'call'
  | 'exit'
  | 'pause'
  | 'resume';

/** One recorded event. `t` is {@link now} when it was recorded. */
export interface HistoryEvent {
  t: number;
  /**
   * Which client (process or in-process actor) it belongs to. For `exit` (the client's process
   * was SIGKILLed: it acts no more), `pause` (SIGSTOP) and `resume` (SIGCONT): the client the
   * signal hit, recorded by whoever sent it.
   */
  client: string;
  type: EventType;
  /** Correlates the events of one hold (acquire → release/lost). */
  hold?: string;
  /** `'mutex'`, `'hilok'` or `'semaphore'`. */
  kind?: 'mutex' | 'hilok' | 'semaphore';
  /** Lock name or path (a multi-name mutex hold: its names joined by `+`). */
  resource?: string;
  mode?: 'read' | 'write';
  /** A multi-name mutex hold's names. */
  names?: readonly string[];
  /** A HiLok multi-path hold's parts (on `acquire:ok`: as granted, each with its own fence when the lock reports it). */
  parts?: readonly PathPart[];
  /** Semaphore: the permits taken and the limit asked with. */
  permits?: number;
  limit?: number;
  fence?: number;
  /**
   * The lease's validity end on the client's clock (`lease.expiresAt`, as of this event), in the
   * recorder's time base. Recorded for figures only: the checker does not end a hold there (a
   * user's program does not know it; it acts until its signal aborts or it releases).
   */
  validUntil?: number;
  /**
   * For `acquire:ok`: the lease's signal had already aborted when the acquire resolved (the
   * reply came after the validity ended), so the program saw the loss before it could act.
   */
  abortedAtGrant?: boolean;
  /** For `acquire:fail` / `write:fail`: the outcome is unknown (a timeout) — it may have happened. */
  indeterminate?: boolean;
  /** For `call`: when it started and the bound it must end within. */
  startedAt?: number;
  bound?: number;
  /** Free-form detail (error code, fault name, value written …). */
  detail?: string;
  value?: number;
  /** For `write:*`: which lock-guarded counter was incremented (its key); absent for a scenario's own counter. */
  counter?: string;
}

/**
 * An append-only event log. Every event carries the machine's monotonic clock ({@link now}), so
 * histories recorded by several processes of one machine can be merged and compared.
 */
export class Recorder {
  /** The events, in recording order (merge with {@link Recorder.merge}). */
  readonly events: HistoryEvent[] = [];
  /** Events per type so far (recorded here or merged): progress without scanning the history. */
  readonly counts: Partial<Record<EventType, number>> = {};
  private seq = 0;

  /** @param client - default client name of events recorded here */
  constructor(readonly client = `p${process.pid}`) {}

  /** Record an event now; returns it. */
  record(event: Omit<HistoryEvent, 't' | 'client'> & { client?: string }): HistoryEvent {
    const full: HistoryEvent = { t: now(), client: this.client, ...event };
    this.events.push(full);
    this.count(full);
    return full;
  }

  /** A fresh hold id, unique across processes. */
  nextHold(): string {
    return `${this.client}#${++this.seq}`;
  }

  /** Add events recorded elsewhere (e.g. by a worker process). */
  merge(events: readonly HistoryEvent[]): void {
    for (const e of events) {
      this.events.push(e);
      this.count(e);
    }
  }

  private count(e: HistoryEvent): void {
    this.counts[e.type] = (this.counts[e.type] ?? 0) + 1;
  }

  /** The events sorted by time. */
  sorted(): HistoryEvent[] {
    return [...this.events].sort((a, b) => a.t - b.t);
  }
}
