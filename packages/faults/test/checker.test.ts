import { describe, expect, it } from 'vitest';
import { checkHistory, conflicts, FencedResource, type HistoryEvent } from '../src/index.js';

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
