import { describe, expect, it } from 'vitest';
import type { RedisAdapter } from '../src/adapter.js';
import { WakeHub } from '../src/engine/wake-hub.js';

/** A pub/sub link we drive by hand: what arrives on a channel, and when. */
function handDriven(): RedisAdapter & { send(channel: string, message: string): void } {
  const listeners = new Map<string, (message: string) => void>();
  const fail = (): Promise<never> => Promise.reject(new Error('no scripts here'));
  return {
    driver: 'by-hand',
    evalsha: fail,
    eval: fail,
    subscribe: async (channel, onMessage) => void listeners.set(channel, onMessage),
    unsubscribe: async (channel) => void listeners.delete(channel),
    close: async () => undefined,
    send: (channel, message) => listeners.get(channel)?.(message),
  };
}

describe('WakeHub addressed wake-ups (to:<token>)', () => {
  it('wakes only the waiter joined with that token', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const a = await hub.join('c', 'A');
    const b = await hub.join('c', 'B');
    link.send('c', 'to:B');
    expect(await b.sleep(5_000)).toBe(true);
    expect(await a.sleep(20)).toBe(false);
    a.leave();
    b.leave();
    await hub.close();
  });

  it('a message addressed to a waiter before it joined wakes it at its first sleep', async () => {
    // The attempt's reply (command connection) and the release's message (pub/sub connection)
    // race: the message may be handled before the waiter joined the hub.
    const link = handDriven();
    const hub = new WakeHub(link);
    const other = await hub.join('c', 'X'); // keeps the channel subscribed
    link.send('c', 'to:late');
    const late = await hub.join('c', 'late');
    expect(await late.sleep(5_000)).toBe(true);
    late.leave();
    other.leave();
    await hub.close();
  });

  it('remembers only the latest few unclaimed tokens', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const other = await hub.join('c', 'X');
    link.send('c', 'to:old');
    for (let i = 0; i < 100; i++) link.send('c', `to:someone-else-${i}`);
    const old = await hub.join('c', 'old');
    expect(await old.sleep(20)).toBe(false);
    old.leave();
    other.leave();
    await hub.close();
  });

  it('handOff wakes a local waiter without the message', async () => {
    const link = handDriven();
    const hub = new WakeHub(link);
    const w = await hub.join('c', 'T');
    hub.handOff('c', 'T');
    expect(await w.sleep(5_000)).toBe(true);
    w.leave();
    await hub.close();
  });
});
