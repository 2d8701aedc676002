import { describe, expect, it } from 'vitest';
import { DeadlineTimer, type Deadline } from '../src/engine/deadline.js';

/** A deadline that records when (and whether) it expired. */
function entry(inMs: number, log: string[], name: string): Deadline & { expiredAt?: number } {
  const e: Deadline & { expiredAt?: number } = {
    deadline: performance.now() + inMs,
    expire() {
      e.expiredAt = performance.now();
      log.push(name);
    },
  };
  return e;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeadlineTimer (one timer for every reply deadline of a runner)', () => {
  it('expires each deadline once, never before it, in deadline order; a deleted one never', async () => {
    const timers = new DeadlineTimer();
    const log: string[] = [];
    const late = entry(60, log, 'late');
    const early = entry(20, log, 'early'); // earlier than the armed one: re-arms
    // (On a loaded machine the timer may fire late and find both due: still in deadline order.)
    const removed = entry(30, log, 'removed');
    timers.add(late);
    timers.add(early);
    timers.delete(timers.add(removed));
    await delay(150);
    expect(log).toEqual(['early', 'late']);
    for (const e of [early, late]) expect(e.expiredAt as number).toBeGreaterThanOrEqual(e.deadline);
  });

  it('a deadline added from an expiry callback is still honoured', async () => {
    const timers = new DeadlineTimer();
    const log: string[] = [];
    const follow = entry(0, log, 'follow');
    const first: Deadline = {
      deadline: performance.now() + 10,
      expire() {
        log.push('first');
        (follow as { deadline: number }).deadline = performance.now() + 10;
        timers.add(follow);
      },
    };
    timers.add(first);
    timers.add(entry(500, log, 'far')); // armed after first: must not postpone follow
    await delay(150);
    expect(log).toEqual(['first', 'follow']);
  });
});
