import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Recorder } from './recorder.js';

const workerPath = fileURLToPath(new URL('./worker.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A lock client running in a child process (see `worker.ts`). */
export interface WorkerHandle {
  readonly name: string;
  readonly child: ChildProcess;
  /** Send a request; resolves with the worker's result (its events are merged into the recorder). */
  request<T = Record<string, unknown>>(req: Record<string, unknown>): Promise<T>;
  /** Send a signal (SIGKILL, SIGSTOP, SIGCONT …). */
  signal(sig: NodeJS.Signals): void;
  /** Ask it to close, or SIGKILL it if it does not within 3 s. */
  stop(): Promise<void>;
  /** Merge its events into `rec` from now on (a worker reused by several scenarios). */
  useRecorder(rec: Recorder): void;
}

/**
 * Spawn `node --import tsx worker.ts` from the repo root (tsx resolves from the root
 * node_modules; `TSX_TSCONFIG_PATH` maps `@hilok/*` to the sources, as vitest's aliases do).
 */
export async function spawnWorker(url: string, name: string, rec: Recorder): Promise<WorkerHandle> {
  return spawnScript(workerPath, [url, name], name, rec);
}

/**
 * Spawn `node --import tsx <script> ...args` speaking the worker IPC protocol (`{ id, result |
 * error, events }` replies, id 0 = ready, id -1 = events only, sent while a long request runs);
 * see {@link spawnWorker}.
 */
export async function spawnScript(script: string, args: string[], name: string, recorder: Recorder): Promise<WorkerHandle> {
  let rec = recorder;
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  let exited = false;
  const ready = new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (msg: { id: number; result?: unknown; error?: string; events: never[] }) => {
      rec.merge(msg.events);
      if (msg.id === 0) return resolve();
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error !== undefined) p?.reject(new Error(msg.error));
      else p?.resolve(msg.result);
    });
    child.once('exit', (code, sig) => {
      exited = true;
      const err = new Error(`worker ${name} exited (${code ?? sig})`);
      reject(err);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    });
  });
  await ready;
  return {
    name,
    child,
    request<T>(req: Record<string, unknown>): Promise<T> {
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        if (exited) return reject(new Error(`worker ${name} has exited`));
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ ...req, id });
      });
    },
    signal(sig) {
      if (!exited) child.kill(sig);
    },
    useRecorder(r) {
      rec = r;
    },
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGCONT');
      const id = next++;
      child.send({ cmd: 'close', id });
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await gone;
      clearTimeout(timer);
    },
  };
}
