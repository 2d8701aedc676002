/**
 * Every failure class of every command, through the real process (exit code, and with --json
 * one `{"ok":false,"error":{…}}` object on stdout), and once more in-process without --json
 * (nothing on stdout, the message on stderr). The table in docs/cli.md is read back and must
 * list exactly the (exit code, error code, command) triples tested here.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok, Mutex } from '@hilok/ioredis';
import { freePort, useRedis, waitFor, type RedisServer } from '@hilok/testing';
import { CLI_ENV, NODE_ARGS, ROOT, freshPrefix, runCli, spawnCli, type Run } from './helpers.js';

let server: RedisServer;
let closed: number;
beforeAll(async () => {
  server = await useRedis();
  closed = await freePort();
});
afterAll(async () => {
  await server?.stop();
});

interface Case {
  command: 'inspect' | 'watch' | 'release' | 'demo';
  code: 'NOT_FOUND' | 'BUSY' | 'ABORTED' | 'FAILED' | 'USAGE' | 'UNREACHABLE' | 'BAD_URL';
  exit: number;
  /** Arguments after the command (without --json); a function for those that need the server. */
  args: () => string[];
  input?: string;
  env?: Record<string, string>;
  /** What the message says. */
  message: RegExp;
}

const down = () => `redis://127.0.0.1:${closed}`;
let prefix = '';
let held = { tree: '', mutex: '' };
const at = () => ['--url', server.url, '--prefix', prefix];

