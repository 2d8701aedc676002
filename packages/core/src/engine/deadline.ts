/** Something that must be told when its deadline (a `performance.now()` time) has passed. */
export interface Deadline {
  readonly deadline: number;
  expire(): void;
}

/**
 * One timer for many deadlines. Arming and clearing a Node timer per Redis call costs more
 * than the rest of an uncontended acquire; here adding and removing a deadline is a `Set`
 * operation, and the single timer is re-armed only when it fires or when a deadline earlier
 * than the armed one arrives. The timer is unref'd: a pending command keeps the process alive
 * through its connection (or the driver's reconnect timer), never through its deadline.
 */
export class DeadlineTimer {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  /** Watch `entry` until {@link DeadlineTimer.delete} or its deadline, whichever comes first. */
  add(entry: Deadline): void {
    this.pending.add(entry);
    if (entry.deadline < this.armedFor) this.arm(entry.deadline);
  }

  /** Stop watching `entry`. */
  delete(entry: Deadline): void {
    this.pending.delete(entry);
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
    for (const entry of this.pending) {
      if (entry.deadline <= now) due.push(entry);
      else if (entry.deadline < next) next = entry.deadline;
    }
    for (const entry of due) this.pending.delete(entry);
    // A late timer (a busy event loop) finds several due: expire them in deadline order.
    if (due.length > 1) due.sort((a, b) => a.deadline - b.deadline);
    // Re-arm before the callbacks run: one that adds a deadline then compares against this.
    if (next !== Infinity) this.arm(next);
    for (const entry of due) entry.expire();
  };
}
