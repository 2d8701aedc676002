/** The real `hilok` process: exit codes, messages, help — what scripts rely on. */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok } from '@hilok/ioredis';
import { freePort, useRedis, type RedisServer } from '@hilok/testing';
import { freshPrefix, runCli, spawnCli } from './helpers.js';

let server: RedisServer;
let silent: Server;
let silentPort: number;
beforeAll(async () => {
  server = await useRedis();
  // A TCP server that accepts and never answers: a Redis that hangs.
  silent = createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  silent?.close();
  await server?.stop();
});

describe('the hilok process', () => {
  it('exits 3 quickly, with a clear message, when Redis is unreachable, hangs, or the URL is bad', async () => {
    const closed = await freePort();
    // Two real processes (exit code through the process), the rest in-process (same code path, faster).
    const spawned = Promise.all([
      spawnCli(['inspect', '--url', `redis://127.0.0.1:${closed}`]),
      spawnCli(['watch', '--url', `redis://127.0.0.1:${silentPort}`, '--driver', 'node-redis']),
    ]);
    const runs = await Promise.all([
      runCli(['inspect', '--url', `redis://127.0.0.1:${closed}`, '--driver', 'node-redis']),
      runCli(['release', 'x', '--id', 'y', '--url', `redis://127.0.0.1:${silentPort}`]),
      runCli(['inspect', '--url', `redis://127.0.0.1:${silentPort}`, '--driver', 'node-redis']),
      runCli(['inspect', '--url', 'not a url']),
      runCli(['inspect', '--url', 'http://127.0.0.1:6379']),
      runCli(['inspect', '--url', 'redis://127.0.0.1:6379/zero']),
    ]);
    const [refused, hungNr] = await spawned;
    const [refusedNr, hung, hungInNr, garbage, scheme, db] = runs;
    for (const run of [refused, hungNr, ...runs]) expect(run!.code, run!.stderr).toBe(3);
    for (const run of [refused, refusedNr]) {
      expect(run!.stderr).toMatch(new RegExp(`cannot reach Redis at redis://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`));
    }
    expect(refusedNr!.ms).toBeLessThan(2_000);
    for (const run of [hung, hungInNr, hungNr]) expect(run!.stderr).toContain(`cannot reach Redis at redis://127.0.0.1:${silentPort}`);
    // The ~3 s connect bound, measured in-process; the spawned runs add node + tsx startup on a
    // busy machine, so they only prove that nothing hangs.
    expect(hung!.ms).toBeLessThan(4_500);
    expect(hungInNr!.ms).toBeLessThan(4_500);
    for (const run of [refused, hungNr]) expect(run!.ms).toBeLessThan(15_000);
    expect(garbage!.stderr).toContain('bad Redis URL "not a url"');
    expect(scheme!.stderr).toContain('the scheme must be redis:// or rediss://');
    expect(db!.stderr).toContain('the database must be a number');
  });

  it('exits 2 on usage errors and 0 on --help for every command', async () => {
    const spawned = await spawnCli(['frobnicate']);
    expect(spawned.code).toBe(2);
    expect(spawned.stderr).toContain('unknown command "frobnicate"');
    const runs = await Promise.all([
      runCli(['inspect', '--bogus']),
      runCli(['release', 'x']),
      runCli(['release', 'x', '--id', 'a', '--force']),
      runCli(['inspect', '--driver', 'jedis']),
      runCli([]),
      runCli(['watch', '--interval', 'soon']),
      runCli(['inspect', 'a', 'b']),
    ]);
    for (const run of runs) expect(run.code, run.stderr).toBe(2);
    expect(runs[0]!.stderr).toMatch(/Unknown option '--bogus'/);
    expect(runs[1]!.stderr).toContain('release needs --id');
    expect(runs[2]!.stderr).toContain('either --id or --force');
    expect(runs[3]!.stderr).toContain('--driver must be');

    const commands = ['inspect', 'watch', 'release', 'demo'];
    const helps = await Promise.all(commands.map((c) => runCli([c, '--help'])));
    helps.forEach((h, i) => {
      expect(h.code).toBe(0);
      expect(h.stdout).toContain(`Usage: hilok ${commands[i]}`);
      expect(h.stdout).toContain('Exit codes');
    });
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Commands:');
  });

  it('inspects and releases as a process: JSON on stdout, exit 1 for a hold that is not ours', async () => {
    const prefix = freshPrefix();
    const tree = new HiLok(server.url, { prefix, ttl: 20_000 });
    try {
      const id = await tree.acquireWrite('jobs/42');
      const common = ['--url', server.url, '--prefix', prefix];
      const [json, foreign] = await Promise.all([
        spawnCli(['inspect', 'jobs', '--json', '--driver', 'node-redis', ...common]),
        spawnCli(['release', 'jobs/42', '--id', 'someone-else', ...common]),
      ]);
      expect(json.code).toBe(0);
      expect(JSON.parse(json.stdout).holds).toMatchObject([{ kind: 'tree', path: 'jobs/42', mode: 'write', id }]);
      expect(foreign.code).toBe(1);
      expect((await tree.status('jobs')).holds).toHaveLength(1);
      const mine = await spawnCli(['release', 'jobs/42', '--id', id, ...common]);
      expect(mine.code).toBe(0);
      expect((await tree.status('jobs')).holds).toHaveLength(0);
    } finally {
      await tree.close();
    }
  });

  it('runs the demo against a given Redis and exits by itself with no conflicting holds', async () => {
    const run = await spawnCli(['demo', '--duration', '1500', '--url', server.url, '--prefix', freshPrefix()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('hilok demo');
    expect(run.stdout).toMatch(/demo/);
    expect(run.stdout).toMatch(/done: \d+ reads? and \d+ writes? granted .* conflicting holds seen: 0/);
    expect(run.ms).toBeLessThan(10_000);
  });
});
