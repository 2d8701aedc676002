/**
 * A process of the background load (see `load.ts`), driven over IPC by `LoadPool`. Started as
 * `node --import tsx load-worker.ts <name>`. `{ cmd: 'run', spec }` runs the spec's clients
 * until `{ cmd: 'stop' }`; meanwhile it streams its events every 200 ms (`id: -1`), so the
 * parent's history stays current and a killed worker has reported nearly all it knew.
 */
import { runLoad, type LoadSpec } from './load.js';
import { Recorder } from './recorder.js';

type Request = { id: number; cmd: 'run'; spec: LoadSpec } | { id: number; cmd: 'stop' } | { id: number; cmd: 'close' };

const [name] = process.argv.slice(2) as [string];
const rec = new Recorder(name);
let sent = 0;
let stopped = false;

/** The events recorded since the last message. */
function fresh() {
  const events = rec.events.slice(sent);
  sent = rec.events.length;
  return events;
}

async function handle(req: Request): Promise<unknown> {
  switch (req.cmd) {
    case 'run': {
      stopped = false;
      const flush = setInterval(() => process.send?.({ id: -1, events: fresh() }), 200);
      try {
        return { got: await runLoad(req.spec, rec, `${req.spec.tag}${name}.`, () => stopped) };
      } finally {
        clearInterval(flush);
      }
    }
    case 'stop':
      stopped = true;
      return { stopped: true };
    case 'close':
      setTimeout(() => process.exit(0), 10);
      return { closed: true };
  }
}

/** Reply with the events since the last message; after a run, forget them (the parent has them all). */
function reply(req: Request, body: { result?: unknown; error?: string }): void {
  process.send?.({ id: req.id, ...body, events: fresh() });
  if (req.cmd === 'run') {
    rec.events.length = 0;
    sent = 0;
  }
}

process.on('message', (req: Request) => {
  handle(req).then(
    (result) => reply(req, { result }),
    (err: unknown) => reply(req, { error: String(err) }),
  );
});
process.send?.({ id: 0, result: 'ready', events: [] });
