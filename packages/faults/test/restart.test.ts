import { describe, expect, it } from 'vitest';
import { redisRestart } from '../src/index.js';
import { FULL, print, useServer } from './env.js';

// Its own server: this scenario restarts it.
const ctx = useServer();

describe.each(['mutex', 'hilok'] as const)('%s: (2) Redis restarts without persistence while a watched lease is held', (kind) => {
  it('the watchdog detects the loss and aborts the signal; the next holder has a larger fence', { timeout: 120_000 }, async () => {
    const r = await redisRestart({ server: ctx.server, kind, iterations: FULL ? 10 : 1 });
    print(r);
    expect(r.failures).toEqual([]);
    expect(r.keysLeft).toBe(0);
    // The overlap rule is not asserted here: losing Redis state is out of the single-instance model (see docs).
  });
});
