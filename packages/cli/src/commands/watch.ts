import { connect, type Connection } from '../connect.js';
import { ExitCode, UsageError, type JsonFailure } from '../errors.js';
import type { KeyKind } from '../keys.js';
import { oneTarget, parseCommand, parseKinds, parseMs, type CliIO } from '../options.js';
import { PLAIN, paletteFor, renderTree, type Palette } from '../render.js';
import { readSnapshot } from '../snapshot.js';

/** Help of `hilok watch`. */
export const WATCH_HELP = `Usage: hilok watch [path] [options]

A live tree of the locks at a path and below, redrawn as holds come and go: reads in green,
writes in red, waiting writers / queued waiters in yellow, each with its owner, ttl countdown
and fencing token. Read-only, like \`hilok inspect\`. Press q or Ctrl-C to quit.

When stdout is not a terminal (\`hilok watch | tee watch.log\`) it writes plain text instead: no
colours, no cursor moves, no alternate screen — one frame per interval: a title line with the
server's time (HH:MM:SSZ) and the counts, the tree, then one blank line (none inside a frame). It stops
on Ctrl-C, SIGTERM, or when the reader of the pipe goes away.

With --json it writes one line of JSON per interval instead (NDJSON): the snapshot, as
\`hilok inspect --json\` prints it ({now, prefix, path, holds[], waiting[]}), or
{"ok":false,"error":{…}} for an interval whose read failed (the watch goes on).

Arguments:
  path                 a lock name, tree path or glob, as for \`hilok inspect\` (default: all)

Options:
  --interval <ms>      refresh interval (default: 500)
  --kind <k[,k]>       only these kinds: tree, rw, mutex, fair, semaphore
  --json               one JSON snapshot per line per interval (NDJSON)
  --url <url>          Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379); a cluster
                       node's URL reaches every master of the cluster
  --sentinel <h:p>     reach the master through sentinels (repeat, or comma-separate)
  --name <master>      the master's name for --sentinel
  --driver <name>      ioredis (default) or node-redis
  --prefix <prefix>    key prefix of the locks (default: hilok:)
  --separator <sep>    tree path separator (default: /)
  -h, --help           show this help

Exit codes: 0 quit by the user (or the pipe closed), 2 usage error, 3 Redis unreachable or bad URL.
`;

/** What one frame of the live view shows. */
export interface FrameOptions {
  /** Title line. */
  title: string;
  /** Path filter, prefix, separator and kinds, as for a snapshot. */
  path?: string | undefined;
  prefix: string;
  separator: string;
  kinds?: KeyKind[] | undefined;
  /** Colours. */
  colors: Palette;
  /** Terminal size, if known. */
  width?: number | undefined;
  height?: number | undefined;
  /** Extra lines under the tree (e.g. the demo's counters). */
  footer?: string[];
  /** Plain, line-oriented frame (not a terminal): no colour legend, no blank line inside (default false). */
  plain?: boolean;
}

/** Read a snapshot and lay out one frame of the live tree (errors become a line, not a crash). */
export async function frame(conn: Connection, o: FrameOptions): Promise<string[]> {
  const c = o.colors;
  const lines = o.plain ? [o.title] : [c.bold(o.title), `${c.read('■ read')}  ${c.write('■ write')}  ${c.waiting('■ waiting')}`, ''];
  try {
    const snap = await readSnapshot(conn, { prefix: o.prefix, path: o.path, separator: o.separator, kinds: o.kinds });
    lines[0] += c.dim(`  ${new Date(snap.now).toISOString().slice(11, 19)}Z  ${snap.holds.length} held, ${snap.waiting.length} waiting`);
    lines.push(...renderTree(snap, { colors: c, separator: o.separator, width: o.width }));
  } catch (err) {
    lines.push(c.waiting(`  cannot read Redis: ${(err as Error).message} — retrying`));
  }
  if (o.footer) lines.push('', ...o.footer);
  return o.height ? lines.slice(0, o.height - 1) : lines;
}

/** Redraw the screen in place with `lines` (cursor home, clear to end of each line and screen). */
export function draw(out: CliIO['stdout'], lines: string[]): void {
  out.write('\x1b[H' + lines.map((l) => `${l}\x1b[K`).join('\n') + '\n\x1b[J');
}

