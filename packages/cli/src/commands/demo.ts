import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { LockBusyError, type HiLok as CoreHiLok } from '@hilok/core';
import { HiLok as IoHiLok } from '@hilok/ioredis';
import { HiLok as NrHiLok } from '@hilok/node-redis';
import { connect, type Connection } from '../connect.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import { oneTarget, parseCommand, parseMs, type CliIO } from '../options.js';
import { paletteFor } from '../render.js';
import { Stopper, draw, enterScreen, frame } from './watch.js';

/** Help of `hilok demo`. */
export const DEMO_HELP = `Usage: hilok demo [options]

Workers on both drivers (ioredis and node-redis) take read and write holds on a small tree
(demo, demo/catalog, demo/catalog/item-1, demo/orders/42, …) while the live tree shows who
holds what and who waits. Every hold is checked against the others: a read and a write (or two
writes) on the same path, or on a path and its ancestor, must never overlap. Ends by itself.

Starts a throwaway redis-server (from PATH, on a free port, no persistence) unless --url or
REDIS_URL names one.

Options:
  --duration <ms>      how long the workers run (default: 5000)
  --workers <n>        number of workers (default: 6)
  --url <url>          use this Redis instead of an embedded redis-server
  --prefix <prefix>    key prefix of the locks (default: hilok:)
  -h, --help           show this help

Exit codes: 0 no conflicting holds seen, 1 a conflict was seen or redis-server could not start,
2 usage error, 3 Redis unreachable or bad URL.
`;

const PATHS = ['demo', 'demo/catalog', 'demo/catalog/item-1', 'demo/catalog/item-2', 'demo/orders', 'demo/orders/42', 'demo/orders/43'];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the demo's tree shows, for a first-time reader (printed once, or under the live view). */
export const DEMO_LEGEND = [
  'How to read it:',
  '  demo/catalog/item-1  a path of the tree; its parents are shown even when only it is held',
  '  read / write         reads share a path; a write excludes its path, its parents and all below it',
  '  vm:1234              the owner: host:pid of the holding process (here every worker is in this one)',
  '  ttl 4.7s             lease time left: if the holder dies, Redis frees the lock by itself then',
  '  held 0.3s            how long it has been held',
  "  fence                the fencing token, whole: the Redis server's clock in µs at the grant — it",
  '                       never goes back, so storage can refuse a write that carries an older token',
  '  waiting write        a queued writer: readers arriving after it queue behind it',
];
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

