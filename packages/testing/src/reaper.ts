import { rmSync } from 'node:fs';

/**
 * Every redis-server this process started and has not yet seen exit, by pid, and every temp
 * dir not yet removed. A test run that crashes, or a script that forgets `stop()`, must not
 * leave servers behind: they would hold ports and memory until the machine reboots.
 */
const livePids = new Set<number>();
const liveDirs = new Set<string>();
let installed = false;

/** SIGKILLs every tracked server and removes every tracked dir, synchronously. */
function reapAll(): void {
  for (const pid of livePids) {
    try {
      // SIGKILL also ends a SIGSTOPped (paused) server, which would ignore SIGTERM.
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: it is a temp dir
    }
  }
  liveDirs.clear();
}

/**
 * On a fatal signal, reap, then let the signal do what it would have done: if ours is the only
 * listener, re-raise it with the default disposition (Node would otherwise stop exiting on
 * SIGINT just because a listener exists). If the program has its own listeners, they decide,
 * and the 'exit' hook still reaps if they exit.
 */
function onSignal(signal: NodeJS.Signals): void {
  reapAll();
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  // 'exit' runs on normal end, process.exit() and uncaught exceptions; only sync work counts.
  process.on('exit', reapAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
}

/** Tracks a started server process so it is SIGKILLed if this process exits first. */
export function trackPid(pid: number): void {
  install();
  livePids.add(pid);
}

/** Stops tracking a server process (it exited). */
export function untrackPid(pid: number): void {
  livePids.delete(pid);
}

/** Tracks a temp dir so it is removed if this process exits first. */
export function trackDir(dir: string): void {
  install();
  liveDirs.add(dir);
}

/** Stops tracking a temp dir (it was removed). */
export function untrackDir(dir: string): void {
  liveDirs.delete(dir);
}
