import { describe, expect, it } from 'vitest';
import { checkHistory, conflictGroups, conflicts, FencedResource, liveReplyTimeout, pathsGroupTargets, pathsTarget, type HistoryEvent, type PathPart } from '../src/index.js';

const ev = (t: number, client: string, type: HistoryEvent['type'], extra: Partial<HistoryEvent> = {}): HistoryEvent => ({ t, client, type, ...extra });
const hold = (id: string, client: string, from: number, to: number, fence: number, extra: Partial<HistoryEvent> = {}): HistoryEvent[] => [
  ev(from, client, 'acquire:ok', { hold: id, kind: 'mutex', resource: 'x', mode: 'write', fence, validUntil: from + 1_000, ...extra }),
  ev(to, client, 'release:invoke', { hold: id, validUntil: from + 1_000 }),
];

describe('the checker itself catches violations', () => {
  it('overlapping mutex holds', () => {
    const r = checkHistory([...hold('a', 'A', 0, 100, 1), ...hold('b', 'B', 50, 150, 2)]);
    expect(r.violations.map((v) => v.rule)).toContain('overlap');
  });
  it("the user's oracle: a hold does not end at its lease validity — only at its release or its signal's abort", () => {
    // A's validity ended at 1 000, but its program never learnt it: no release, no abort before B's grant.
    const events = [...hold('a', 'A', 0, 5_000, 1), ...hold('b', 'B', 1_001, 1_100, 2)];
    expect(checkHistory(events).violations.map((v) => v.rule)).toEqual(['overlap']);
  });
  it('a hold ends when its signal aborts: in time → clean, with the signal lead time measured', () => {
    const events = [...hold('a', 'A', 0, 5_000, 1), ev(990, 'A', 'lost', { hold: 'a' }), ...hold('b', 'B', 1_001, 1_100, 2)];
    const r = checkHistory(events);
    expect(r.violations).toEqual([]);
    expect(r.signalLeads).toEqual([{ hold: 'a', client: 'A', leadMs: 11, next: 'b' }]);
  });
  it('the signal aborts late (after another client was granted the lock) → overlap, negative lead', () => {
    // The issue-16 observation: B granted at 1 976 ms, A's signal at 5 691 ms.
    const events = [...hold('a', 'A', 0, 8_000, 1), ev(5_691, 'A', 'lost', { hold: 'a' }), ...hold('b', 'B', 1_976, 2_100, 2)];
    const r = checkHistory(events);
    expect(r.violations.map((v) => v.rule)).toEqual(['overlap']);
    expect(r.signalLeads.map((l) => Math.round(l.leadMs))).toEqual([1_976 - 5_691]);
  });
  it('a hold neither released nor signalled lost is held for good: any later conflicting grant is a violation', () => {
    const a = ev(0, 'A', 'acquire:ok', { hold: 'a', kind: 'mutex', resource: 'x', mode: 'write', fence: 1, validUntil: 1_000 });
    expect(checkHistory([a, ...hold('b', 'B', 60_000, 60_100, 2)]).violations.map((v) => v.rule)).toEqual(['overlap']);
    // A release call (the program stops acting there) ends it, whatever the release's outcome.
    expect(checkHistory([a, ev(50_000, 'A', 'release:invoke', { hold: 'a' }), ...hold('b', 'B', 60_000, 60_100, 2)]).violations).toEqual([]);
  });
  it("a client's process SIGKILLed (exit) ends its holds; one SIGSTOPped makes its overlaps out of the model", () => {
    const a = ev(0, 'A', 'acquire:ok', { hold: 'a', kind: 'mutex', resource: 'x', mode: 'write', fence: 1, validUntil: 600 });
    expect(checkHistory([a, ev(100, 'A', 'exit'), ...hold('b', 'B', 700, 800, 2)]).violations).toEqual([]);
    // Frozen from 100 ms; its signal aborts only after SIGCONT (1 700 ms), B was granted at 900 ms.
    const frozen = [a, ev(100, 'A', 'pause'), ev(1_700, 'A', 'resume'), ev(1_701, 'A', 'lost', { hold: 'a' }), ...hold('b', 'B', 900, 1_000, 2)];
    const r = checkHistory(frozen);
    expect(r.violations).toEqual([]);
    expect(r.outOfModelOverlaps).toBe(1);
    expect(r.signalLeads).toEqual([]);
    // Without the pause the same history is an overlap.
    expect(checkHistory(frozen.filter((e) => e.type !== 'pause')).violations.map((v) => v.rule)).toEqual(['overlap']);
  });
  it('holds whose fence the program never saw (NaN) skip the fence check but not the overlap check', () => {
    expect(checkHistory([...hold('a', 'A', 0, 100, NaN), ...hold('b', 'B', 200, 300, 5), ...hold('c', 'C', 400, 500, 6)]).violations).toEqual([]);
    expect(checkHistory([...hold('a', 'A', 0, 250, NaN), ...hold('b', 'B', 200, 300, 5)]).violations.map((v) => v.rule)).toEqual(['overlap']);
  });
  it('fences that do not increase', () => {
    const r = checkHistory([...hold('a', 'A', 0, 100, 5), ...hold('b', 'B', 200, 300, 5)]);
    expect(r.violations.map((v) => v.rule)).toEqual(['fence-order']);
  });
  it('HiLok conflict rule: ancestor write vs descendant read conflict; reads never do; siblings never do', () => {
    expect(conflicts({ kind: 'hilok', resource: 'a', mode: 'write' }, { kind: 'hilok', resource: 'a/b', mode: 'read' })).toBe(true);
    expect(conflicts({ kind: 'hilok', resource: 'a', mode: 'read' }, { kind: 'hilok', resource: 'a/b', mode: 'read' })).toBe(false);
    expect(conflicts({ kind: 'hilok', resource: 'a/b', mode: 'write' }, { kind: 'hilok', resource: 'a/bc', mode: 'write' })).toBe(false);
    const r = checkHistory([
      ...hold('a', 'A', 0, 100, 1, { kind: 'hilok', resource: 'a' }),
      ...hold('b', 'B', 50, 150, 2, { kind: 'hilok', resource: 'a/b', mode: 'read' }),
    ]);
    expect(r.violations.map((v) => v.rule)).toContain('overlap');
  });
  it('semaphore: live holds over the limit on one name are a violation (over-limit); within it, or on other names, they are not', () => {
    const sem = (id: string, from: number, to: number, fence: number, permits: number, limit: number, resource = 's') => [
      ev(from - 1, id, 'acquire:invoke', { hold: id }),
      ...hold(id, id, from, to, fence, { kind: 'semaphore', resource, mode: permits >= limit ? 'write' : 'read', permits, limit }),
    ];
    // Three single-permit holds under limit 2: no two conflict, three at once do.
    const three = [...sem('a', 0, 100, 1, 1, 2), ...sem('b', 10, 100, 2, 1, 2), ...sem('c', 20, 100, 3, 1, 2)];
    expect(checkHistory(three).violations.map((v) => v.rule)).toEqual(['over-limit']);
    // Limit 3: fine. One ended before the third grant: fine. The third on another name: fine.
    expect(checkHistory([...sem('a', 0, 100, 1, 1, 3), ...sem('b', 10, 100, 2, 1, 3), ...sem('c', 20, 100, 3, 1, 3)]).violations).toEqual([]);
    expect(checkHistory([...sem('a', 0, 15, 1, 1, 2), ...sem('b', 10, 100, 2, 1, 2), ...sem('c', 20, 100, 3, 1, 2)]).violations).toEqual([]);
    expect(checkHistory([...sem('a', 0, 100, 1, 1, 2), ...sem('b', 10, 100, 2, 1, 2), ...sem('c', 20, 100, 3, 1, 2, 't')]).violations).toEqual([]);
    // Several permits: 3 + 2 > 4.
    expect(checkHistory([...sem('a', 0, 100, 1, 3, 4), ...sem('b', 50, 100, 2, 2, 4)]).violations.map((v) => v.rule)).toEqual(['over-limit']);
    // A hold whose signal aborted before the grant no longer counts (and its lead is measured).
    const lost = [...sem('a', 0, 500, 1, 2, 2), ev(40, 'a', 'lost', { hold: 'a' }), ...sem('b', 50, 100, 2, 1, 2)];
    expect(checkHistory(lost).violations).toEqual([]);
    expect(checkHistory(lost).signalLeads).toEqual([{ hold: 'a', client: 'a', leadMs: 10, next: 'b' }]);
    // Fences: a hold called after another was granted must have the larger fence; concurrent calls may learn of theirs in any order.
    expect(checkHistory([...sem('a', 0, 100, 5, 1, 4), ...sem('b', 10, 100, 4, 1, 4)]).violations.map((v) => v.rule)).toEqual(['fence-order']);
    const racing = [ev(0, 'a', 'acquire:invoke', { hold: 'a' }), ...hold('a', 'a', 20, 100, 5, { kind: 'semaphore', resource: 's', mode: 'read', permits: 1, limit: 4 }), ...sem('b', 10, 100, 4, 1, 4)];
    expect(checkHistory(racing).violations).toEqual([]);
  });
  it('multi-name mutex holds conflict with any hold on any of their names, reported once per pair', () => {
    const multi = (id: string, from: number, to: number, fence: number, names: string[]) => hold(id, id, from, to, fence, { resource: names.join('+'), names });
    expect(conflicts({ kind: 'mutex', resource: 'a+b', mode: 'write', names: ['a', 'b'] }, { kind: 'mutex', resource: 'b', mode: 'write' })).toBe(true);
    expect(conflicts({ kind: 'mutex', resource: 'a+b', mode: 'write', names: ['a', 'b'] }, { kind: 'mutex', resource: 'c+d', mode: 'write', names: ['c', 'd'] })).toBe(false);
    expect(checkHistory([...multi('p', 0, 100, 1, ['a', 'b']), ...multi('q', 50, 150, 2, ['b', 'c'])]).violations.map((v) => v.rule)).toEqual(['overlap']);
    expect(checkHistory([...multi('p', 0, 100, 1, ['a', 'b']), ...multi('q', 50, 150, 2, ['a', 'b'])]).violations.map((v) => v.rule)).toEqual(['overlap']);
    expect(checkHistory([...multi('p', 0, 100, 1, ['a', 'b']), ...hold('q', 'Q', 50, 150, 2, { resource: 'a' })]).violations.map((v) => v.rule)).toEqual(['overlap']);
    expect(checkHistory([...multi('p', 0, 100, 1, ['a', 'b']), ...multi('q', 50, 150, 2, ['c', 'd'])]).violations).toEqual([]);
    // Fences per name: a later hold on any shared name needs a larger fence.
    expect(checkHistory([...multi('p', 0, 100, 5, ['a', 'b']), ...hold('q', 'Q', 200, 300, 3, { resource: 'b' })]).violations.map((v) => v.rule)).toEqual(['fence-order']);
  });
  it('HiLok multi-path holds are the set of their parts: they conflict when any two parts do (related paths of one tree, at least one a write)', () => {
    const paths = (id: string, from: number, to: number, fence: number, parts: PathPart[]) => {
      const t = pathsTarget(parts);
      return hold(id, id, from, to, fence, { kind: 'hilok', resource: t.resource, mode: t.mode, parts: t.parts });
    };
    const single = (id: string, from: number, to: number, fence: number, path: string, mode: 'read' | 'write') => hold(id, id, from, to, fence, { kind: 'hilok', resource: path, mode });
    const w = (path: string): PathPart => ({ path, mode: 'write' });
    const r = (path: string): PathPart => ({ path, mode: 'read' });
    // The pair rule.
    expect(conflicts(pathsTarget([w('a/x'), r('a/y')]), pathsTarget([w('a/y'), r('b/z')]))).toBe(true); // a/y: read vs write
    expect(conflicts(pathsTarget([w('a/x'), r('a/y')]), pathsTarget([r('a/y'), w('b/z')]))).toBe(false); // a/y read twice; a/x, b/z unrelated
    expect(conflicts(pathsTarget([r('a/x/k'), r('b')]), pathsTarget([w('b/z')]))).toBe(true); // b ancestor of b/z
    expect(conflicts(pathsTarget([r('a/x'), w('b/z')]), { kind: 'hilok', resource: 'a', mode: 'write' })).toBe(true); // a single hold
    expect(conflicts(pathsTarget([r('a/x'), w('b/z')]), { kind: 'hilok', resource: 'b/y', mode: 'write' })).toBe(false);
    expect(conflictGroups(pathsTarget([w('a/x'), r('b/z'), r('a/y')]))).toEqual(['h:a', 'h:b']);
    // Overlapping multi-path histories: conflicting through the second tree only, through a read part, against a single hold.
    expect(checkHistory([...paths('p', 0, 100, 1, [w('a/x'), r('b/z')]), ...paths('q', 50, 150, 2, [r('a/y'), w('b')])]).violations.map((v) => v.rule)).toEqual(['overlap']);
    expect(checkHistory([...paths('p', 0, 100, 1, [w('a/x'), r('a/y')]), ...paths('q', 50, 150, 2, [w('a/y')])]).violations.map((v) => v.rule)).toEqual(['overlap']);
    expect(checkHistory([...paths('p', 0, 100, 1, [w('a/x'), r('b/z')]), ...single('q', 50, 150, 2, 'b', 'write')]).violations.map((v) => v.rule)).toEqual(['overlap']);
    // A pair conflicting in both trees is reported once.
    expect(checkHistory([...paths('p', 0, 100, 1, [w('a/x'), w('b/z')]), ...paths('q', 50, 150, 2, [w('a'), w('b')])]).violations.map((v) => v.rule)).toEqual(['overlap']);
    // Not overlapping: shared reads, unrelated paths, one released before the other's grant.
    expect(checkHistory([...paths('p', 0, 100, 1, [w('a/x'), r('a/y'), r('b/z')]), ...paths('q', 50, 150, 2, [r('a/y'), w('b/w'), r('b/z')])]).violations).toEqual([]);
    expect(checkHistory([...paths('p', 0, 100, 1, [w('a/x'), r('b/z')]), ...paths('q', 100, 150, 2, [w('a'), w('b')])]).violations).toEqual([]);
    // Fences per part: a later conflicting hold needs a larger fence than the part it conflicts with, not than the hold's largest.
    const fenced = (id: string, from: number, to: number, parts: (PathPart & { fence: number })[]) =>
      hold(id, id, from, to, Math.max(...parts.map((p) => p.fence)), { kind: 'hilok', resource: pathsTarget(parts).resource, mode: 'write', parts });
    expect(checkHistory([...fenced('p', 0, 100, [{ ...w('a/x'), fence: 10 }, { ...w('b/z'), fence: 20 }]), ...single('q', 200, 300, 15, 'a', 'write')]).violations).toEqual([]);
    expect(checkHistory([...fenced('p', 0, 100, [{ ...w('a/x'), fence: 10 }, { ...w('b/z'), fence: 20 }]), ...single('q', 200, 300, 15, 'b', 'write')]).violations.map((v) => v.rule)).toEqual(['fence-order']);
    expect(checkHistory([...single('q', 0, 100, 15, 'b/z', 'write'), ...fenced('p', 200, 300, [{ ...w('a/x'), fence: 20 }, { ...r('b'), fence: 12 }])]).violations.map((v) => v.rule)).toEqual(['fence-order']);
    // The load's targets: every two holds with a write part conflict (one counter per group is exact); the read-only one meets only those with a write where it reads.
    const targets = pathsGroupTargets('n');
    const writes = targets.filter((t) => t.mode === 'write');
    for (const a of writes) for (const b of writes) expect(conflicts(a, b)).toBe(true);
    expect(targets.filter((t) => t.mode === 'read').length).toBe(1);
  });
  it('lost updates, and indeterminate writes counted as "may have happened"', () => {
    const writes = [ev(1, 'A', 'write:ok'), ev(2, 'B', 'write:ok'), ev(3, 'C', 'write:fail', { indeterminate: true })];
    expect(checkHistory(writes, { counter: { final: 1 } }).violations.map((v) => v.rule)).toEqual(['lost-update']);
    expect(checkHistory(writes, { counter: { final: 2 } }).violations).toEqual([]);
    expect(checkHistory(writes, { counter: { final: 3 } }).violations).toEqual([]);
    expect(checkHistory(writes, { counter: { final: 4 } }).violations.map((v) => v.rule)).toEqual(['lost-update']);
  });
  it('HiLok fences: a later conflicting hold on an ancestor or descendant path must have a larger fence; siblings and read/read pairs need not', () => {
    const h = (id: string, from: number, fence: number, resource: string, mode: 'read' | 'write') => hold(id, id, from, from + 10, fence, { kind: 'hilok', resource, mode });
    expect(checkHistory([...h('a', 0, 5, 't/a', 'write'), ...h('b', 100, 3, 't/a/b', 'read')]).violations.map((v) => v.rule)).toEqual(['fence-order']);
    expect(checkHistory([...h('a', 0, 5, 't/a', 'read'), ...h('b', 100, 3, 't', 'write')]).violations.map((v) => v.rule)).toEqual(['fence-order']);
    expect(checkHistory([...h('a', 0, 5, 't/a', 'write'), ...h('b', 100, 3, 't/c', 'write')]).violations).toEqual([]);
    expect(checkHistory([...h('a', 0, 5, 't/a', 'read'), ...h('b', 100, 3, 't', 'read')]).violations).toEqual([]);
    // Not just the previous hold: the largest earlier conflicting fence counts.
    expect(checkHistory([...h('a', 0, 9, 't', 'write'), ...h('b', 100, 10, 't/c', 'read'), ...h('c', 200, 8, 't/a', 'write')]).violations.map((v) => v.rule)).toEqual(['fence-order']);
  });
  it('shared counters are checked per key, against the writes tagged with it', () => {
    const writes = [ev(1, 'A', 'write:ok', { counter: 'k1' }), ev(2, 'B', 'write:ok', { counter: 'k1' }), ev(3, 'C', 'write:ok', { counter: 'k2' })];
    expect(checkHistory(writes, { counters: { k1: 2, k2: 1 } }).violations).toEqual([]);
    expect(checkHistory(writes, { counters: { k1: 1, k2: 1 } }).violations.map((v) => v.rule)).toEqual(['lost-update']);
    expect(checkHistory(writes, { counters: { k1: 2, k2: 2 } }).violations.map((v) => v.rule)).toEqual(['lost-update']);
  });
  it('a loss point (Redis restarted empty): overlaps across it are out of the model, within one lifetime they are violations', () => {
    const across = [...hold('a', 'A', 0, 500, 1), ...hold('b', 'B', 200, 300, 2)];
    const r = checkHistory(across, { lossPoints: [100] });
    expect(r.violations).toEqual([]);
    expect(r.outOfModelOverlaps).toBe(1);
    expect(checkHistory(across, { lossPoints: [250] }).violations.map((v) => v.rule)).toEqual(['overlap']);
    // An increment under a hold live across the loss point may have been lost; others may not.
    const writes = [ev(400, 'A', 'write:ok', { hold: 'a', counter: 'k' }), ev(250, 'B', 'write:ok', { hold: 'b', counter: 'k' })];
    expect(checkHistory([...across, ...writes], { lossPoints: [100], counters: { k: 1 } }).violations).toEqual([]);
    expect(checkHistory([...across, ...writes], { lossPoints: [100], counters: { k: 0 } }).violations.map((v) => v.rule)).toEqual(['lost-update']);
  });
  it('a late grant whose signal had already aborted when the acquire resolved is never acted on: no overlap, no fence check', () => {
    const late = ev(200, 'A', 'acquire:ok', { hold: 'a', kind: 'mutex', resource: 'x', mode: 'write', fence: 9, validUntil: 150, abortedAtGrant: true });
    expect(checkHistory([late, ...hold('b', 'B', 210, 300, 2)]).violations).toEqual([]);
    expect(checkHistory([late, ...hold('b', 'B', 210, 300, 2)]).acquisitions).toBe(2);
    // Validity over but the signal not aborted yet: the program may act, so the hold is checked.
    const acted = ev(200, 'A', 'acquire:ok', { hold: 'a', kind: 'mutex', resource: 'x', mode: 'write', fence: 9, validUntil: 150 });
    expect(checkHistory([acted, ev(400, 'A', 'lost', { hold: 'a' }), ...hold('b', 'B', 210, 300, 2)]).violations.map((v) => v.rule).sort()).toEqual(['fence-order', 'overlap']);
  });
  it('Redlock R1: a QuorumError is explained only by a reply timeout of an instance that was not faulted', () => {
    const detail = 'QuorumError:REDIS_UNAVAILABLE:causes=0:ReplyTimeoutError,2:ReplyTimeoutError,3:ReplyTimeoutError:acquire of "rl" reached 0 of 3';
    expect(liveReplyTimeout(detail, [0, 2])).toBe(true);
    expect(liveReplyTimeout(detail, [0, 2, 3])).toBe(false);
    expect(liveReplyTimeout('QuorumError:REDIS_UNAVAILABLE:causes=0:ReplyTimeoutError,1:ReplyTimeoutError,4:ReplyError:x', [0, 1])).toBe(false);
  });
  it('calls past their bound', () => {
    const r = checkHistory([ev(2_000, 'A', 'call', { startedAt: 0, bound: 1_500, detail: 'acquire' })]);
    expect(r.violations.map((v) => v.rule)).toEqual(['bound']);
  });
  it('the fenced resource rejects stale tokens', () => {
    const res = new FencedResource();
    expect(res.write(10, 'a')).toBe(true);
    expect(res.write(10, 'a2')).toBe(true);
    expect(res.write(9, 'stale')).toBe(false);
    expect(res.write(11, 'b')).toBe(true);
  });
});
