import { execFile } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli.js';

/** The repository root; the CLI runs from its TypeScript source there (no build needed). */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
/** The CLI entry point. */
export const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
/** The node arguments that run the CLI from source: tsx, with the root tsconfig's paths mapping @hilok/* to src. */
export const NODE_ARGS = ['--import', 'tsx', BIN];
/** Environment for a spawned CLI. */
export const CLI_ENV = { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL("./tsconfig.source.json", import.meta.url)), NO_COLOR: '1', REDIS_URL: '' };

/** Result of one CLI run. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run the CLI in a child process (real exit codes), from the TypeScript source. */
export function spawnCli(args: string[], options: { input?: string; timeout?: number; env?: Record<string, string> } = {}): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [...NODE_ARGS, ...args], { cwd: ROOT, env: { ...CLI_ENV, ...options.env }, timeout: options.timeout ?? 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin?.end(options.input ?? '');
  });
}

/** Run the CLI in this process through `main` (fast), with `input` as stdin. */
export async function runCli(args: string[], input = ''): Promise<Run> {
  const started = performance.now();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await main(args, { stdout, stderr, stdin: Readable.from([input]), env: { NO_COLOR: '1' } });
  return { code, stdout: out, stderr: err, ms: performance.now() - started };
}

let counter = 0;
/** A fresh key prefix, so tests on one server never see each other's locks. */
export function freshPrefix(): string {
  return `t${process.pid}x${++counter}:`;
}
