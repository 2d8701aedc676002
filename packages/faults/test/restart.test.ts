import { describe, expect, it } from 'vitest';
import { redisRestart } from '../src/index.js';
import { FULL, MAX_MS, print, scale, useLoadPool, useServer, VOLUME } from './env.js';

// Its own server: this scenario restarts it. The load's counters live on another one.
const ctx = useServer();
const res = useServer();
const load = useLoadPool();

describe.each(['mutex', 'hilok', 'semaphore', 'multi'] as const)('%s: (2) Redis restarts without persistence while a watched lease is held', (kind) => {
  it('the watchdog detects the loss and aborts the signal; the next holder has a larger fence; the load stays clean within each server lifetime', { timeout: MAX_MS + 120_000 }, async () => {
    const t = performance.now();
    const volume = { resource: res.server, pool: load.pool, inProcess: scale(4), clients: scale(4), groups: 4, acquisitions: VOLUME, maxMs: MAX_MS };
    const r = await redisRestart({ server: ctx.server, kind, iterations: FULL ? 10 : 1, volume });
    print(r, t);
    expect(r.failures).toEqual([]);
    expect(r.keysLeft).toBe(0);
    // Overlaps between holds on opposite sides of a restart are out of the single-instance
    // model (counted in notes.outOfModelOverlaps, see docs); everything else is checked.
    expect(r.check.violations).toEqual([]);
    expect(r.check.acquisitions).toBeGreaterThanOrEqual(VOLUME);
  });
});
