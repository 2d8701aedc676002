/**
 * A lock client in its own process, driven over IPC by {@link spawnWorker}. Started as
 * `node --import tsx worker.ts <url> <name>`; every reply carries the events recorded since
 * the previous one, so a SIGKILLed worker has already reported everything it knew.
 */
import { Actor, type ActorAcquireOptions, type ActorHold } from './actor.js';
import type { LockTarget } from './conflict.js';
import { Recorder } from './recorder.js';
import { FENCED_WRITE_LUA } from './resource.js';

/** A request from the parent. */
export type WorkerRequest =
  | { id: number; cmd: 'acquire'; target: LockTarget; opts: ActorAcquireOptions }
  | { id: number; cmd: 'status'; hold: string }
  | { id: number; cmd: 'fencedWrite'; hold: string; key: string; value: string }
  | { id: number; cmd: 'release'; hold: string }
  | { id: number; cmd: 'close' };

const [url, name] = process.argv.slice(2) as [string, string];
const rec = new Recorder(name);
const actor = new Actor(name, rec, { url });
const holds = new Map<string, ActorHold>();
let sent = 0;

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'acquire': {
      const h = await actor.acquire(req.target, req.opts);
      if (!h) return { ok: false };
      holds.set(h.hold, h);
      return { ok: true, hold: h.hold, fence: h.lease.fence };
    }
    case 'status': {
      const h = holds.get(req.hold);
      return { aborted: h?.lease.signal.aborted ?? false, reason: String((h?.lease.signal.reason as Error | undefined)?.message ?? ''), held: h?.lease.held ?? false };
    }
    case 'fencedWrite': {
      // A naive client that writes with its token even after its lease ran out: the resource must refuse.
      const h = holds.get(req.hold) as ActorHold;
      const accepted = (await actor.redis.eval(FENCED_WRITE_LUA, 1, req.key, h.lease.fence, req.value)) === 1;
      rec.record({ hold: h.hold, type: accepted ? 'write:ok' : 'write:rejected', fence: h.lease.fence, detail: h.lease.held ? 'valid' : 'stale' });
      return { accepted };
    }
    case 'release': {
      const h = holds.get(req.hold) as ActorHold;
      return { removed: await actor.release(h) };
    }
    case 'close':
      await actor.close();
      setTimeout(() => process.exit(0), 10);
      return { closed: true };
  }
}

process.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (result) => {
      const events = rec.events.slice(sent);
      sent = rec.events.length;
      process.send?.({ id: req.id, result, events });
    },
    (err: unknown) => process.send?.({ id: req.id, error: String(err), events: [] }),
  );
});
process.send?.({ id: 0, result: 'ready', events: [] });
