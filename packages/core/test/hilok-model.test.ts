/**
 * Property-based check of HiLok's conflict rule against an in-memory reference model, on a real
 * redis-server through ioredis. Three clients (separate HiLok instances, separate connections)
 * run random non-blocking reads and writes, multi-path requests (1–3 parts, merged or rejected as
 * docs/hilok.md says, granted all or none), releases and expirations on a small tree; every
 * acquire outcome (granted vs LockBusyError) must be the model's, and a busy error must name a live
 * conflicting hold (path, mode, a write's id). On failure fast-check prints
 * the seed and path to replay the counterexample: `fc.assert(..., { seed, path })`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HiLok, InvalidArgumentError, LockBusyError } from '@hilok/ioredis';
// core does not depend on @hilok/testing (no lockfile change for a test): import it by path.
import { startRedis, type RedisServer } from '../../testing/src/index.js';
import { treeParts } from '../src/hilok/paths.js';

/** The tree: depth ≤ 3, about two names per level, plus an unrelated root. */
const PATHS = ['a', 'a/b', 'a/c', 'a/b/d', 'x'] as const;
type Path = (typeof PATHS)[number];
type Mode = 'read' | 'write';
const CLIENTS = 3;
/** Long enough that no hold expires by itself during a run: only `expire` ends one early. */
const TTL = 10_000;

type Command =
  | { kind: 'acquire'; client: number; mode: Mode; path: Path }
  | { kind: 'acquireAll'; client: number; parts: { mode: Mode; path: Path }[] }
  | { kind: 'release'; pick: number }
  | { kind: 'expire'; pick: number };

interface ModelHold {
  client: number;
  mode: Mode;
  path: Path;
  id: string;
}

/** P is P, or an ancestor or a descendant of Q (segment-wise, so `a` is not an ancestor of `ab`). */
function related(p: string, q: string): boolean {
  return p === q || q.startsWith(`${p}/`) || p.startsWith(`${q}/`);
}

/**
 * The reference merge of a multi-path request (docs/hilok.md "The request"): the same path twice
 * is one part, write if either is; a part below a write part, or a read below a read, is dropped;
 * a write below only read parts is rejected (`null`).
 */
export function mergeParts(parts: readonly { mode: Mode; path: Path }[]): { mode: Mode; path: Path }[] | null {
  const byPath = new Map<Path, Mode>();
  for (const p of parts) byPath.set(p.path, byPath.get(p.path) === 'write' ? 'write' : p.mode);
  const all = [...byPath].map(([path, mode]) => ({ path, mode }));
  const kept = [];
  for (const p of all) {
    const above = all.filter((q) => p.path.startsWith(`${q.path}/`));
    if (p.mode === 'write' && above.length > 0 && !above.some((q) => q.mode === 'write')) return null;
    if (above.length === 0) kept.push(p);
  }
  return kept.sort((x, y) => (x.path < y.path ? -1 : 1));
}

