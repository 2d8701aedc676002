import { describe, expect, it } from 'vitest';
import { globToRegExp, isGlob, pathMatcher } from '../src/match.js';

describe('path selection', () => {
  it('a plain path selects itself and what lies below it, after the separator or a colon', () => {
    const m = pathMatcher('invoice', '/');
    expect(['invoice', 'invoice:42', 'invoice/a', 'invoice:42:lines'].filter(m)).toHaveLength(4);
    expect(['invoices', 'invoice-42', 'my-invoice', 'invoic'].some(m)).toBe(false);
    expect(pathMatcher('a.b', '.')('a.b.c')).toBe(true);
    expect(pathMatcher(undefined, '/')('anything')).toBe(true);
  });

  it('a glob matches whole names as SCAN MATCH does', () => {
    expect(isGlob('invoice:*')).toBe(true);
    expect(isGlob('invoice:4?')).toBe(true);
    expect(isGlob('job[12]')).toBe(true);
    expect(isGlob('plain/path:1')).toBe(false);
    expect(isGlob('literal\\*star')).toBe(false);
    const m = pathMatcher('invoice:4*', '/');
    expect(['invoice:4', 'invoice:42', 'invoice:4/x'].every(m)).toBe(true);
    expect(['invoice:5', 'xinvoice:4'].some(m)).toBe(false);
    expect(['shop/catalog', 'shop/orders/1'].every(pathMatcher('shop/*', '/'))).toBe(true);
    expect(pathMatcher('shop/*', '/')('shop')).toBe(false);
    expect(['job1', 'job2'].every(pathMatcher('job[12]', '/'))).toBe(true);
    expect(pathMatcher('job[^12]', '/')('job1')).toBe(false);
    expect(pathMatcher('job[a-c]', '/')('jobb')).toBe(true);
    expect(pathMatcher('a?c', '/')('abc')).toBe(true);
    expect(globToRegExp('spin{1}.*').test('spin{1}.x')).toBe(true);
    expect(globToRegExp('literal\\*star').test('literal*star')).toBe(true);
    expect(globToRegExp('literal\\*star').test('literalXstar')).toBe(false);
  });
});
