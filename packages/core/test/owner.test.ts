import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, parseOwner } from '@hilok/core';
import { checkApp, formatOwner, grantedAt, nextOwnerToken, ownerTokenPrefix } from '@hilok/core/internal';

// Owner tokens (issue 21): what they carry, that they never repeat, and what is not one.
describe('owner tokens', () => {
  const host = hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64) || 'localhost';

  it('carry app, host, pid and process start, and read back', () => {
    const token = nextOwnerToken(ownerTokenPrefix('billing-worker'));
    const owner = parseOwner(token);
    expect(owner).toEqual({ app: 'billing-worker', host, pid: process.pid, startedAt: expect.any(Number) });
    expect(Math.abs((owner?.startedAt ?? 0) - (Date.now() - process.uptime() * 1000))).toBeLessThan(2_000);
    expect(formatOwner(owner!)).toBe(`billing-worker@${host}:${process.pid}`);
    const bare = parseOwner(nextOwnerToken(ownerTokenPrefix(undefined)));
    expect(bare?.app).toBeUndefined();
    expect(formatOwner(bare!)).toBe(`${host}:${process.pid}`);
    // A multi-path part's id (<token>#<path>) names its hold's owner.
    expect(parseOwner(`${token}#shop/catalog`)).toEqual(owner);
  });

  it('never repeat within a process, whatever the app', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      tokens.add(nextOwnerToken(ownerTokenPrefix('a')));
      tokens.add(nextOwnerToken(ownerTokenPrefix(undefined)));
    }
    expect(tokens.size).toBe(2_000);
  });

  it('ids that hilok did not make have no owner', () => {
    for (const id of ['job-42', '6f0c2b9e-1d7a-4c1e-9d3e-2b7f0a1c4d5e', 'a@b', 'host:1:2:3', '', 'x@y:12:abc:1234567.1']) {
      expect(parseOwner(id), id).toBeNull();
    }
    expect(parseOwner(42 as unknown as string)).toBeNull();
  });

  it('checkApp takes 1-64 characters A-Z a-z 0-9 . _ - and refuses the rest with InvalidArgumentError', () => {
    expect(checkApp(undefined)).toBeUndefined();
    expect(checkApp('billing-worker.v2_eu')).toBe('billing-worker.v2_eu');
    for (const bad of ['', ' ', 'a b', 'a@b', 'a:b', 'a#b', 'ü', 'x'.repeat(65), 1, null, {}]) {
      expect(() => checkApp(bad), String(bad)).toThrow(InvalidArgumentError);
    }
  });

  it('grantedAt reads a server-µs fence as ms, and nothing else', () => {
    expect(grantedAt(1_796_628_655_546_982)).toBe(1_796_628_655_546);
    expect(grantedAt(0)).toBeUndefined();
    expect(grantedAt(42)).toBeUndefined();
  });
});