/** The reference rule: related paths, and at least one of the two holds is a write. */
export function conflicts(a: { mode: Mode; path: string }, b: { mode: Mode; path: string }): boolean {
  return related(a.path, b.path) && (a.mode === 'write' || b.mode === 'write');
}

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      client: fc.integer({ min: 0, max: CLIENTS - 1 }),
      mode: fc.constantFrom<Mode>('read', 'write'),
      path: fc.constantFrom(...PATHS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('acquireAll' as const),
      client: fc.integer({ min: 0, max: CLIENTS - 1 }),
      parts: fc.array(fc.record({ mode: fc.constantFrom<Mode>('read', 'write'), path: fc.constantFrom(...PATHS) }), { minLength: 1, maxLength: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat({ max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('expire' as const), pick: fc.nat({ max: 7 }) }) },
);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('hilok: the merge of a multi-path request', () => {
  it('does not depend on the order of the list: a write part covers everything below it', () => {
    const parts = [
      { mode: 'write', path: 'a' },
      { mode: 'read', path: 'a/b' },
      { mode: 'write', path: 'a/b/d' },
    ] as const;
    for (const order of [parts, [...parts].reverse(), [parts[1], parts[2], parts[0]]]) {
      expect(treeParts(order, '/').map((p) => ({ mode: p.mode, path: p.path }))).toEqual([{ mode: 'write', path: 'a' }]);
      expect(mergeParts(order)).toEqual([{ mode: 'write', path: 'a' }]);
    }
    expect(() => treeParts([{ mode: 'read', path: 'a' }, { mode: 'write', path: 'a/b' }], '/')).toThrow(InvalidArgumentError);
    expect(mergeParts([{ mode: 'read', path: 'a' }, { mode: 'write', path: 'a/b' }])).toBeNull();
  });
});

describe('hilok: random histories match the reference model', () => {
  let server: RedisServer;
  let run = 0;

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('acquire outcomes, releases and cleanup (3 clients, read/write/release/expire)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 20, maxLength: 20 }), async (commands) => {
        // A prefix per run keeps runs apart: keys an expired hold leaves until its old ttl
        // (see the cleanup test below) must not leak into the next run's key check.
        const prefix = `hilok:m${++run}:`;
        const clients = Array.from({ length: CLIENTS }, () => new HiLok(server.url, { ttl: TTL, prefix }));
        const live: ModelHold[] = [];
        let expired = false;
        try {
          for (const cmd of commands) {
            if (cmd.kind === 'acquire') {
              const want = live.some((h) => conflicts(h, cmd));
              const hilok = clients[cmd.client] as HiLok;
              const take = cmd.mode === 'read' ? hilok.acquireRead(cmd.path, { block: false }) : hilok.acquireWrite(cmd.path, { block: false });
              const got = await take.then(
                (id) => ({ granted: true as const, id }),
                (err: unknown) => {
                  if (err instanceof LockBusyError) return { granted: false as const, blocker: err.blocker };
                  throw err;
                },
              );
              expect({ ...cmd, granted: got.granted }).toEqual({ ...cmd, granted: !want });
              if (!got.granted) {
                // The busy error names a live hold that conflicts: its path, mode and (a write's) id.
                const b = got.blocker;
                const named = live.some((h) => b !== undefined && h.path === b.path && h.mode === b.mode && b.id === (h.mode === 'write' ? h.id : undefined) && conflicts(h, cmd));
                expect({ ...cmd, blocker: b, named }).toEqual({ ...cmd, blocker: b, named: true });
              }
              if (got.granted) live.push({ client: cmd.client, mode: cmd.mode, path: cmd.path, id: got.id });
            } else if (cmd.kind === 'acquireAll') {
              // Several paths as one hold: all granted or none, by the same rule per part.
              const merged = mergeParts(cmd.parts);
              const hilok = clients[cmd.client] as HiLok;
              const got = await hilok.acquire(cmd.parts, { block: false }).then(
                (hold) => ({ granted: true as const, hold }),
                (err: unknown) => {
                  if (err instanceof LockBusyError) return { granted: false as const, invalid: false };
                  if (err instanceof InvalidArgumentError) return { granted: false as const, invalid: true };
                  throw err;
                },
              );
              if (merged === null) {
                expect({ ...cmd, invalid: !got.granted && got.invalid }).toEqual({ ...cmd, invalid: true });
                continue;
              }
              const want = merged.every((p) => !live.some((h) => conflicts(h, p)));
              expect({ ...cmd, granted: got.granted }).toEqual({ ...cmd, granted: want });
              if (got.granted) {
                expect(got.hold.parts.map((p) => ({ mode: p.mode, path: p.path }))).toEqual(merged);
                // Each part is a hold of its own ("<id>#<path>"): released or expired one by one below.
                got.hold.detach();
                for (const p of merged) live.push({ client: cmd.client, mode: p.mode, path: p.path, id: `${got.hold.id}#${p.path}` });
              }
            } else if (live.length > 0) {
              const [hold] = live.splice(cmd.pick % live.length, 1) as [ModelHold];
              const owner = clients[hold.client] as HiLok;
              if (cmd.kind === 'release') {
                expect(await owner.release(hold.path, hold.id)).toBe(true);
              } else {
                // Re-taking a hold by id refreshes it with the new ttl: 1 ms, then it lapses on
                // the server as if its owner had crashed.
                const retake = hold.mode === 'read' ? owner.acquireRead : owner.acquireWrite;
                expect(await retake.call(owner, hold.path, { id: hold.id, ttl: 1, block: false })).toBe(hold.id);
                await sleep(5);
                expired = true;
              }
            }
          }
          for (const hold of live.splice(0)) {
            expect(await (clients[hold.client] as HiLok).release(hold.path, hold.id)).toBe(true);
          }
          for (const root of ['a', 'x']) expect((await (clients[0] as HiLok).status(root)).holds).toEqual([]);
          const keys = (await server.command('KEYS', `${prefix}*`)) as string[];
          if (!expired) {
            expect(keys).toEqual([]);
          } else {
            // Not yet "no key at all" (see below) — but no key may be immortal or outlive TTL.
            for (const key of keys) {
              const pttl = Number(await server.command('PTTL', key));
              expect({ key, pttl: pttl > 0 && pttl <= TTL }).toEqual({ key, pttl: true });
            }
          }
        } finally {
          await Promise.all(clients.map((c) => c.close()));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('leaves no key once every lease has ended, also after a re-take with a shorter ttl (README "Cleanup")', async () => {
    const prefix = 'hilok:cleanup:';
    const hilok = new HiLok(server.url, { ttl: TTL, prefix });
    try {
      const id = await hilok.acquireWrite('x/y');
      await hilok.acquireWrite('x/y', { id, ttl: 1 }); // the hold now ends in 1 ms
      await sleep(50);
      expect((await hilok.status('x')).holds).toEqual([]);
      // README: "every key expires with the last lease in it". Today the keys keep the longer
      // expiry of the first grant (PEXPIREAT ... GT never shortens) and live ~TTL more.
      expect(await server.command('KEYS', `${prefix}*`)).toEqual([]);
    } finally {
      await hilok.close();
    }
  });
});
