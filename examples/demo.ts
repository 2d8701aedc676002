/**
 * The hilok demo: workers contending for locks through BOTH drivers at once.
 *
 *   pnpm demo                      # starts a throwaway redis-server
 *   REDIS_URL=redis://host:6379 pnpm demo
 *
 * Part 1: eight workers (four on ioredis, four on node-redis) increment one counter under a
 * Mutex with a deliberately slow read-modify-write; nothing may be lost. Part 2: readers and
 * writers on a HiLok tree, with the live hierarchy printed as it changes.
 */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import * as io from '@hilok/ioredis';
import * as nr from '@hilok/node-redis';
import { startRedis } from '@hilok/testing';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The holds and waiting writers of a HiLok status as a tree: every path segment is a line, so a
 * hold on shop/catalog shows under its parent shop even when shop itself is not held.
 */
export function treeLines(
  holds: { path: string; mode: 'read' | 'write'; ttl: number; fence: number }[],
  waiting: { path: string }[],
): string[] {
  interface Node {
    children: Map<string, Node>;
    entries: string[];
  }
  const root: Node = { children: new Map(), entries: [] };
  const place = (path: string) => {
    let node = root;
    for (const segment of path.split('/')) {
      if (!node.children.has(segment)) node.children.set(segment, { children: new Map(), entries: [] });
      node = node.children.get(segment)!;
    }
    return node;
  };
  for (const h of [...holds].sort((a, b) => a.fence - b.fence)) {
    place(h.path).entries.push(`${h.mode.padEnd(5)}  ttl ${(h.ttl / 1000).toFixed(1).padStart(4)} s  fence ${h.fence}`);
  }
  for (const w of waiting) place(w.path).entries.push('waiting write (readers arriving here queue behind it)');
  const lines: string[] = [];
  const walk = (node: Node, indent: string, top: boolean) => {
    const names = [...node.children.keys()].sort();
    names.forEach((name, i) => {
      const child = node.children.get(name)!;
      const last = i === names.length - 1;
      const label = top ? name : `${indent}${last ? '└─ ' : '├─ '}${name}`;
      const more = top ? '' : `${indent}${last ? '   ' : '│  '}`;
      if (child.entries.length === 0) lines.push(label);
      child.entries.forEach((e, j) => lines.push(`${(j === 0 ? label : `${more}   `).padEnd(22)}${e}`));
      walk(child, more, false);
    });
  };
  walk(root, '', true);
  return lines.length ? lines : ['(nothing held)'];
}

