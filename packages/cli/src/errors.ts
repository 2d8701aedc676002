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

/** An error that ends the command with a given exit code and a one-line message. */
export class CliError extends Error {
  /** @param message - shown on stderr; @param exitCode - the process exit code */
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A bad command line (exit code 2). */
export class UsageError extends CliError {
  /** @param message - what is wrong with the command line */
  constructor(message: string) {
    super(message, ExitCode.Usage);
    this.name = 'UsageError';
  }
}

/** Redis unreachable or a malformed URL (exit code 3). */
export class UnreachableError extends CliError {
  /** @param message - what could not be reached, and why */
  constructor(message: string) {
    super(message, ExitCode.Unreachable);
    this.name = 'UnreachableError';
  }
}
