/**
 * A Redlock client in its own process, driven over IPC (see `spawnScript`). Started as
 * `node --import tsx redlock-worker.ts <config JSON> <name>`; on `{ cmd: 'run', deadline }` it
 * runs the contention loop of `redlockChaos` and replies with its acquisitions and events.
 */
import type { LockTarget } from './conflict.js';
import { Recorder } from './recorder.js';
import { contend, redisCounter, redlockClient } from './redlock.js';

interface Config {
  urls: string[];
  resourceUrl: string;
  counterKey: string;
  ttl: number;
  instanceTimeout: number;
  targets: LockTarget[];
  perClient: number;
}

const [json, name] = process.argv.slice(2) as [string, string];
const config = JSON.parse(json) as Config;
const rec = new Recorder(name);
const rl = redlockClient(name, rec, config.urls, { ttl: config.ttl, instanceTimeout: config.instanceTimeout });
const counter = redisCounter(config.resourceUrl, config.counterKey);
let sent = 0;

type Request = { id: number; cmd: 'run'; deadline: number } | { id: number; cmd: 'close' };

async function handle(req: Request): Promise<unknown> {
  if (req.cmd === 'run') return { got: await contend(rl.client, config.targets, config.perClient, req.deadline, counter) };
  await rl.close();
  counter.redis.disconnect();
  setTimeout(() => process.exit(0), 10);
  return { closed: true };
}

process.on('message', (req: Request) => {
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