const CASES: Case[] = [
  // Bad input: exit 2 (command line), exit 3 for a malformed URL.
  { command: 'inspect', code: 'USAGE', exit: 2, args: () => ['a', 'b'], message: /at most one path/ },
  { command: 'watch', code: 'USAGE', exit: 2, args: () => ['--interval', 'soon'], message: /--interval must be an integer/ },
  { command: 'release', code: 'USAGE', exit: 2, args: () => ['x'], message: /release needs --id/ },
  { command: 'demo', code: 'USAGE', exit: 2, args: () => ['extra'], message: /demo takes no arguments/ },
  { command: 'inspect', code: 'BAD_URL', exit: 3, args: () => ['--url', 'not a url'], message: /bad Redis URL "not a url"/ },
  { command: 'watch', code: 'BAD_URL', exit: 3, args: () => ['--url', 'http://127.0.0.1:6379'], message: /scheme must be redis:\/\// },
  { command: 'release', code: 'BAD_URL', exit: 3, args: () => ['x', '--id', 'y', '--url', 'redis://127.0.0.1/zero'], message: /database must be a number/ },
  { command: 'demo', code: 'BAD_URL', exit: 3, args: () => ['--url', 'redis://'], message: /bad Redis URL/ },
  // Redis down: exit 3.
  { command: 'inspect', code: 'UNREACHABLE', exit: 3, args: () => ['--url', down()], message: /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/ },
  { command: 'watch', code: 'UNREACHABLE', exit: 3, args: () => ['--url', down()], message: /cannot reach Redis/ },
  { command: 'release', code: 'UNREACHABLE', exit: 3, args: () => ['x', '--id', 'y', '--url', down()], message: /cannot reach Redis/ },
  { command: 'demo', code: 'UNREACHABLE', exit: 3, args: () => ['--url', down()], message: /cannot reach Redis/ },
  // Not found / busy / refused: exit 1.
  { command: 'release', code: 'NOT_FOUND', exit: 1, args: () => ['nobody/here', '--id', 'x', ...at()], message: /no live hold with id x on "nobody\/here" \(it expired or was released\)/ },
  { command: 'release', code: 'NOT_FOUND', exit: 1, args: () => ['nothing:here', '--force', '--yes', ...at()], message: /nothing to release/ },
  { command: 'release', code: 'BUSY', exit: 1, args: () => ['jobs/42', '--id', 'someone-else', ...at()], message: /held by someone else \(tree write \S+\)/ },
  { command: 'release', code: 'BUSY', exit: 1, args: () => ['invoice:42', '--id', 'someone-else', '--kind', 'mutex', ...at()], message: /held by someone else \(mutex write/ },
  { command: 'release', code: 'ABORTED', exit: 1, args: () => ['invoice:42', '--force', ...at()], input: 'n\n', message: /aborted: nothing was changed/ },
  { command: 'demo', code: 'FAILED', exit: 1, args: () => [], env: { REDIS_SERVER_BIN: '/nonexistent/redis-server' }, message: /cannot start \/nonexistent\/redis-server/ },
];

function expectJsonFailure(run: Run, c: Case): void {
  const label = `${c.command} ${c.code}: ${run.stderr}`;
  expect(run.code, label).toBe(c.exit);
  const body = JSON.parse(run.stdout) as { ok: boolean; error: { code: string; exitCode: number; message: string } };
  expect(body, label).toEqual({ ok: false, error: { code: c.code, exitCode: c.exit, message: expect.stringMatching(c.message) } });
  expect(Object.keys(body.error)).toEqual(['code', 'exitCode', 'message']);
  expect(run.stderr).toContain(`hilok: `);
}

describe('exit codes and JSON errors, for every failure class of every command', () => {
  it('through the process: each case exits with its code and prints its JSON error on stdout with --json', { timeout: 180_000 }, async () => {
    prefix = freshPrefix();
    const tree = new HiLok(server.url, { prefix, ttl: 30_000 });
    const mutex = new Mutex(server.url, { prefix, ttl: 30_000 });
    try {
      held = { tree: await tree.acquireWrite('jobs/42'), mutex: (await mutex.acquire('invoice:42')).token };
      // Three processes at a time: enough to keep a 2-core machine busy without starving it.
      for (let i = 0; i < CASES.length; i += 3) {
        const batch = CASES.slice(i, i + 3);
        const runs = await Promise.all(batch.map((c) => spawnCli([c.command, ...c.args(), '--json'], { input: c.input, env: c.env })));
        batch.forEach((c, j) => expectJsonFailure(runs[j] as Run, c));
      }
      // Nothing was released by any of them.
      expect((await tree.status('jobs/42')).holds.map((h) => h.id)).toEqual([held.tree]);
      expect((await mutex.inspect('invoice:42'))?.owner).toBe(held.mutex);
    } finally {
      await Promise.all([tree.close(), mutex.close()]);
    }
  });

  it('in-process without --json: the same exit codes, nothing on stdout, the message on stderr', async () => {
    prefix = freshPrefix();
    const tree = new HiLok(server.url, { prefix, ttl: 30_000 });
    const mutex = new Mutex(server.url, { prefix, ttl: 30_000 });
    const saved = process.env.REDIS_SERVER_BIN;
    try {
      held = { tree: await tree.acquireWrite('jobs/42'), mutex: (await mutex.acquire('invoice:42')).token };
      for (const c of CASES) {
        if (c.env) process.env.REDIS_SERVER_BIN = c.env.REDIS_SERVER_BIN;
        const run = await runCli([c.command, ...c.args()], c.input ?? '');
        if (c.env) {
          if (saved === undefined) delete process.env.REDIS_SERVER_BIN;
          else process.env.REDIS_SERVER_BIN = saved;
        }
        expect(run.code, `${c.command} ${c.code}: ${run.stderr}`).toBe(c.exit);
        expect(run.stdout).toBe('');
        expect(run.stderr).toMatch(c.message);
      }
    } finally {
      await Promise.all([tree.close(), mutex.close()]);
    }
  });

  it('docs/cli.md lists exactly these exit codes, error codes and commands', () => {
    const doc = readFileSync(fileURLToPath(new URL('../../../docs/cli.md', import.meta.url)), 'utf8');
    const start = doc.indexOf('| exit code | `error.code`');
    expect(start).toBeGreaterThan(0);
    const rows = doc
      .slice(start)
      .split('\n')
      .slice(2)
      .filter((l) => l.startsWith('|'))
      .map((l) => l.split('|').map((c) => c.trim()));
    const documented = new Set<string>();
    let ok = false;
    for (const [, exit, code, , commands] of rows) {
      if (exit === '0') {
        ok = true;
        continue;
      }
      for (const command of (commands as string).split(',').map((x) => x.trim().replace(/`/g, ''))) {
        documented.add(`${exit} ${(code as string).replace(/`/g, '')} ${command}`);
      }
    }
    expect(ok).toBe(true);
    const tested = new Set(CASES.map((c) => `${c.exit} ${c.code} ${c.command}`));
    expect([...documented].sort()).toEqual([...tested].sort());
  });

  it('watch --json writes one snapshot per line (NDJSON) and exits 0 on SIGTERM', async () => {
    const p = freshPrefix();
    const tree = new HiLok(server.url, { prefix: p, ttl: 30_000 });
    const child = spawn(process.execPath, [...NODE_ARGS, 'watch', 'jobs', '--json', '--interval', '100', '--url', server.url, '--prefix', p], {
      cwd: ROOT,
      env: CLI_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const id = await tree.acquireWrite('jobs/7');
      await waitFor(() => out.split('\n').filter((l) => l.includes('jobs/7')).length >= 2, { timeout: 15_000 });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const lines = out.trimEnd().split('\n').map((l) => JSON.parse(l) as { now: number; path: string; holds: { path: string; id: string }[] });
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l).toMatchObject({ prefix: p, path: 'jobs' });
      expect(lines.at(-1)!.holds).toMatchObject([{ path: 'jobs/7', id }]);
      expect(lines.at(-1)!.now).toBeGreaterThan(lines[0]!.now - 1);
    } finally {
      child.kill('SIGKILL');
      await tree.close();
    }
  });

  it('watch ends with exit 0 when the reader of its pipe goes away (`hilok watch | head`)', async () => {
    const child = spawn(process.execPath, [...NODE_ARGS, 'watch', '--interval', '50', '--url', server.url, '--prefix', freshPrefix()], {
      cwd: ROOT,
      env: CLI_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy(); // the reader closes its end: the next frame meets EPIPE
      expect(await exited, err).toBe(0);
      expect(err).toBe('');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
