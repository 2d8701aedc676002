import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIoredisAdapter, Mutex } from '@hilok/ioredis';
import { Redlock } from '@hilok/redlock';
import { useRedisInstances, type RedisInstances } from '@hilok/testing';
import type { RedlockView } from '../src/redlock.js';
import { freshPrefix, runCli } from './helpers.js';

// A Redlock set of three independent servers; the last test stops the third.
let set: RedisInstances;
beforeAll(async () => {
  set = await useRedisInstances(3);
});
afterAll(async () => {
  await set?.stopAll();
});

// Before the test below, which stops the third instance.
describe('hilok inspect on a Redlock set: semaphores (issue 19)', () => {
  it('shows semaphore holds side by side with their permits; --limit counts them against the semaphore quorum', { timeout: 60_000 }, async () => {
    const prefix = freshPrefix();
    const redlock = Redlock.fromUrls(set.urls, { connect: (url) => createIoredisAdapter(url), prefix, ttl: 30_000 });
    // A Redlock over the first two instances only: its holds are on 2 of the 3.
    const pair = Redlock.fromUrls(set.urls.slice(0, 2), { connect: (url) => createIoredisAdapter(url), prefix, ttl: 30_000 });
    try {
      const a = await redlock.semaphore('pool', { limit: 3, permits: 2 });
      const b = await pair.semaphore('other', { limit: 3 });

      const plain = JSON.parse((await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix, '--json'])).stdout) as RedlockView;
      expect(plain.holds.map((h) => [h.kind, h.path, h.mode, h.permits, h.id, h.on, h.needs, h.majority])).toEqual([
        ['semaphore', 'other', 'read', 1, b.token, [true, true, false], 2, true],
        ['semaphore', 'pool', 'read', 2, a.token, [true, true, true], 2, true],
      ]);
      // Limit 3 on 3 instances: a hold needs all three (semaphoreQuorumOf) — b is not valid.
      const limited = await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix, '--kind', 'semaphore', '--limit', '3', '--json', '--driver', 'node-redis']);
      expect(limited.code).toBe(0);
      const view = JSON.parse(limited.stdout) as RedlockView;
      expect(view.limit).toBe(3);
      expect(view.holds.map((h) => [h.path, h.held, h.needs, h.majority])).toEqual([
        ['other', 2, 3, false],
        ['pool', 3, 3, true],
      ]);
      const text = await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix, '--limit', '3']);
      expect(text.stdout).toMatch(/semaphore +other +1 permit +held +held +- +2\/3 \(needs 3\) +no /);
      expect(text.stdout).toMatch(/semaphore +pool +2 permits +held +held +held +3\/3 \(needs 3\) +yes /);
      expect(text.stdout).toContain('1 hold on fewer instances than needed');
      const noLimit = await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix]);
      expect(noLimit.stdout).toContain('semaphore rows are counted against a majority');
      await Promise.all([a.release(), b.release()]);
    } finally {
      await Promise.all([redlock.close(), pair.close()]);
    }
  });
});

describe('hilok inspect on a Redlock set', () => {
  it('lines up each hold across the instances: where it is held, and whether a majority holds it', { timeout: 60_000 }, async () => {
    const prefix = freshPrefix();
    const redlock = Redlock.fromUrls(set.urls, { connect: (url) => createIoredisAdapter(url), prefix, ttl: 30_000 });
    // A hold on one instance only: what a failed acquire leaves behind until its ttl.
    const stray = new Mutex(set.urls[1] as string, { prefix, ttl: 30_000 });
    try {
      const lease = await redlock.lock('invoice:42');
      const hold = await redlock.lock('report');
      const minority = await stray.acquire('invoice:43');

      const viaRedlock = await runCli(['inspect', '--redlock', set.urls.join(','), '--prefix', prefix, '--json']);
      expect(viaRedlock.stderr).toBe('');
      expect(viaRedlock.code).toBe(0);
      const view = JSON.parse(viaRedlock.stdout) as RedlockView;
      expect(view.quorum).toBe(2);
      expect(view.instances.map((x) => x.reachable)).toEqual([true, true, true]);
      expect(view.holds.map((h) => [h.kind, h.path, h.mode, h.id, h.on, h.held, h.majority])).toEqual([
        ['mutex', 'invoice:42', 'write', lease.token, [true, true, true], 3, true],
        ['mutex', 'invoice:43', 'write', minority.token, [false, true, false], 1, false],
        ['mutex', 'report', 'write', hold.token, [true, true, true], 3, true],
      ]);
      for (const h of view.holds) expect(h.ttl).toBeGreaterThan(20_000);

      // --url given several times is the same, on node-redis too; a path / glob filters.
      const urls = set.urls.flatMap((u) => ['--url', u]);
      const text = await runCli(['inspect', 'invoice', ...urls, '--driver', 'node-redis', '--prefix', prefix]);
      expect(text.code).toBe(0);
      expect(text.stdout).toContain('Redlock set of 3 instances, a hold needs 2');
      expect(text.stdout).toMatch(new RegExp(`mutex +invoice:42 +write +held +held +held +3/3 +yes +\\d+s +\\S+ +${lease.token}`));
      expect(text.stdout).toMatch(new RegExp(`mutex +invoice:43 +write +- +held +- +1/3 +no +\\d+s +\\S+ +${minority.token}`));
      expect(text.stdout).toContain('1 hold on fewer than 2 instances');
      expect(text.stdout).not.toContain('report');

      // Watch, release and demo work on one deployment.
      for (const cmd of ['watch', 'release x --force', 'demo']) {
        const run = await runCli([...cmd.split(' '), ...urls, '--prefix', prefix]);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain('several URLs (a Redlock set) are for `hilok inspect`');
      }
      expect((await runCli(['inspect', '--redlock', set.urls[0] as string])).code).toBe(2);

      // An instance down: its column says so; the others still show, the majority still counts of 3.
      await lease.release();
      await hold.release();
      const partial = await redlock.lock('invoice:44');
      await set.servers[2]!.stop();
      const down = await runCli(['inspect', ...urls, '--prefix', prefix]);
      expect(down.code).toBe(0);
      expect(down.stdout).toMatch(/#3 +redis:\/\/127\.0\.0\.1:\d+ +unreachable: cannot reach Redis/);
      expect(down.stdout).toMatch(new RegExp(`mutex +invoice:44 +write +held +held +\\? +2/3 +yes +\\d+s +\\S+ +${partial.token}`));
      await partial.release().catch(() => undefined);
    } finally {
      await redlock.close().catch(() => undefined);
      await stray.close();
    }
  });
});
