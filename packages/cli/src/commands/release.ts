import { HiLok, ReadWriteLock, type ScriptArg } from '@hilok/core';
import {
  ScriptRunner,
  decodeTreeItem,
  fairChannel,
  fairKeys,
  fairReleaseArgs,
  mutexChannel,
  mutexKeys,
  mutexReleaseArgs,
  parseStoredMutex,
  readFairRelease,
  readRelease,
  readSemaphoreRelease,
  scripts,
  semaphoreKeys,
  treeChannel,
  treeKeys,
} from '@hilok/core/internal';
import { connect, type Connection } from '../connect.js';
import { CliError, ExitCode, UsageError } from '../errors.js';
import type { KeyKind } from '../keys.js';
import { oneTarget, parseCommand, parseKinds, type CliIO, type GlobalOptions } from '../options.js';
import { confirm } from '../prompt.js';
import { formatTtl } from '../render.js';
import { readSnapshot, serverNow, type HoldView } from '../snapshot.js';

/** Help of `hilok release`. */
export const RELEASE_HELP = `Usage: hilok release <path|name> --id <id> [options]
       hilok release <path|name> --force [--yes] [options]

Release exactly one hold: the one with owner id <id> on that lock (ids are shown by
\`hilok inspect\`). It goes through the lock's own release script, which checks the owner
atomically, so another owner's hold is never touched. A reentrant mutex hold is released
completely (every entry). Waiters are woken as by a normal release.

--force ends every hold of the named lock instead, after a confirmation:
  mutex, fair, rw   deletes that lock's keys (and only those)
  tree path         releases every hold on exactly that path through the release script
                    (a tree's keys are shared by all its paths, so none are deleted)
  semaphore         releases every hold through the semaphore's release script (keys
                    kept: its waiters keep their places and are handed the permits in order)

Options:
  --id <id>            the owner id of the hold to release
  --force              end every hold of the lock (asks first)
  -y, --yes            do not ask (for scripts)
  --kind <k[,k]>       only look at these kinds: tree, rw, mutex, fair, semaphore (default: all)
  --json               print the outcome as JSON
  --url <url>          Redis URL (default: $REDIS_URL or redis://127.0.0.1:6379); a cluster
                       node's URL reaches every master of the cluster
  --sentinel <h:p>     reach the master through sentinels (repeat, or comma-separate)
  --name <master>      the master's name for --sentinel
  --driver <name>      ioredis (default) or node-redis
  --prefix <prefix>    key prefix of the locks (default: hilok:)
  --separator <sep>    tree path separator (default: /)
  -h, --help           show this help

Exit codes: 0 released, 1 no such hold (expired, or nothing to force), held by someone else,
or confirmation refused, 2 usage error, 3 Redis unreachable or bad URL. With --json a failure
prints {"ok":false,"error":{"code","exitCode","message"}} on stdout (codes NOT_FOUND, BUSY,
ABORTED, USAGE, UNREACHABLE, BAD_URL).
`;

/** What a release did, as printed with `--json`. */
export interface ReleaseOutcome {
  /** `id`: one hold by owner id; `force`: every hold of the lock. */
  action: 'id' | 'force';
  /** The lock name / path given. */
  path: string;
  /** Holds ended (for `force` on keys: the holds that were live when they were deleted). */
  released: { kind: KeyKind; path: string; id: string; mode: 'read' | 'write' }[];
  /** Keys deleted by `--force` (none for tree paths or `--id`). */
  deletedKeys: string[];
}

/** `hilok release`: end one hold by id, or (with `--force`) every hold of a lock; returns the exit code. */
export async function releaseCommand(argv: string[], io: CliIO): Promise<number> {
  const { global, values, positionals } = parseCommand(
    argv,
    { id: { type: 'string' }, force: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, kind: { type: 'string' } },
    io.env,
  );
  if (global.help) {
    io.stdout.write(RELEASE_HELP);
    return ExitCode.Ok;
  }
  if (positionals.length !== 1) throw new UsageError(`release takes exactly one lock name or path, got ${positionals.length}`);
  const name = positionals[0] as string;
  if (name === '') throw new UsageError('the lock name must not be empty');
  const id = values.id as string | undefined;
  const force = values.force === true;
  if (force && id !== undefined) throw new UsageError('give either --id or --force, not both');
  if (!force && (id === undefined || id === '')) throw new UsageError('release needs --id <id> (see `hilok inspect`), or --force');
  const kinds = new Set<KeyKind>(parseKinds(values.kind) ?? ['tree', 'rw', 'mutex', 'fair', 'semaphore']);

  oneTarget(global, 'release');
  const conn = await connect(global.target, global.driver);
  try {
    const outcome = force ? await forceRelease(conn, io, global, name, kinds, values.yes === true) : await releaseById(conn, global, name, id as string, kinds);
    if (global.json) io.stdout.write(JSON.stringify(outcome, null, 2) + '\n');
    else if (force) {
      io.stdout.write(
        `forced "${name}": ${outcome.released.length} hold(s) ended` + (outcome.deletedKeys.length ? `, deleted ${outcome.deletedKeys.join(', ')}` : '') + '\n',
      );
    } else {
      for (const r of outcome.released) io.stdout.write(`released ${r.kind} ${r.mode} hold ${r.id} on "${r.path}"\n`);
    }
    return ExitCode.Ok;
  } finally {
    await conn.close();
  }
}

