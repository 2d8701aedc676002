import { describe, expect, it } from 'vitest';
import { checkHistory, conflicts, FencedResource, liveReplyTimeout, type HistoryEvent } from '../src/index.js';

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
  it('a hold ends at its lease validity, not only at its release', () => {
    const events = [...hold('a', 'A', 0, 5_000, 1), ...hold('b', 'B', 1_001, 1_100, 2)];
    expect(checkHistory(events).violations).toEqual([]);
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
  it('a hold whose validity ended before its grant was known is never acted on: no overlap, no fence check', () => {
    const late = ev(200, 'A', 'acquire:ok', { hold: 'a', kind: 'mutex', resource: 'x', mode: 'write', fence: 9, validUntil: 150 });
    expect(checkHistory([late, ...hold('b', 'B', 210, 300, 2)]).violations).toEqual([]);
    expect(checkHistory([late, ...hold('b', 'B', 210, 300, 2)]).acquisitions).toBe(2);
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
