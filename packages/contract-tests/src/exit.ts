import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** How a child process ended: its stdout, stderr, and ms from its "done" line to its exit (or `Infinity`). */
export interface ChildExit {
  stdout: string;
  stderr: string;
  /** Ms between the child's last line of output and its exit; `Infinity` if it had not exited after `waitMs`. */
  lingeredMs: number;
}

/**
 * Run a TypeScript file with tsx (sources mapped by `tsconfig`, as vitest's aliases do) and see
 * whether it exits by itself once done: killed after `waitMs` of lingering.
 */
export function runChild(file: string, args: string[], tsconfig: string, waitMs = 5_000): Promise<ChildExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: ROOT,
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let doneAt: number | undefined;
    let killer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      stdout += String(d);
      if (doneAt === undefined && stdout.includes('done')) {
        doneAt = performance.now();
        killer = setTimeout(() => child.kill('SIGKILL'), waitMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += String(d)));
    child.on('exit', (_code, signal) => {
      clearTimeout(killer);
      const lingeredMs = doneAt === undefined || signal === 'SIGKILL' ? Infinity : performance.now() - doneAt;
      resolve({ stdout, stderr, lingeredMs });
    });
  });
}
