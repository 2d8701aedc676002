/**
 * `hilok watch` driven as a person would: in a real terminal (tmux, 120×40), while this process
 * holds and waits for locks; assertions are on what the screen shows. And as a script would:
 * through a pipe, where it must write plain text frames and no escape code.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok, Mutex } from '@hilok/ioredis';
import { useRedis, waitFor, type RedisServer } from '@hilok/testing';
import { CLI_ENV, NODE_ARGS, ROOT, freshPrefix, spawnCli } from './helpers.js';
import { ownerLabel } from '../src/render.js';

// tmux is required (scripts/setup.sh installs it): a missing tmux must fail this test, not skip it.
execFileSync('tmux', ['-V'], { stdio: 'ignore' });

const session = `hilok-watch-${process.pid}`;
// A tmux server of our own (-L), so nothing else's sessions are touched.
const socket = `hilok-cli-test-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: CLI_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
const screen = () => tmux('capture-pane', '-p', '-t', session);
const alive = () => {
  try {
    tmux('has-session', '-t', session);
    return true;
  } catch {
    return false;
  }
};
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

let server: RedisServer;
const scratch = mkdtempSync(join(tmpdir(), 'hilok-watch-'));
beforeAll(async () => {
  server = await useRedis();
});
afterAll(async () => {
  if (alive()) tmux('kill-server');
  rmSync(scratch, { recursive: true, force: true });
  await server?.stop();
});

describe('hilok watch in a terminal', () => {
  it('draws the live tree as holds come and go, shows waiting writers, and quits on q', async () => {
    const prefix = freshPrefix();
    const a = new HiLok(server.url, { prefix, ttl: 30_000 });
    const b = new HiLok(server.url, { prefix, ttl: 30_000 });
    const mutex = new Mutex(server.url, { prefix, ttl: 30_000 });
    const abort = new AbortController();
    try {
      const write = await a.acquireWrite('shop/catalog/item-1');
      const read = await a.acquireRead('shop/orders');
      await mutex.acquire('invoice:42');

      const command = [process.execPath, ...NODE_ARGS, 'watch', '--url', server.url, '--prefix', prefix, '--interval', '200'].map(shellQuote).join(' ');
      // Colours on (NO_COLOR unset); the exit code lands in a file once the watch ends.
      const exitFile = join(scratch, 'exit-code');
      const env = `TERM=xterm-256color NO_COLOR= TSX_TSCONFIG_PATH=${shellQuote(CLI_ENV.TSX_TSCONFIG_PATH)}`;
      tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', ROOT, `${env} ${command}; echo $? > ${shellQuote(exitFile)}`);

      await waitFor(() => /catalog/.test(screen()), { timeout: 15_000 });
      let shown = screen();
      expect(shown).toContain('hilok watch');
      expect(shown).toMatch(/tree \(HiLok\)/);
      expect(shown).toMatch(/└─ shop/);
      expect(shown).toMatch(/catalog/);
      expect(shown).toMatch(new RegExp(`item-1 +write +${ownerLabel(write)} +ttl +\\d+s`));
      expect(shown).toMatch(new RegExp(`orders +read +${ownerLabel(read)} +ttl`));
      expect(shown).toMatch(/invoice:42 +write/);
      // On a terminal: colours (reads green, writes red) — the escape codes a pipe never gets.
      const coloured = tmux('capture-pane', '-p', '-e', '-t', session);
      expect(coloured).toMatch(/\x1b\[3[12]m/);

      // A writer waiting for `shop` shows up as waiting, then gets in once the holds are gone.
      const waiting = b.acquireWrite('shop', { timeout: 20_000, signal: abort.signal });
      await waitFor(() => /shop +waiting write/.test(screen()), { timeout: 5_000 });

      expect(await a.release('shop/catalog/item-1', write)).toBe(true);
      await waitFor(() => !/item-1/.test(screen()), { timeout: 5_000 });
      expect(await a.release('shop/orders', read)).toBe(true);
      const writer = await waiting;
      await waitFor(() => new RegExp(`shop +write +${ownerLabel(writer)}`).test(screen()), { timeout: 5_000 });
      shown = screen();
      expect(shown).not.toMatch(/waiting write/);
      expect(shown).toContain('2 held, 0 waiting');
      expect(shown).not.toMatch(/orders/);

      tmux('send-keys', '-t', session, 'q');
      await waitFor(() => !alive(), { timeout: 5_000 });
      expect(readFileSync(exitFile, 'utf8').trim()).toBe('0');
    } finally {
      abort.abort();
      await Promise.all([a.close(), b.close(), mutex.close()]);
    }
  });
});

describe('hilok watch through a pipe', () => {
  it('writes plain frames — a timestamped title, the tree, a blank line — with no escape code, and exits 0 on SIGTERM', async () => {
    const prefix = freshPrefix();
    const tree = new HiLok(server.url, { prefix, ttl: 30_000 });
    const mutex = new Mutex(server.url, { prefix, ttl: 30_000 });
    // Colours would be allowed by the environment (NO_COLOR unset): only "not a terminal" turns them off.
    const child = spawn(process.execPath, [...NODE_ARGS, 'watch', '--url', server.url, '--prefix', prefix, '--interval', '100'], {
      cwd: ROOT,
      env: { ...CLI_ENV, NO_COLOR: '', TERM: 'xterm-256color' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const write = await tree.acquireWrite('shop/catalog/item-1');
      await mutex.acquire('invoice:42');
      const frames = () => out.split('\n\n').filter((f) => f.startsWith('hilok watch'));
      await waitFor(() => frames().filter((f) => /item-1/.test(f) && /invoice:42/.test(f)).length >= 2, { timeout: 15_000 });
      child.kill('SIGTERM');
      expect(await exited, err).toBe(0);

      expect(out).not.toContain('\x1b');
      const shown = frames().filter((f) => /item-1/.test(f)).at(-1) as string;
      expect(shown.split('\n')[0]).toMatch(/^hilok watch — redis:\/\/127\.0\.0\.1:\d+ — prefix \S+ — every 100 ms +\d\d:\d\d:\d\dZ +2 held, 0 waiting$/);
      expect(shown).toMatch(/└─ shop/);
      expect(shown).toMatch(new RegExp(`item-1 +write +${ownerLabel(write)} +ttl +\\d+s`));
      expect(shown).toMatch(/invoice:42 +write/);
      // Line-oriented: every frame is complete lines, and frames follow each other without redraws.
      expect(out.endsWith('\n\n')).toBe(true);
      expect(out.split('\n\n').slice(0, -1).every((f) => f.startsWith('hilok watch'))).toBe(true);
    } finally {
      child.kill('SIGKILL');
      await Promise.all([tree.close(), mutex.close()]);
    }
  });

  it('exits 3 with no escape code when Redis is down, and 2 on bad input, also through a pipe', async () => {
    const [down, bad] = await Promise.all([spawnCli(['watch', '--url', 'redis://127.0.0.1:1']), spawnCli(['watch', '--interval', '0'])]);
    expect(down.code, down.stderr).toBe(3);
    expect(bad.code, bad.stderr).toBe(2);
    for (const run of [down, bad]) expect(run.stdout + run.stderr).not.toContain('\x1b');
  });
});
