import { Registry, type RegistrySlot } from './registry.js';

/** Something that must be told when its deadline (a `performance.now()` time) has passed. */
export interface Deadline {
  readonly deadline: number;
  expire(): void;
}

/** A watched deadline (returned by {@link DeadlineTimer.add}). */
export type DeadlineSlot = RegistrySlot<Deadline>;

/**
 * One timer for many deadlines. Arming and clearing a Node timer per Redis call costs more
 * than the rest of an uncontended acquire; here adding and removing a deadline is a
 * {@link Registry} link, and the single timer is re-armed only when it fires or when a deadline
 * earlier than the armed one arrives. The timer is unref'd: a pending command keeps the process
 * alive through its connection (or the driver's reconnect timer), never through its deadline.
 */
export class DeadlineTimer {
  private readonly pending = new Registry<Deadline>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  /** Watch `entry` until {@link DeadlineTimer.delete} of the returned slot or its deadline, whichever comes first. */
  add(entry: Deadline): DeadlineSlot {
    const slot = this.pending.add(entry);
    if (entry.deadline < this.armedFor) this.arm(entry.deadline);
    return slot;
  }

  /** Stop watching every entry and return them (their deadlines no longer matter, e.g. Redis is known down). */
  takeAll(): Deadline[] {
    const entries: Deadline[] = [];
    for (const slot of this.pending.slots()) {
      if (slot.value !== undefined) entries.push(slot.value);
      this.pending.delete(slot);
    }
    return entries;
  }

  /** Stop watching the entry of `slot`. */
  delete(slot: DeadlineSlot): void {
    this.pending.delete(slot);
  }

  private arm(at: number): void {
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - performance.now()));
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = performance.now();
    const due: Deadline[] = [];
    let next = Infinity;
    for (const slot of this.pending.slots()) {
      const entry = slot.value;
      if (entry === undefined) continue; // only a removed slot has none; the snapshot lists live ones
      const { deadline } = entry;
      if (deadline <= now) {
        due.push(entry);
        this.pending.delete(slot);
      } else if (deadline < next) next = deadline;
    }
    // A late timer (a busy event loop) finds several due: expire them in deadline order.
    if (due.length > 1) due.sort((a, b) => a.deadline - b.deadline);
    // Re-arm before the callbacks run: one that adds a deadline then compares against this.
    if (next !== Infinity) this.arm(next);
    for (const entry of due) entry.expire();
  };
}
