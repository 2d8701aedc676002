/** Exit codes of the `hilok` command, stable for scripts. */
export const ExitCode = {
  /** The command did what was asked. */
  Ok: 0,
  /** The operation failed: the lock was not found, is not ours, or a confirmation was refused. */
  Failed: 1,
  /** Bad command line: unknown command or option, missing argument. */
  Usage: 2,
  /** Redis could not be reached (or did not answer in time), or the URL is malformed. */
  Unreachable: 3,
} as const;

/** One of the values of {@link ExitCode}. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * What went wrong, as `error.code` of the JSON a failing command prints with `--json` (stable
 * for scripts; the exit code groups them: {@link ExitCode}).
 * - `NOT_FOUND` (exit 1): no such hold or lock (expired, released, never there)
 * - `BUSY` (exit 1): the lock is held by someone else (`release --id` with another owner's id)
 * - `ABORTED` (exit 1): the confirmation was refused (or stdin ended), nothing changed
 * - `FAILED` (exit 1): any other failure (the demo saw a conflict, redis-server did not start)
 * - `USAGE` (exit 2): bad command line
 * - `UNREACHABLE` (exit 3): Redis (or every sentinel / Redlock instance) did not answer
 * - `BAD_URL` (exit 3): the Redis URL is malformed
 */
export type CliErrorCode = 'NOT_FOUND' | 'BUSY' | 'ABORTED' | 'FAILED' | 'USAGE' | 'UNREACHABLE' | 'BAD_URL';

/** An error that ends the command with a given exit code and a one-line message. */
export class CliError extends Error {
  /** What went wrong, for `--json` (by default `FAILED`, `USAGE` or `UNREACHABLE`, after the exit code). */
  readonly code: CliErrorCode;
  /**
   * @param message - shown on stderr (and as `error.message` with `--json`)
   * @param exitCode - the process exit code
   * @param code - the error's code for `--json`; by default derived from the exit code
   */
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    code?: CliErrorCode,
  ) {
    super(message);
    this.name = 'CliError';
    this.code = code ?? (exitCode === ExitCode.Usage ? 'USAGE' : exitCode === ExitCode.Unreachable ? 'UNREACHABLE' : 'FAILED');
  }
}

/** A bad command line (exit code 2). */
export class UsageError extends CliError {
  /** @param message - what is wrong with the command line */
  constructor(message: string) {
    super(message, ExitCode.Usage, 'USAGE');
    this.name = 'UsageError';
  }
}

/** Redis unreachable or a malformed URL (exit code 3). */
export class UnreachableError extends CliError {
  /**
   * @param message - what could not be reached, and why
   * @param code - `UNREACHABLE` (default) or `BAD_URL`
   */
  constructor(message: string, code: 'UNREACHABLE' | 'BAD_URL' = 'UNREACHABLE') {
    super(message, ExitCode.Unreachable, code);
    this.name = 'UnreachableError';
  }
}

/** What a failing command prints on stdout with `--json` (one object, then a newline). */
export interface JsonFailure {
  /** Always `false` (a failure). */
  ok: false;
  /** What went wrong. */
  error: {
    /** See {@link CliErrorCode}. */
    code: CliErrorCode;
    /** The process exit code, as {@link ExitCode}. */
    exitCode: ExitCodeValue;
    /** The message also written to stderr (without the `hilok: ` prefix). */
    message: string;
  };
}
