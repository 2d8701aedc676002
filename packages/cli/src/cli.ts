import { createRequire } from 'node:module';
import { isHilokError } from '@hilok/core';
import { demoCommand } from './commands/demo.js';
import { inspectCommand } from './commands/inspect.js';
import { releaseCommand } from './commands/release.js';
import { watchCommand } from './commands/watch.js';
import { CliError, ExitCode, UsageError, type CliErrorCode, type ExitCodeValue, type JsonFailure } from './errors.js';
import type { CliIO } from './options.js';

/** Help of `hilok` itself. */
export const MAIN_HELP = `Usage: hilok <command> [options]

Inspect, watch and release hilok Redis locks (every kind: tree/HiLok, rw, mutex, fair, semaphore).

Commands:
  inspect [path]              who holds what at a path and below, and who waits
  watch [path]                a live tree of holds and waiters (q or Ctrl-C quits)
  release <path|name> --id    release exactly one hold by its owner id
  release <path|name> --force delete / end every hold of one lock, after a confirmation
  demo                        workers contending in a hierarchy, with the live tree (~5 s)

Global options:
  --url <url>          Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379); a cluster
                       node's URL reaches the whole cluster (detected by INFO cluster)
  --sentinel <h:p>     reach the master through sentinels (repeat, or comma-separate), with
  --name <master>      the name they monitor it by; --url then only gives password and db
  --redlock <u1,u2,…>  inspect a Redlock set side by side (or --url given several times)
  --driver <name>      ioredis (default) or node-redis
  --prefix <prefix>    key prefix of the locks (default: hilok:)
  --separator <sep>    tree path separator (default: /)
  --json               machine-readable output (inspect, release; watch: one line per interval);
                       a failure prints {"ok":false,"error":{code,exitCode,message}} on stdout
  -h, --help           help; \`hilok <command> --help\` for a command
  -v, --version        print the version

Exit codes: 0 ok, 1 operation failed (lock not found or not ours, refused), 2 usage error,
3 Redis unreachable (or no sentinel / no instance of a Redlock set answers) or bad URL.
`;

const COMMANDS: Record<string, (argv: string[], io: CliIO) => Promise<number>> = {
  inspect: inspectCommand,
  watch: watchCommand,
  release: releaseCommand,
  demo: demoCommand,
};

/** The process's own streams and environment. */
export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

/**
 * Run the `hilok` command line `argv` (without `node` and the script) and resolve with the
 * exit code; messages go to `io.stderr`. With `--json` a failure also prints one
 * {@link JsonFailure} object on `io.stdout`. Never throws and never calls `process.exit`.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      if (command === 'help' && rest[0] && COMMANDS[rest[0]]) return await (COMMANDS[rest[0]] as (a: string[], i: CliIO) => Promise<number>)(['--help'], io);
      (command === undefined ? io.stderr : io.stdout).write(MAIN_HELP);
      return command === undefined ? ExitCode.Usage : ExitCode.Ok;
    }
    if (command === '--version' || command === '-v') {
      io.stdout.write(`${VERSION}\n`);
      return ExitCode.Ok;
    }
    const run = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
    if (!run) throw new UsageError(`unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
    return await run(rest, io);
  } catch (err) {
    const failure = describeFailure(err);
    io.stderr.write(`hilok: ${failure.stderr}\n`);
    if (failure.code === 'USAGE') io.stderr.write(`Run \`hilok ${command && COMMANDS[command] ? `${command} ` : ''}--help\` for usage.\n`);
    if (wantsJson(argv)) {
      const out: JsonFailure = { ok: false, error: { code: failure.code, exitCode: failure.exitCode, message: failure.message } };
      io.stdout.write(JSON.stringify(out) + '\n');
    }
    return failure.exitCode;
  }
}

/** Whether the command line asks for `--json` (looked up in the raw arguments: a usage error may come before parsing ends). */
function wantsJson(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** An error of a command as its exit code, `--json` code and messages. */
function describeFailure(err: unknown): { code: CliErrorCode; exitCode: ExitCodeValue; message: string; stderr: string } {
  if (err instanceof CliError) return { code: err.code, exitCode: err.exitCode, message: err.message, stderr: err.message };
  if (isHilokError(err) && err.code === 'REDIS_UNAVAILABLE') {
    return { code: 'UNREACHABLE', exitCode: ExitCode.Unreachable, message: err.message, stderr: `Redis failed: ${err.message}` };
  }
  const e = err as { code?: string; message?: string; name?: string };
  const message = e?.message ?? String(err);
  if (/ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection is closed|The client is closed|Socket closed/i.test(`${e?.code} ${e?.message}`)) {
    return { code: 'UNREACHABLE', exitCode: ExitCode.Unreachable, message, stderr: `lost the connection to Redis: ${message}` };
  }
  return { code: 'FAILED', exitCode: ExitCode.Failed, message, stderr: message };
}

/** The package version, read from package.json (one level above both src/ and dist/). */
export const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
