import { describe, expect, it } from 'vitest';
import { Registry } from '../src/engine/registry.js';

describe('Registry (the live members a long-lived object tracks)', () => {
  it('adds, removes through the slot from anywhere in the list, and counts', () => {
    const registry = new Registry<string>();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((v) => registry.add(v));
    expect(registry.size).toBe(4);
    expect(registry.values()).toEqual(['d', 'c', 'b', 'a']);
    expect(registry.delete(b!)).toBe(true); // middle
    expect(registry.delete(d!)).toBe(true); // head
    expect(registry.delete(a!)).toBe(true); // tail
    expect(registry.values()).toEqual(['c']);
    expect(registry.size).toBe(1);
    expect(registry.delete(c!)).toBe(true);
    expect(registry.values()).toEqual([]);
    expect(registry.size).toBe(0);
  });

  it('a slot removed twice is removed once; a removed slot holds no other member', () => {
    const registry = new Registry<number>();
    const first = registry.add(1);
    const second = registry.add(2);
    registry.add(3);
    expect(registry.delete(second)).toBe(true);
    expect(registry.delete(second)).toBe(false);
    expect(second.prev).toBeUndefined();
    expect(second.next).toBeUndefined();
    expect(registry.size).toBe(2);
    expect(registry.values()).toEqual([3, 1]);
    expect(registry.delete(first)).toBe(true);
    expect(registry.delete(first)).toBe(false);
    expect(registry.values()).toEqual([3]);
  });

  it('a removed slot lets go of its member (a lease that keeps its slot must not be kept alive by it)', () => {
    const registry = new Registry<{ name: string }>();
    const member = { name: 'lease' };
    const slot = registry.add(member);
    expect(slot.value).toBe(member);
    registry.delete(slot);
    expect(slot.value).toBeUndefined();
    expect(registry.values()).toEqual([]);
  });

  it('slots() is a snapshot: removing members while going through it visits each once', () => {
    const registry = new Registry<number>();
    for (let i = 0; i < 5; i++) registry.add(i);
    const seen: (number | undefined)[] = [];
    for (const slot of registry.slots()) {
      seen.push(slot.value);
      registry.delete(slot);
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);
    expect(registry.size).toBe(0);
    registry.add(9);
    expect(registry.values()).toEqual([9]);
  });
});