const str = (v: unknown): string | null => (v === null || v === undefined ? null : Buffer.isBuffer(v) ? v.toString() : String(v));

function splitsAsPath(name: string, separator: string): boolean {
  return name.split(separator).every((s) => s.length > 0);
}

async function releaseById(conn: Connection, g: GlobalOptions, name: string, id: string, kinds: Set<KeyKind>): Promise<ReleaseOutcome> {
  const outcome: ReleaseOutcome = { action: 'id', path: name, released: [], deletedKeys: [] };
  const elsewhere: string[] = [];
  const runner = new ScriptRunner(conn.adapter);
  const run = (script: (typeof scripts)['mutexRelease'], keys: string[], args: ScriptArg[]) => runner.run(script, keys, args, { timeoutMs: 5_000 });
  const now = await serverNow(conn);

  // Trees and read-write locks: find the hold by id (read-only), then the class's own release.
  for (const kind of ['tree', 'rw'] as const) {
    if (!kinds.has(kind)) continue;
    if (kind === 'tree' && !splitsAsPath(name, g.separator)) continue;
    if (kind === 'rw' && name.includes('\0')) continue;
    const root = kind === 'tree' ? (name.split(g.separator)[0] as string) : name;
    const info = str(await conn.command(['HGET', treeKeys(g.prefix, kind, root)[0], `h:${id}`]));
    const hold = info === null ? null : decodeTreeItem(`h:${id}`, info);
    if (!hold || hold.expiry <= now) continue;
    if (hold.path !== name) {
      elsewhere.push(`${kind} path "${hold.path}"`);
      continue;
    }
    const lock = kind === 'tree' ? new HiLok(conn.adapter, { prefix: g.prefix, separator: g.separator }) : new ReadWriteLock(conn.adapter, { prefix: g.prefix });
    try {
      if (await lock.release(name, id)) outcome.released.push({ kind, path: name, id, mode: hold.mode === 'w' ? 'write' : 'read' });
    } finally {
      await lock.close();
    }
  }
  // Mutex flavours: core's release script (owner-checked); once per reentrant entry.
  if (kinds.has('mutex')) {
    const keys = mutexKeys(g.prefix, name);
    const value = str(await conn.command(['GET', keys[0]]));
    const held = value === null ? null : parseStoredMutex(value);
    if (held?.owner === id && held.count > 0) {
      let left = held.count;
      for (let i = 0; i <= held.count && left > 0; i++) left = readRelease((await run(scripts.mutexRelease, keys, mutexReleaseArgs(id)) as unknown[])[0]).left;
      if (left === 0) outcome.released.push({ kind: 'mutex', path: name, id, mode: 'write' });
    }
  }
  if (kinds.has('fair')) {
    const keys = fairKeys(g.prefix, name);
    if (str(await conn.command(['HGET', keys[0], 'o'])) === id && readFairRelease(((await run(scripts.fairRelease, keys, fairReleaseArgs(id, fairChannel(keys[0])))) as unknown[])[0])) {
      outcome.released.push({ kind: 'fair', path: name, id, mode: 'write' });
    }
  }
  // Semaphores: a live hold of that id (read-only check), then core's owner-checked release script.
  if (kinds.has('semaphore') && (await releaseSemaphoreHold(conn, runner, g.prefix, name, id, now))) {
    outcome.released.push({ kind: 'semaphore', path: name, id, mode: 'read' });
  }
  if (outcome.released.length === 0) {
    // Someone else's live hold on exactly this lock: BUSY; nothing live there: NOT_FOUND (both exit 1).
    const snap = await readSnapshot(conn, { prefix: g.prefix, path: name, separator: g.separator, kinds: [...kinds] });
    const others = snap.holds.filter((h) => h.path === name && h.id !== id);
    const where = elsewhere.length ? `; that id holds ${elsewhere.join(' and ')}` : '';
    if (others.length) {
      const owners = others.map((h) => `${h.kind} ${h.mode} ${h.id}`).join(', ');
      throw new CliError(`no live hold with id ${id} on "${name}": it is held by someone else (${owners})${where}`, ExitCode.Failed, 'BUSY');
    }
    const hint = elsewhere.length ? ` (that id holds ${elsewhere.join(' and ')})` : ' (it expired or was released)';
    throw new CliError(`no live hold with id ${id} on "${name}"${hint}`, ExitCode.Failed, 'NOT_FOUND');
  }
  return outcome;
}