async function main(): Promise<void> {
  const server = process.env.REDIS_URL ? undefined : await startRedis();
  const url = process.env.REDIS_URL || server!.url;
  console.log(`hilok demo on ${url}${server ? ' (embedded redis-server)' : ''}\n`);

  const ioClient = new Redis(url);
  const nrClient = createClient({ url });
  await nrClient.connect();
  const mutexes = { ioredis: new io.Mutex(ioClient, { ttl: 5_000 }), 'node-redis': new nr.Mutex(nrClient, { ttl: 5_000 }) };
  await ioClient.del('demo:counter');

  // ---- Part 1: a Mutex shared by both drivers -------------------------------------------
  console.log('Part 1 — Mutex: 8 workers, 25 increments each, slow read-modify-write under the lock');
  console.log('  Without the lock, concurrent read-modify-writes would lose increments. "waited": from asking');
  console.log('  to holding; "hand-offs": grants passed straight from a releasing worker to a waiting one.\n');
  const rounds = 25;
  const stats: { worker: string; holds: number; waits: number[]; handoffs: number }[] = [];
  let lastFence = 0;
  let fenceViolations = 0;
  await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const driver = i % 2 === 0 ? 'ioredis' : 'node-redis';
      const mutex = mutexes[driver];
      const s = { worker: `w${i} (${driver})`, holds: 0, waits: [] as number[], handoffs: 0 };
      stats.push(s);
      for (let r = 0; r < rounds; r++) {
        const asked = performance.now();
        await using lock = await mutex.acquire('demo:counter', { timeout: 10_000 });
        const waited = performance.now() - asked;
        s.waits.push(waited);
        if (waited > 1) s.handoffs++;
        if (lock.fence <= lastFence) fenceViolations++;
        lastFence = lock.fence;
        const value = Number((await ioClient.get('demo:counter')) ?? 0);
        await sleep(1);
        await ioClient.set('demo:counter', value + 1);
        s.holds++;
      }
    }),
  );
  stats.sort((a, b) => a.worker.localeCompare(b.worker));
  for (const s of stats) {
    const avg = s.waits.reduce((a, b) => a + b, 0) / s.waits.length;
    console.log(
      `  ${s.worker.padEnd(18)} holds ${String(s.holds).padStart(3)}  waited avg ${avg.toFixed(1).padStart(5)} ms, ` +
        `max ${Math.max(...s.waits).toFixed(1).padStart(5)} ms  hand-offs ${s.handoffs}`,
    );
  }
  const counter = Number(await ioClient.get('demo:counter'));
  const expected = 8 * rounds;
  console.log(`  counter = ${counter} (expected ${expected}): ${counter === expected ? 'nothing lost' : 'LOST UPDATES'}`);
  console.log(`  fencing tokens strictly increasing: ${fenceViolations === 0 ? 'yes' : `NO (${fenceViolations} violations)`}\n`);

  // ---- Part 2: a HiLok tree ---------------------------------------------------------------
  console.log('Part 2 — HiLok: readers on shop/catalog/*, a writer on shop/catalog, then one on shop');
  console.log('  A write on a path excludes every hold on that path, its ancestors and everything below it;');
  console.log('  reads coexist. The tree shows every path down to each hold (a path with no hold of its own');
  console.log('  is just a name), each hold with its mode, the ttl left on its lease and its fencing token —');
  console.log('  the Redis server\'s clock in µs at the grant, printed in full. It never goes back (readers');
  console.log('  let in together share one): pass it to your storage so a writer that lost its lock cannot');
  console.log('  overwrite a newer one.\n');
  const trees = { ioredis: new io.HiLok(ioClient, { ttl: 10_000 }), 'node-redis': new nr.HiLok(nrClient, { ttl: 10_000 }) };
  const log: string[] = [];
  const started = performance.now();
  const at = () => `${String(Math.round(performance.now() - started)).padStart(5)} ms`;
  const reader = async (driver: keyof typeof trees, item: string) => {
    for (let r = 0; r < 3; r++) {
      await trees[driver].withRead(`shop/catalog/${item}`, async () => {
        log.push(`${at()}  ${driver.padEnd(10)} read  shop/catalog/${item}`);
        await sleep(120);
      });
    }
  };
  const writer = async (driver: keyof typeof trees, path: string, delayMs: number) => {
    await sleep(delayMs);
    const asked = performance.now();
    await trees[driver].withWrite(path, async () => {
      log.push(`${at()}  ${driver.padEnd(10)} WRITE ${path} (waited ${Math.round(performance.now() - asked)} ms)`);
      await sleep(150);
    });
  };
  const watcher = (async () => {
    for (let i = 0; i < 4; i++) {
      await sleep(220);
      const { holds, waitingWriters } = await trees.ioredis.status('shop');
      console.log(`  live tree at ${at()}:`);
      for (const line of treeLines(holds, waitingWriters)) console.log(`    ${line}`);
    }
  })();
  await Promise.all([
    reader('ioredis', 'apples'),
    reader('node-redis', 'pears'),
    reader('ioredis', 'plums'),
    writer('node-redis', 'shop/catalog', 100),
    writer('ioredis', 'shop', 300),
    watcher,
  ]);
  console.log('  what happened:');
  for (const line of log) console.log(`    ${line}`);

  // ---- Cleanup ------------------------------------------------------------------------------
  await Promise.all([...Object.values(mutexes), ...Object.values(trees)].map((m) => m.close()));
  const left = (await ioClient.keys('hilok:*')).length;
  console.log(`\nkeys left in Redis after release: ${left}`);
  await ioClient.del('demo:counter');
  ioClient.disconnect();
  await nrClient.close();
  await server?.stop();
  if (counter !== expected || fenceViolations > 0 || left > 0) process.exitCode = 1;
}

// Run when started as a program (`pnpm demo`), not when a test imports treeLines.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
