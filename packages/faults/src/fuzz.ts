import fc from 'fast-check';
import { sendCommand, startProxy, type RedisServer } from '@hilok/testing';
import { Actor, type ActorHold } from './actor.js';
import { checkHistory, type CheckResult } from './checker.js';
import { conflicts, type LockTarget } from './conflict.js';
import { Recorder } from './recorder.js';
import { RmwCounter } from './resource.js';
import { keysAfterQuiescence } from './scenarios.js';

/** Targets the fuzzer picks from: one mutex (guarding the counter) and a small HiLok tree. */
const TARGETS: LockTarget[] = [
  { kind: 'mutex', resource: 'fz', mode: 'write' },
  { kind: 'hilok', resource: 'fz', mode: 'write' },
  { kind: 'hilok', resource: 'fz', mode: 'read' },
  { kind: 'hilok', resource: 'fz/a', mode: 'write' },
  { kind: 'hilok', resource: 'fz/a/b', mode: 'read' },
  { kind: 'hilok', resource: 'fz/a/b', mode: 'write' },
];

type Step =
  | { t: 'acquire'; client: number; target: number; block: boolean }
  | { t: 'release'; client: number }
  | { t: 'extend'; client: number }
  | { t: 'increment'; client: number }
  | { t: 'fault'; fault: 'pubsub' | 'pauseWrite' | 'reset' }
  | { t: 'gap'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('acquire' as const), client: fc.nat(2), target: fc.nat(TARGETS.length - 1), block: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('release' as const), client: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('extend' as const), client: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('increment' as const), client: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fault' as const), fault: fc.constantFrom('pubsub' as const, 'pauseWrite' as const, 'reset' as const) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('gap' as const), ms: fc.integer({ min: 0, max: 40 }) }) },
);

/** Options of {@link fuzzSchedule}. */
export interface FuzzOptions {
  server: RedisServer;
  /** Property runs (schedules). */
  runs: number;
  /** Steps per schedule (max). */
  maxSteps: number;
  /** Replay a failure: the seed (and path) fast-check printed. */
  seed?: number;
  path?: string;
}

/** Totals over every schedule run. */
export interface FuzzReport {
  runs: number;
  acquisitions: number;
  indeterminate: number;
  faults: number;
  violations: number;
}

/**
 * fast-check chooses a schedule of acquire / release / extend / lock-guarded increment steps for
 * three clients (each through one proxy, each running its own steps in order, concurrently with
 * the others) interleaved with gaps and faults {`CLIENT KILL TYPE pubsub`, `CLIENT PAUSE 150
 * WRITE`, proxy reset}. Each schedule's history must pass {@link checkHistory} (counter
 * included) and leave no key. A failure throws fast-check's report, with the seed and path to
 * replay it (`FAULTS_SEED=… FAULTS_PATH=…`).
 */
export async function fuzzSchedule(o: FuzzOptions): Promise<FuzzReport> {
  const totals: FuzzReport = { runs: 0, acquisitions: 0, indeterminate: 0, faults: 0, violations: 0 };
  const proxy = await startProxy({ targetPort: o.server.port });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 5, maxLength: o.maxSteps }), async (steps) => {
        const result = await runSchedule(o.server, proxy, steps, totals);
        totals.runs++;
        totals.acquisitions += result.check.acquisitions;
        totals.indeterminate += result.check.indeterminate;
        totals.violations += result.check.violations.length;
        if (result.check.violations.length > 0 || result.keys > 0) {
          throw new Error(`violations: ${JSON.stringify(result.check.violations.slice(0, 5))}; keys left: ${result.keys}`);
        }
      }),
      { numRuns: o.runs, seed: o.seed, path: o.path, endOnFailure: true, verbose: 1 },
    );
  } finally {
    await proxy.stop();
  }
  return totals;
}

async function runSchedule(
  server: RedisServer,
  proxy: Awaited<ReturnType<typeof startProxy>>,
  steps: Step[],
  totals: FuzzReport,
): Promise<{ check: CheckResult; keys: number }> {
  const rec = new Recorder('fuzz');
  const ttl = 1_000;
  const counter = new RmwCounter();
  const actors = [0, 1, 2].map((k) => new Actor(`c${k}`, rec, { url: proxy.url, commandTimeout: 1_500 }));
  const held: ActorHold[][] = [[], [], []];
  const queues: Promise<unknown>[] = [Promise.resolve(), Promise.resolve(), Promise.resolve()];
  const enqueue = (k: number, fn: () => Promise<unknown>) => (queues[k] = (queues[k] as Promise<unknown>).then(fn));
  try {
    for (const s of steps) {
      switch (s.t) {
        case 'gap':
          await new Promise((r) => setTimeout(r, s.ms));
          break;
        case 'fault':
          totals.faults++;
          rec.record({ type: 'fault', detail: s.fault });
          if (s.fault === 'pubsub') await sendCommand(server.port, 'CLIENT', 'KILL', 'TYPE', 'pubsub').catch(() => undefined);
          else if (s.fault === 'pauseWrite') await sendCommand(server.port, 'CLIENT', 'PAUSE', 150, 'WRITE');
          else proxy.reset();
          break;
        case 'acquire':
          enqueue(s.client, async () => {
            const target = TARGETS[s.target] as LockTarget;
            // Never nest conflicting holds in one client (it would wait for itself until its ttl).
            if (held[s.client]!.some((h) => conflicts(h.target, target))) return;
            const h = await actors[s.client]!.acquire(target, { ttl, timeout: s.block ? 2_500 : 0 });
            if (h) held[s.client]!.push(h);
          });
          break;
        case 'release':
          enqueue(s.client, async () => {
            const h = held[s.client]!.shift();
            if (h) await actors[s.client]!.release(h);
          });
          break;
        case 'extend':
          enqueue(s.client, async () => {
            const h = held[s.client]![0];
            if (h && h.lease.held) await actors[s.client]!.extend(h);
          });
          break;
        case 'increment':
          enqueue(s.client, async () => {
            const h = held[s.client]!.find((x) => x.target.kind === 'mutex');
            if (h) await actors[s.client]!.guarded(h, () => counter.increment(Math.random() * 3));
          });
          break;
      }
    }
    await Promise.all(queues);
    await Promise.all(held.flatMap((list, k) => list.map((h) => actors[k]!.release(h))));
  } finally {
    await Promise.all(actors.map((a) => a.close()));
  }
  // Only the schedule's own keys: the background load may be running meanwhile.
  const keys = await keysAfterQuiescence(server, ttl + 3_500, ['faults:']);
  return { check: checkHistory(rec.events, { counter: { final: counter.value } }), keys };
}
