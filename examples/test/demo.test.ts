/**
 * `pnpm demo` as a newcomer runs it: no build log before the output (the script builds
 * nothing: tsx runs the sources), the tree with its parents, fencing tokens in full.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { treeLines } from '../demo.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

it('treeLines shows the parents of every hold, even unheld ones, with whole fencing tokens', () => {
  const lines = treeLines(
    [
      { path: 'shop/catalog', mode: 'write', ttl: 9_900, fence: 1796628483052734 },
      { path: 'shop/orders/42', mode: 'read', ttl: 5_000, fence: 1796628483052999 },
    ],
    [{ path: 'shop' }],
  );
  expect(lines).toEqual([
    'shop                  waiting write (readers arriving here queue behind it)',
    '├─ catalog            write  ttl  9.9 s  fence 1796628483052734',
    '└─ orders',
    '   └─ 42              read   ttl  5.0 s  fence 1796628483052999',
  ]);
  expect(treeLines([], [])).toEqual(['(nothing held)']);
});

it('pnpm demo prints its own output first — no build log — and the tree with parents and full fences', { timeout: 90_000 }, async () => {
  const script = (JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { scripts: Record<string, string> }).scripts.demo as string;
  expect(script).not.toMatch(/turbo|tsup|pnpm (run )?build/);
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('sh', ['-c', script], { cwd: root, env: { ...process.env, PATH: `${root}/node_modules/.bin:${process.env.PATH}`, REDIS_URL: '' }, timeout: 80_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? -1) : 0, stdout, stderr }),
    );
  });
  expect(code, stderr).toBe(0);
  expect(stderr).toBe('');
  expect(stdout.split('\n')[0]).toMatch(/^hilok demo on redis:\/\/127\.0\.0\.1:\d+ \(embedded redis-server\)$/);
  expect(stdout).toContain('counter = 200 (expected 200): nothing lost');
  // Every hold in a live tree shows its whole fence, and a hold below shop/ comes under a `shop` line.
  const holds = stdout.split('\n').filter((l) => / (read|write) +ttl /.test(l));
  expect(holds.length).toBeGreaterThan(0);
  for (const l of holds) expect(l).toMatch(/fence \d{16}$/);
  expect(stdout).not.toMatch(/fence …/);
  expect(stdout).toMatch(/\n {4}shop.*\n {4}└─ catalog/);
  expect(stdout).toContain('keys left in Redis after release: 0');
});
