import { connect } from '../connect.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseCommand, parseKinds, type CliIO } from '../options.js';
import { paletteFor, renderInspect } from '../render.js';
import { readRedlockView, renderRedlock } from '../redlock.js';
import { readSnapshot } from '../snapshot.js';

/** Help of `hilok inspect`. */
export const INSPECT_HELP = `Usage: hilok inspect [path] [options]

Show who holds what at a path and below — mode, owner id, remaining ttl, fencing token — and
who is waiting, for every lock kind (tree/HiLok, rw, mutex/spin/reentrant, fair, semaphore —
its holds with their permits, and per semaphore the permits used and available). Read-only:
uses SCAN, never KEYS, and changes nothing.

Arguments:
  path                 a lock name or tree path: it and everything below it, after the
                       separator or a ":" (invoice selects invoice:42); or a glob with *, ?
                       or [...] matching whole names / paths ('invoice:4*', 'shop/*/item-*')
                       (default: all)

Options:
  --kind <k[,k]>       only these kinds: tree, rw, mutex, fair, semaphore
  --limit <n>          semaphores' limit, for their available permits (Redis stores none:
                       default the first waiter's) and, on a Redlock set, for the instances
                       a semaphore hold needs
  --json               print {now, prefix, path, holds[], waiting[], semaphores[]} as JSON
                       (a Redlock set: {prefix, path, quorum, instances[], holds[]})
  --url <url>          Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379); a cluster
                       node's URL reaches every master of the cluster
  --url <url> --url …  several URLs: a Redlock set, each hold's instances side by side
  --redlock <u1,u2,…>  the same, comma-separated
  --sentinel <h:p>     reach the master through sentinels (repeat, or comma-separate)
  --name <master>      the master's name for --sentinel
  --driver <name>      ioredis (default) or node-redis
  --prefix <prefix>    key prefix of the locks (default: hilok:)
  --separator <sep>    tree path separator (default: /)
  -h, --help           show this help

Exit codes: 0 ok (also when nothing is held, or some instances of a Redlock set are down),
2 usage error, 3 Redis unreachable (no instance of a Redlock set answers) or bad URL.
`;

/** `hilok inspect [path]`: print the holds and waiters under a path; returns the exit code. */
export async function inspectCommand(argv: string[], io: CliIO): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, { kind: { type: 'string' }, limit: { type: 'string' } }, io.env);
  if (global.help) {
    io.stdout.write(INSPECT_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length > 1) throw new UsageError(`inspect takes at most one path, got ${positionals.length}`);
  const kinds = parseKinds(values.kind);
  const limit = values.limit === undefined ? undefined : parseLimit(values.limit);
  if (global.urls.length > 1) {
    const view = await readRedlockView(global.urls, global.driver, { prefix: global.prefix, path: positionals[0], separator: global.separator, kinds, limit });
    io.stdout.write(global.json ? JSON.stringify(view, null, 2) + '\n' : renderRedlock(view, paletteFor(io.stdout, io.env)));
    return ExitCode.Ok;
  }
  const conn = await connect(global.target, global.driver);
  try {
    const snap = await readSnapshot(conn, { prefix: global.prefix, path: positionals[0], separator: global.separator, kinds, ...(limit === undefined ? {} : { limit }) });
    io.stdout.write(global.json ? JSON.stringify(snap, null, 2) + '\n' : renderInspect(snap, paletteFor(io.stdout, io.env)));
    return ExitCode.Ok;
  } finally {
    await conn.close();
  }
}

/** `--limit`: a semaphore's size, a whole number ≥ 1 (as core's `checkCount`, but a usage error). */
function parseLimit(value: unknown): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 31 - 1) throw new UsageError(`--limit must be a whole number ≥ 1, not "${String(value)}"`);
  return n;
}