async function forceRelease(conn: Connection, io: CliIO, g: GlobalOptions, name: string, kinds: Set<KeyKind>, yes: boolean): Promise<ReleaseOutcome> {
  const outcome: ReleaseOutcome = { action: 'force', path: name, released: [], deletedKeys: [] };
  const snap = await readSnapshot(conn, { prefix: g.prefix, path: name, separator: g.separator, kinds: [...kinds] });
  const holdsOf = (kind: KeyKind) => snap.holds.filter((h) => h.kind === kind && h.path === name);
  const plan: { describe: string; keys: string[]; wake: string[]; holds: HoldView[]; tree?: boolean; semaphore?: boolean }[] = [];
  const existing = async (keys: string[]) => {
    const found: string[] = [];
    for (const k of keys) if (str(await conn.command(['TYPE', k])) !== 'none') found.push(k);
    return found;
  };

  if (kinds.has('mutex')) {
    const lockKeys = mutexKeys(g.prefix, name);
    const keys = await existing(lockKeys);
    // Queued waiters are woken (any payload but a hand-off wakes one per process) and retry.
    if (keys.length) plan.push({ describe: `mutex "${name}"`, keys, wake: [mutexChannel(lockKeys[0])], holds: holdsOf('mutex') });
  }
  if (kinds.has('fair')) {
    const keys = await existing(fairKeys(g.prefix, name));
    if (keys.length) plan.push({ describe: `fair lock "${name}"`, keys, wake: [], holds: holdsOf('fair') });
  }
  if (kinds.has('rw') && !name.includes('\0')) {
    const keys = await existing(treeKeys(g.prefix, 'rw', name));
    if (keys.length) plan.push({ describe: `read-write lock "${name}"`, keys, wake: [treeChannel(g.prefix, 'rw', name, name)], holds: holdsOf('rw') });
  }
  if (kinds.has('tree') && splitsAsPath(name, g.separator)) {
    const holds = holdsOf('tree');
    if (holds.length) plan.push({ describe: `tree path "${name}"`, keys: [], wake: [], holds, tree: true });
  }
  if (kinds.has('semaphore')) {
    const holds = holdsOf('semaphore');
    if (holds.length) plan.push({ describe: `semaphore "${name}"`, keys: [], wake: [], holds, semaphore: true });
  }
  if (plan.length === 0) throw new CliError(`nothing to release: no hilok lock "${name}" under prefix "${g.prefix}"`, ExitCode.Failed, 'NOT_FOUND');

  const lines = plan.map((p) => {
    const holds = p.holds.map((h) => `${h.mode} ${h.id} (ttl ${formatTtl(h.ttl)})`).join(', ') || 'no live hold';
    return p.tree || p.semaphore ? `  ${p.describe}: release ${p.holds.length} hold(s): ${holds}` : `  ${p.describe}: delete ${p.keys.join(', ')} — ${holds}`;
  });
  io.stderr.write(`hilok release --force "${name}" will:\n${lines.join('\n')}\n`);
  if (!yes && !(await confirm(io, 'Proceed?'))) throw new CliError('aborted: nothing was changed', ExitCode.Failed, 'ABORTED');

  for (const p of plan) {
    if (p.semaphore) {
      const runner = new ScriptRunner(conn.adapter);
      const now = await serverNow(conn);
      for (const h of p.holds) if (await releaseSemaphoreHold(conn, runner, g.prefix, name, h.id, now)) outcome.released.push({ kind: 'semaphore', path: name, id: h.id, mode: h.mode });
      continue;
    }
    if (p.tree) {
      const lock = new HiLok(conn.adapter, { prefix: g.prefix, separator: g.separator });
      try {
        for (const h of p.holds) if (await lock.release(name, h.id)) outcome.released.push({ kind: 'tree', path: name, id: h.id, mode: h.mode });
      } finally {
        await lock.close();
      }
      continue;
    }
    await conn.command(['DEL', ...p.keys]);
    for (const channel of p.wake) await conn.command(['PUBLISH', channel, p.describe.startsWith('mutex') ? '1' : 'all']);
    outcome.deletedKeys.push(...p.keys);
    outcome.released.push(...p.holds.map((h) => ({ kind: h.kind, path: h.path, id: h.id, mode: h.mode })));
  }
  return outcome;
}

/**
 * Release the semaphore hold `id` of `name` if it is live (`ZSCORE` on the holders key first, read
 * only), through core's `semaphore/release.lua`: owner-checked, and it hands the permits to the
 * waiters in line (keys and reply from core's semaphore protocol).
 */
async function releaseSemaphoreHold(conn: Connection, runner: ScriptRunner, prefix: string, name: string, id: string, now: number): Promise<boolean> {
  const keys = semaphoreKeys(prefix, name);
  const expiry = str(await conn.command(['ZSCORE', keys[0], id]));
  if (expiry === null || Number(expiry) <= now) return false;
  return readSemaphoreRelease(await runner.run(scripts.semaphoreRelease, keys, [id], { timeoutMs: 5_000 })).released;
}
