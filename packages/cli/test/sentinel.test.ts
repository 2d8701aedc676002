import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mutex } from '@hilok/ioredis';
import { startSentinelGroup, waitFor, type SentinelGroup } from '@hilok/testing';
import type { Snapshot } from '../src/snapshot.js';
import { freshPrefix, runCli } from './helpers.js';

// A master, its replica and three sentinels.
let group: SentinelGroup;
beforeAll(async () => {
  group = await startSentinelGroup();
}, 60_000);
afterAll(async () => {
  await group?.stop();
});

describe('hilok through sentinels', () => {
  it('finds the master by name, before and after a failover, on both drivers', { timeout: 90_000 }, async () => {
    const prefix = freshPrefix();
    const sentinels = group.sentinels.flatMap((s) => ['--sentinel', `${s.host}:${s.port}`]);
    const via = [...sentinels, '--name', group.masterName, '--prefix', prefix];
    const mutex = new Mutex(group.master.url, { prefix, ttl: 60_000 });
    try {
      const a = await mutex.acquire('invoice:42');
      const b = await mutex.acquire('invoice:43');
      for (const driver of ['ioredis', 'node-redis']) {
        const run = await runCli(['inspect', '--json', '--driver', driver, ...via]);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect((JSON.parse(run.stdout) as Snapshot).holds.map((h) => h.id)).toEqual([a.token, b.token]);
      }
      // One comma-separated --sentinel works too; release goes to the master.
      const list = group.sentinels.map((s) => `${s.host}:${s.port}`).join(',');
      const released = await runCli(['release', 'invoice:42', '--id', a.token, '--sentinel', list, '--name', group.masterName, '--prefix', prefix]);
      expect(released.code).toBe(0);
      expect(await mutex.isLocked('invoice:42')).toBe(false);

      // After a failover the sentinels name the other server: the hold (replicated) is found there.
      await waitFor(async () => Number(await group.master.command('WAIT', '1', '1000')) >= 1, { timeout: 10_000 });
      const before = group.master.port;
      await group.failover();
      expect(group.master.port).not.toBe(before);
      for (const driver of ['ioredis', 'node-redis']) {
        // Right after a failover, under load, the promoted server may not answer within the CLI's
        // ~3 s yet: that is exit 3 (unreachable), what an operator retries. It must answer soon.
        let run = await runCli(['inspect', '--json', '--driver', driver, ...via]);
        for (let i = 0; i < 4 && run.code === 3; i++) {
          await new Promise((r) => setTimeout(r, 1_000));
          run = await runCli(['inspect', '--json', '--driver', driver, ...via]);
        }
        expect(run.code).toBe(0);
        expect((JSON.parse(run.stdout) as Snapshot).holds.map((h) => h.id)).toEqual([b.token]);
      }
      for (const driver of ['node-redis', 'ioredis']) {
        const forced = await runCli(['release', 'invoice:43', '--force', '--yes', '--driver', driver, ...via]);
        expect(forced.code).toBe(driver === 'node-redis' ? 0 : 1); // the second run finds nothing left
      }
      expect(await group.master.command('EXISTS', `${prefix}mutex:{invoice:43}`)).toBe(0);
    } finally {
      await mutex.close();
    }
  });

  it('says what is wrong: --sentinel without --name (2), an unknown master name or no sentinel (3)', { timeout: 30_000 }, async () => {
    const one = `${group.sentinels[0]!.host}:${group.sentinels[0]!.port}`;
    const noName = await runCli(['inspect', '--sentinel', one]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain('--sentinel needs --name');
    expect((await runCli(['inspect', '--name', 'x'])).code).toBe(2);
    expect((await runCli(['inspect', '--sentinel', 'host:notaport', '--name', 'x'])).code).toBe(2);
    for (const driver of ['ioredis', 'node-redis']) {
      const wrong = await runCli(['inspect', '--sentinel', one, '--name', 'no-such-master', '--driver', driver]);
      expect(wrong.code).toBe(3);
      expect(wrong.stdout).toBe('');
      expect(wrong.stderr).toContain('cannot reach master "no-such-master" via sentinel');
      expect(wrong.ms).toBeLessThan(6_000);
    }
    const nobody = await runCli(['inspect', '--sentinel', '127.0.0.1:1', '--name', 'x']);
    expect(nobody.code).toBe(3);
  });
});
