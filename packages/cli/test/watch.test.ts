/**
 * `hilok watch` driven as a person would: in a real terminal (tmux, 120×40), while this process
 * holds and waits for locks; assertions are on what the screen shows.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok, Mutex } from '@hilok/ioredis';
import { useRedis, waitFor, type RedisServer } from '@hilok/testing';
import { CLI_ENV, NODE_ARGS, ROOT, freshPrefix } from './helpers.js';

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
beforeAll(async () => {
  server = await useRedis();
});
afterAll(async () => {
  if (alive()) tmux('kill-server');
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
      tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', ROOT, `TERM=xterm-256color TSX_TSCONFIG_PATH=${shellQuote(CLI_ENV.TSX_TSCONFIG_PATH)} ${command}`);

      await waitFor(() => /catalog/.test(screen()), { timeout: 15_000 });
      let shown = screen();
      expect(shown).toContain('hilok watch');
      expect(shown).toMatch(/tree \(HiLok\)/);
      expect(shown).toMatch(/└─ shop/);
      expect(shown).toMatch(/catalog/);
      expect(shown).toMatch(new RegExp(`item-1 +write +${write.slice(0, 8)} +ttl +\\d+s`));
      expect(shown).toMatch(new RegExp(`orders +read +${read.slice(0, 8)} +ttl`));
      expect(shown).toMatch(/invoice:42 +write/);

      // A writer waiting for `shop` shows up as waiting, then gets in once the holds are gone.
      const waiting = b.acquireWrite('shop', { timeout: 20_000, signal: abort.signal });
      await waitFor(() => /shop +waiting write/.test(screen()), { timeout: 5_000 });

      expect(await a.release('shop/catalog/item-1', write)).toBe(true);
      await waitFor(() => !/item-1/.test(screen()), { timeout: 5_000 });
      expect(await a.release('shop/orders', read)).toBe(true);
      const writer = await waiting;
      await waitFor(() => new RegExp(`shop +write +${writer.slice(0, 8)}`).test(screen()), { timeout: 5_000 });
      shown = screen();
      expect(shown).not.toMatch(/waiting write/);
      expect(shown).toContain('2 held, 0 waiting');
      expect(shown).not.toMatch(/orders/);

      tmux('send-keys', '-t', session, 'q');
      await waitFor(() => !alive(), { timeout: 5_000 });
    } finally {
      abort.abort();
      await Promise.all([a.close(), b.close(), mutex.close()]);
    }
  });
});
