/**
 * What a newcomer sees first: `hilok demo`'s output and the tree it draws (renderTree) — parents
 * shown even when only a child is held, fencing tokens in full, a legend once, no escape codes
 * or terminal-only hints when the output is not a terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok } from '@hilok/ioredis';
import { useRedis, type RedisServer } from '@hilok/testing';
import { connect } from '../src/connect.js';
import { DEMO_LEGEND } from '../src/commands/demo.js';
import { renderTree } from '../src/render.js';
import { readSnapshot } from '../src/snapshot.js';
import { freshPrefix, spawnCli } from './helpers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await useRedis();
});
afterAll(async () => {
  await server?.stop();
});

describe('renderTree', () => {
  it('shows every parent of a hold, even parents nobody holds, and the fencing token in full', async () => {
    const prefix = freshPrefix();
    const tree = new HiLok(server.url, { prefix, ttl: 20_000 });
    const conn = await connect(server.url, 'ioredis');
    try {
      const catalog = await tree.write('shop/catalog');
      const deep = await tree.read('a/b/c/d');
      const snap = await readSnapshot(conn, { prefix, separator: '/' });
      const lines = renderTree(snap, { separator: '/' });
      const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
      // `catalog write` comes under its parent `shop`, which has no hold of its own.
      expect(at(/^  [└├]─ shop$/)).toBeGreaterThanOrEqual(0);
      expect(at(/^  [│ ]  └─ catalog +write /)).toBe(at(/^  [└├]─ shop$/) + 1);
      // Each level of a deeper path is a line of its own, in order.
      const a = at(/─ a$/);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(lines.slice(a, a + 4).map((l) => /─ (\S+)/.exec(l)?.[1])).toEqual(['a', 'b', 'c', 'd']);
      // …each one level deeper than the one before.
      expect(lines.slice(a, a + 4).map((l) => l.indexOf('─'))).toEqual([3, 6, 9, 12]);
      expect(lines[a + 3]).toMatch(/read/);
      // Fencing tokens whole, never cut to `…004976`.
      expect(lines.join('\n')).toContain(`fence ${catalog.fence}`);
      expect(lines.join('\n')).toContain(`fence ${deep.fence}`);
      expect(lines.join('\n')).not.toContain('…');
      await Promise.all([catalog.release(), deep.release()]);
    } finally {
      await conn.close();
      await tree.close();
    }
  });
});

describe('hilok demo, as a newcomer reads it (not a terminal)', () => {
  it('prints the legend once, then plain frames with parents and whole fencing tokens, and a summary', async () => {
    const run = await spawnCli(['demo', '--duration', '2000', '--url', server.url, '--prefix', freshPrefix()], { env: { NO_COLOR: '' } });
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout;
    // The legend first, once; no colour key, no "q quits" (nobody can press q in a pipe), no escape codes.
    expect(out.startsWith(DEMO_LEGEND.join('\n') + '\n\n')).toBe(true);
    expect(out.split('How to read it:')).toHaveLength(2);
    expect(out).not.toContain('\x1b');
    expect(out).not.toContain('■');
    expect(out).not.toContain('q quits');
    // Frames: every hold below demo/ hangs under `demo`, its fence printed in full (16 digits: µs).
    const holds = out.split('\n').filter((l) => / (read|write) +\S+ +ttl /.test(l));
    expect(holds.length).toBeGreaterThan(0);
    for (const l of holds) expect(l).toMatch(/fence \d{16}$/);
    // The root line: `demo` alone when only paths below it are held, or with a hold or a waiting
    // writer of its own (the workers' timing decides).
    expect(out).toMatch(/tree \(HiLok\)\n  └─ demo(\n| +(read|write|waiting) )/);
    expect(out).toMatch(/\ndone: \d+ reads? and \d+ writes? granted in [\d.]+ s, \d+ after waiting, \d+ timed out; conflicting holds seen: 0\n$/);
  });
});