/** Whether holds on `a` and `b` conflict: same path or one is an ancestor of the other, and a write among them. */
function conflicts(a: { path: string; write: boolean }, b: { path: string; write: boolean }): boolean {
  const related = a.path === b.path || a.path.startsWith(`${b.path}/`) || b.path.startsWith(`${a.path}/`);
  return related && (a.write || b.write);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A throwaway redis-server on a free port, without persistence; `stop()` ends it. */
async function startEmbedded(): Promise<{ url: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const bin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const child: ChildProcess = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new CliError(`cannot start ${bin} (${(err as NodeJS.ErrnoException).code ?? err.message}); install redis-server or pass --url`, ExitCode.Failed)));
    child.once('exit', (code) => reject(new CliError(`${bin} exited at start (code ${code})`, ExitCode.Failed)));
  });
  failed.catch(() => undefined);
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 5_000;
  for (;;) {
    const probe = await Promise.race([connect(url, 'ioredis').then((c) => c.close()).then(() => true, () => false), failed]);
    if (probe) break;
    if (Date.now() > deadline) {
      kill();
      throw new CliError(`${bin} did not answer on port ${port}`, ExitCode.Failed);
    }
    await sleep(50);
  }
  return {
    url,
    stop: async () => {
      process.off('exit', kill);
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Stats {
  reads: number;
  writes: number;
  waited: number;
  timeouts: number;
  errors: number;
  conflicts: number;
}

/** `hilok demo`: contending workers with the live tree, for `--duration` ms; returns the exit code. */
export async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, { duration: { type: 'string' }, workers: { type: 'string' } }, io.env);
  if (global.help) {
    io.stdout.write(DEMO_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length > 0) throw new UsageError('demo takes no arguments');
  const duration = parseMs(values.duration, 'duration', 5_000, 100);
  const workerCount = parseMs(values.workers, 'workers', 6, 1);
  if (workerCount > 50) throw new UsageError('--workers must be at most 50');
  oneTarget(global, 'demo');
  if (global.sentinel) throw new UsageError('demo runs against one --url (or an embedded redis-server), not through sentinels');

  const embedded = global.urlGiven ? undefined : await startEmbedded();
  const url = embedded?.url ?? global.url;
  let conn: Connection | undefined;
  const locks: CoreHiLok[] = [];
  try {
    conn = await connect(url, global.driver);
    const colors = paletteFor(io.stdout, io.env);
    const tty = io.stdout.isTTY === true;
    const stats: Stats = { reads: 0, writes: 0, waited: 0, timeouts: 0, errors: 0, conflicts: 0 };
    const active = new Set<{ path: string; write: boolean }>();
    const stopper = new Stopper();
    const abort = new AbortController();
    const leave = enterScreen(io, stopper.stop, false);

    const worker = async (i: number) => {
      const driver = i % 2 === 0 ? 'ioredis' : 'node-redis';
      const hilok = driver === 'ioredis' ? new IoHiLok(url, { prefix: global.prefix }) : new NrHiLok(url, { prefix: global.prefix });
      locks.push(hilok);
      await sleep(between(0, 200));
      while (!stopper.stopped) {
        const path = PATHS[between(0, PATHS.length)] as string;
        const write = Math.random() < 0.35;
        const asked = performance.now();
        try {
          const body = async () => {
            if (performance.now() - asked > 5) stats.waited++;
            const me = { path, write };
            for (const other of active) if (conflicts(me, other)) stats.conflicts++;
            active.add(me);
            try {
              await sleep(between(250, 900));
            } finally {
              active.delete(me);
            }
          };
          const options = { timeout: 2_000, ttl: 5_000, signal: abort.signal };
          if (write) await hilok.withWrite(path, body, options);
          else await hilok.withRead(path, body, options);
          if (write) stats.writes++;
          else stats.reads++;
        } catch (err) {
          if (abort.signal.aborted) break;
          if (err instanceof LockBusyError) stats.timeouts++;
          else stats.errors++;
        }
        await stopper.sleep(between(50, 250));
      }
    };

    const started = Date.now();
    const workers = Array.from({ length: workerCount }, (_, i) => worker(i));
    const footer = () => {
      const left = Math.max(0, duration - (Date.now() - started));
      return [
        `${workerCount} workers (ioredis + node-redis) · granted ${plural(stats.reads, 'read')}, ${plural(stats.writes, 'write')} · waited ${stats.waited} · timed out ${stats.timeouts}` +
          (stats.errors ? ` · errors ${stats.errors}` : ''),
        (stats.conflicts === 0 ? colors.read : colors.write)(`conflicting holds seen: ${stats.conflicts}`) + colors.dim(`   ends in ${(left / 1000).toFixed(1)}s${tty ? ' — q quits' : ''}`),
      ];
    };
    const title = `hilok demo — ${embedded ? `embedded redis-server on ${url}` : conn.displayUrl} — prefix ${global.prefix}`;
    // Not a terminal: the legend once, then plain frames (no colour key, which means nothing there).
    if (!tty) io.stdout.write(DEMO_LEGEND.join('\n') + '\n\n');
    let lastPrinted = 0;
    while (!stopper.stopped && Date.now() - started < duration) {
      const lines = await frame(conn, {
        title,
        path: 'demo',
        prefix: global.prefix,
        separator: '/',
        kinds: ['tree'],
        colors,
        width: io.stdout.columns,
        footer: tty ? [...footer(), '', ...DEMO_LEGEND.map((l) => colors.dim(l))] : footer(),
        plain: !tty,
      });
      if (tty) draw(io.stdout, lines);
      else if (Date.now() - lastPrinted >= 1_000) {
        io.stdout.write(lines.join('\n') + '\n\n');
        lastPrinted = Date.now();
      }
      await stopper.sleep(tty ? 200 : 250);
    }
    stopper.stop();
    abort.abort();
    await Promise.all(workers);
    leave();
    io.stdout.write(
      `\n${colors.bold('done')}: ${plural(stats.reads, 'read')} and ${plural(stats.writes, 'write')} granted in ${((Date.now() - started) / 1000).toFixed(1)} s, ` +
        `${stats.waited} after waiting, ${stats.timeouts} timed out; conflicting holds seen: ${stats.conflicts}\n`,
    );
    return stats.conflicts === 0 && stats.errors === 0 ? ExitCode.Ok : ExitCode.Failed;
  } finally {
    await Promise.all(locks.map((l) => l.close().catch(() => undefined)));
    await conn?.close();
    await embedded?.stop();
  }
}