/**
 * Enter the full-screen live view on a terminal: alternate screen, hidden cursor, raw keys.
 * Calls `onQuit` on q / Ctrl-C (and SIGINT / SIGTERM); returns a function that restores the terminal.
 * With `alternate` false the output stays on the normal screen (the demo's last frame remains).
 */
export function enterScreen(io: CliIO, onQuit: () => void, alternate = true): () => void {
  const tty = io.stdout.isTTY === true && alternate;
  if (tty) io.stdout.write('\x1b[?1049h\x1b[?25l\x1b[2J');
  const onData = (data: Buffer | string) => {
    const s = data.toString();
    if (s.includes('q') || s.includes('Q') || s.includes('\x03')) onQuit();
  };
  const raw = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function';
  if (raw) io.stdin.setRawMode?.(true);
  if (io.stdin.isTTY) {
    io.stdin.on('data', onData);
    io.stdin.resume();
  }
  process.on('SIGINT', onQuit);
  process.on('SIGTERM', onQuit);
  return () => {
    process.off('SIGINT', onQuit);
    process.off('SIGTERM', onQuit);
    if (io.stdin.isTTY) {
      io.stdin.off('data', onData);
      if (raw) io.stdin.setRawMode?.(false);
      io.stdin.pause();
    }
    if (tty) io.stdout.write('\x1b[?25h\x1b[?1049l');
  };
}

/** A sleep that {@link Stopper.stop} cuts short. */
export class Stopper {
  /** Whether stop() was called. */
  stopped = false;
  private wake: (() => void) | undefined;
  /** Stop: ends the current and every later {@link Stopper.sleep} at once. */
  stop = (): void => {
    this.stopped = true;
    this.wake?.();
  };
  /** Sleep `ms`, or less if stopped. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
}

/** `hilok watch [path]`: the live tree until q / Ctrl-C; returns the exit code. */
export async function watchCommand(argv: string[], io: CliIO): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, { interval: { type: 'string' }, kind: { type: 'string' } }, io.env);
  if (global.help) {
    io.stdout.write(WATCH_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length > 1) throw new UsageError(`watch takes at most one path, got ${positionals.length}`);
  const interval = parseMs(values.interval, 'interval', 500, 50);
  const kinds = parseKinds(values.kind);
  oneTarget(global, 'watch');
  const conn = await connect(global.target, global.driver);
  const stopper = new Stopper();
  // Not a terminal (a pipe, a file): no escape codes at all — plain frames one after another,
  // each starting with its timestamped title line and ended by a blank line.
  const tty = io.stdout.isTTY === true && !global.json;
  const leave = enterScreen(io, stopper.stop, !global.json);
  // A reader that goes away (`hilok watch | head`) ends the watch, not the process with EPIPE.
  io.stdout.on('error', stopper.stop);
  try {
    const where = positionals[0] === undefined ? '' : ` "${positionals[0]}"`;
    const quits = tty || io.stdin.isTTY ? ' — q quits' : '';
    while (!global.json && !stopper.stopped) {
      const lines = await frame(conn, {
        title: `hilok watch${where} — ${conn.displayUrl} — prefix ${global.prefix} — every ${interval} ms${quits}`,
        path: positionals[0],
        prefix: global.prefix,
        separator: global.separator,
        kinds,
        colors: tty ? paletteFor(io.stdout, io.env) : PLAIN,
        width: tty ? io.stdout.columns : undefined,
        height: tty ? io.stdout.rows : undefined,
        plain: !tty,
      });
      if (stopper.stopped) break;
      if (tty) draw(io.stdout, lines);
      else io.stdout.write(lines.join('\n') + '\n\n');
      await stopper.sleep(interval);
    }
    // --json: one line per interval (NDJSON): the snapshot as `inspect --json` prints it, or
    // the error of that read ({"ok":false,…}, and the watch goes on, as on the screen).
    while (global.json && !stopper.stopped) {
      let line: string;
      try {
        line = JSON.stringify(await readSnapshot(conn, { prefix: global.prefix, path: positionals[0], separator: global.separator, kinds }));
      } catch (err) {
        const failure: JsonFailure = { ok: false, error: { code: 'UNREACHABLE', exitCode: ExitCode.Unreachable, message: (err as Error).message } };
        line = JSON.stringify(failure);
      }
      if (stopper.stopped) break;
      io.stdout.write(line + '\n');
      await stopper.sleep(interval);
    }
    return ExitCode.Ok;
  } finally {
    io.stdout.off('error', stopper.stop);
    leave();
    await conn.close();
  }
}
