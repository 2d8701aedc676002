#!/usr/bin/env node
import { main } from './cli.js';

// Exit with main's code once it resolves; stdout is flushed first (process.exitCode, not exit()).
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Lingering sockets or timers must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`hilok: ${String(err)}\n`);
    process.exit(1);
  },
);
