import { connect } from '../connect.js';
import { ExitCode, UsageError } from '../errors.js';
import { parseCommand, parseKinds, type CliIO } from '../options.js';
import { paletteFor, renderInspect } from '../render.js';
import { readSnapshot } from '../snapshot.js';

/** Help of `hilok inspect`. */
export const INSPECT_HELP = `Usage: hilok inspect [path] [options]

Show who holds what at a path and below — mode, owner id, remaining ttl, fencing token — and
who is waiting, for every lock kind (tree/HiLok, rw, mutex/spin/reentrant, fair). Read-only:
uses SCAN, never KEYS, and changes nothing.

Arguments:
  path                 a lock name or tree path; shows it and everything below it (default: all)

Options:
  --kind <k[,k]>       only these kinds: tree, rw, mutex, fair
  --json               print {now, prefix, path, holds[], waiting[]} as JSON
  --url <url>          Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379)
  --driver <name>      ioredis (default) or node-redis
  --prefix <prefix>    key prefix of the locks (default: hilok:)
  --separator <sep>    tree path separator (default: /)
  -h, --help           show this help

Exit codes: 0 ok (also when nothing is held), 2 usage error, 3 Redis unreachable or bad URL.
`;

/** `hilok inspect [path]`: print the holds and waiters under a path; returns the exit code. */
export async function inspectCommand(argv: string[], io: CliIO): Promise<number> {
  const { global, values, positionals } = parseCommand(argv, { kind: { type: 'string' } }, io.env);
  if (global.help) {
    io.stdout.write(INSPECT_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length > 1) throw new UsageError(`inspect takes at most one path, got ${positionals.length}`);
  const kinds = parseKinds(values.kind);
  const conn = await connect(global.url, global.driver);
  try {
    const snap = await readSnapshot(conn, { prefix: global.prefix, path: positionals[0], separator: global.separator, kinds });
    io.stdout.write(global.json ? JSON.stringify(snap, null, 2) + '\n' : renderInspect(snap, paletteFor(io.stdout, io.env)));
    return ExitCode.Ok;
  } finally {
    await conn.close();
  }
}
