import { describe, expect, it } from 'vitest';
import type { RedisAdapter, ScriptArg } from '../src/adapter.js';
import { InvalidArgumentError } from '../src/errors.js';
import { ScriptRunner } from '../src/engine/script.js';
import * as scripts from '../src/generated/scripts.js';
import { shardedPubSubMode } from '../src/sharded.js';

/** An adapter that records the script sources it was asked to EVAL and answers 1. */
function recording(shardedPubSub: RedisAdapter['shardedPubSub']): RedisAdapter & { sent: string[] } {
  const sent: string[] = [];
  return {
    driver: 'fake',
    cluster: true,
    shardedPubSub,
    sent,
    evalsha: () => Promise.reject(new Error('NOSCRIPT')),
    eval: (source: string, _keys: readonly string[], _args: readonly ScriptArg[]) => (sent.push(source), Promise.resolve(1)),
    subscribe: () => Promise.resolve(),
    unsubscribe: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

const run = (runner: ScriptRunner, script: typeof scripts.mutexRelease) => runner.run(script, ['k{a}', 'k{a}:q'], ['t', ''], { timeoutMs: 1_000 });

describe('sharded pub/sub: the build and the runner', () => {
  it('every script that publishes has a twin with SPUBLISH in its place, and only those', () => {
    for (const script of Object.values(scripts)) {
      const publishes = script.source.includes("redis.call('PUBLISH',");
      expect(script.sharded !== undefined, script.name).toBe(publishes);
      if (!script.sharded) continue;
      expect(script.sharded.source).toBe(script.source.replaceAll("redis.call('PUBLISH',", "redis.call('SPUBLISH',"));
      expect(script.sharded.source).not.toContain("'PUBLISH'");
      expect(script.sharded.sha).not.toBe(script.sha);
      expect([script.sharded.batch, script.sharded.batchKeys]).toEqual([script.batch, script.batchKeys]);
    }
    expect(scripts.mutexRelease.sharded).toBeDefined();
    expect(scripts.fairRelease.sharded).toBeDefined();
    expect(scripts.hilokRelease.sharded).toBeDefined();
    expect(scripts.mutexAcquire.sharded).toBeUndefined(); // no hot-path change for what never publishes
  });

  it('runs PUBLISH scripts unless the adapter says sharded (standalone, Sentinel, shardedPubSub: false)', async () => {
    for (const flag of [undefined, false]) {
      const adapter = recording(flag);
      await run(new ScriptRunner(adapter), scripts.mutexRelease);
      expect(adapter.sent).toEqual([scripts.mutexRelease.source]);
    }
  });

  it('runs the SPUBLISH twin when the adapter publishes sharded', async () => {
    const adapter = recording(true);
    const runner = new ScriptRunner(adapter);
    await run(runner, scripts.mutexRelease);
    await run(runner, scripts.mutexAcquire);
    expect(adapter.sent).toEqual([scripts.mutexRelease.sharded?.source, scripts.mutexAcquire.source]);
  });

  it('holds a publishing script until the adapter knows, then sends the matching variant', async () => {
    for (const answer of [true, false]) {
      let settle!: (yes: boolean) => void;
      const adapter = recording(new Promise<boolean>((resolve) => (settle = resolve)));
      const runner = new ScriptRunner(adapter);
      const released = run(runner, scripts.mutexRelease);
      await run(runner, scripts.mutexAcquire); // a script that never publishes does not wait
      expect(adapter.sent).toEqual([scripts.mutexAcquire.source]);
      settle(answer);
      await released;
      expect(adapter.sent[1]).toBe(answer ? scripts.mutexRelease.sharded?.source : scripts.mutexRelease.source);
    }
  });

  it('fails a held script with RedisUnavailableError when the adapter could not find out', async () => {
    const adapter = recording(Promise.reject(new Error('connect ECONNREFUSED')));
    await expect(run(new ScriptRunner(adapter), scripts.mutexRelease)).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' });
  });
});

describe('shardedPubSubMode', () => {
  const target = (version: unknown, cluster = true, driverSupport: true | string = true) => {
    let probes = 0;
    return {
      cluster,
      driverSupport,
      probe: () => (probes++, version instanceof Error ? Promise.reject(version) : Promise.resolve(version)),
      get probes() {
        return probes;
      },
    };
  };

  it("'auto' asks a cluster once: Redis 7.0 and later shard, Redis 6 (no REDIS_VERSION_NUM) does not", async () => {
    const seven = target(0x07000f);
    const mode = shardedPubSubMode('auto', seven);
    expect(seven.probes).toBe(0); // nothing asked before it matters
    expect(await mode.current).toBe(true);
    expect(mode.current).toBe(true);
    expect(await mode.settled()).toBe(true);
    expect(seven.probes).toBe(1);
    const six = target(0);
    expect(await shardedPubSubMode(undefined, six).settled()).toBe(false);
    expect(shardedPubSubMode(undefined, six).current).toBeInstanceOf(Promise);
  });

  it('standalone and Sentinel clients, drivers without support and false never shard, without asking', () => {
    for (const t of [target(0x070200, false), target(0x070200, true, 'no support'), target(0x070200)]) {
      const option = t.cluster && t.driverSupport === true ? false : 'auto';
      expect(shardedPubSubMode(option, t).current).toBe(false);
      expect(t.probes).toBe(0);
    }
    expect(shardedPubSubMode(true, target(0)).current).toBe(true);
  });

  it('a failed probe is asked again at the next use', async () => {
    let fail = true;
    const mode = shardedPubSubMode('auto', {
      cluster: true,
      driverSupport: true,
      probe: () => (fail ? Promise.reject(new Error('down')) : Promise.resolve(0x070000)),
    });
    await expect(mode.settled()).rejects.toThrow('down');
    fail = false;
    expect(await mode.settled()).toBe(true);
  });

  it('rejects true where it cannot work, and unknown values', () => {
    expect(() => shardedPubSubMode(true, target(0, false))).toThrow(InvalidArgumentError);
    expect(() => shardedPubSubMode(true, target(0, true, 'this driver has no ssubscribe'))).toThrow(/no ssubscribe/);
    expect(() => shardedPubSubMode('yes', target(0))).toThrow(InvalidArgumentError);
  });
});
